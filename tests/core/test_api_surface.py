"""The generated proxy exposes exactly HexChat 2.16's Python API."""

import ast
import inspect
import os
import re

import pytest

from hexsandbox import api_table, proxy

API_REFERENCE = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "api-reference.md")
REAL_HEXCHAT_MODULE = "/usr/lib/x86_64-linux-gnu/hexchat/python/_hexchat.py"


class _NoRuntime:
    current_ctx = None


@pytest.fixture(scope="module")
def module():
    return proxy.build_module(_NoRuntime())


def _names_in_api_reference():
    """Names in the first column of section 1's table of docs/api-reference.md."""
    text = open(API_REFERENCE, encoding="utf-8").read()
    section = text.split("## 1.")[1].split("## 2.")[0]
    names = set()
    for row in section.splitlines():
        if not row.startswith("| ") or row.startswith("| name") or row.startswith("|---"):
            continue
        first = row.split("|")[1]
        for token in re.findall(r"`?([A-Za-z_][A-Za-z_0-9]*)`?", first):
            names.add(token)
    return names


def _real_module_tree():
    return ast.parse(open(REAL_HEXCHAT_MODULE, encoding="utf-8").read())


def test_all_matches_the_api_reference(module):
    assert set(module.__all__) == _names_in_api_reference()


def test_all_matches_real_hexchat_module(module):
    tree = _real_module_tree()
    real_all = next(ast.literal_eval(node.value) for node in tree.body
                    if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "__all__")
    assert sorted(module.__all__) == sorted(real_all)


def test_star_import_gives_exactly_all(module, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "hexchat", module)
    namespace = {}
    exec("from hexchat import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(module.__all__)


def test_constants_and_metadata(module):
    assert (module.EAT_NONE, module.EAT_HEXCHAT, module.EAT_XCHAT, module.EAT_PLUGIN, module.EAT_ALL) == (0, 1, 1, 2, 3)
    assert (module.PRI_HIGHEST, module.PRI_HIGH, module.PRI_NORM, module.PRI_LOW, module.PRI_LOWEST) == (127, 64, 0, -64, -128)
    assert module.__doc__ == "HexChat Scripting Interface"
    assert module.__version__ == (2, 0)


def test_classes_reachable(module):
    for name in ("Context", "ListItem", "Attribute"):
        assert inspect.isclass(getattr(module, name))


def _real_signatures():
    """name -> (positional arg names, defaults as source) from _hexchat.py."""
    sigs = {}
    for node in _real_module_tree().body:
        targets = [node] if isinstance(node, ast.FunctionDef) else []
        if isinstance(node, ast.ClassDef) and node.name == "Context":
            targets = [f for f in node.body if isinstance(f, ast.FunctionDef) and not f.name.startswith("_")]
        for fn in targets:
            key = fn.name if isinstance(node, ast.FunctionDef) else "Context." + fn.name
            args = [a.arg for a in fn.args.args]
            defaults = [ast.unparse(d) for d in fn.args.defaults]
            sigs[key] = (args, defaults, fn.args.vararg is not None, fn.args.kwarg is not None)
    return sigs


def test_signatures_match_real_module(module):
    real = _real_signatures()
    ours = {}
    for name in module.__all__:
        obj = getattr(module, name)
        if callable(obj):
            ours[name] = obj
    for name in ("set", "prnt", "emit_print", "command", "get_info", "get_list"):
        ours["Context." + name] = getattr(module.Context, name)
    assert set(ours) == {k for k in real if not k.startswith("_")} - {"get_getter"}
    for name, fn in ours.items():
        args, defaults, varargs, kwargs = real[name]
        sig = inspect.signature(fn)
        params = [p for p in sig.parameters.values()
                  if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
        assert [p.name for p in params] == args, name
        our_defaults = [p.default for p in params if p.default is not inspect.Parameter.empty]
        real_values = [eval(d, {"PRI_NORM": 0}) for d in defaults]
        assert our_defaults == real_values, name
        assert any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in sig.parameters.values()) == varargs, name
        assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()) == kwargs, name


def test_every_row_has_a_client_handler_or_is_local():
    from hexsandbox import dispatch

    for call in api_table.CALLS:
        if call.name == "unhook":  # local, then tells the client one-way
            assert "unhook" in dispatch.HANDLERS
        elif call.traffic is api_table.Traffic.LOCAL:
            assert call.wire_name not in dispatch.HANDLERS
        else:
            assert call.wire_name in dispatch.HANDLERS, call.wire_name


def test_wrong_argument_types_fail_like_in_process(module):
    with pytest.raises(AttributeError, match="'int' object has no attribute 'encode'"):
        module.prnt(5)
    with pytest.raises(TypeError):
        module.prnt()
    assert module.set_pluginpref("x", 1.5) is False
