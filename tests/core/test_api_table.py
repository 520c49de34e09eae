"""The API table is the only description of a call: a new row needs no other
edit, and every row is served by every backend."""

import pytest

from hexsandbox import api_table as api
from hexsandbox.api_table import Call, Kind, Param, Returns, Traffic
from hexsandbox.backend import Backend
from hexsandbox.emulator import Emulator
from hexsandbox.hexchat_backend import HexChatBackend
from hexsandbox.sandbox import core
from hexsandbox.sandbox import Sandbox, State

#: Rows no real table has: each is served by a Backend method of its name.
NEW_ROWS = (
    Call("front_context", (), Traffic.TWOWAY, Returns.CONTEXT, "The context of the front tab."),
    Call("context_alive", (Param("ctx", Kind.INT),), Traffic.TWOWAY, Returns.BOOL,
         "Whether a context handle names an open tab."),
)


SCRIPT = '''
__module_name__ = "rows"
import hexchat
front = hexchat.front_context()
hexchat.prnt("front is #test: %s" % (front == hexchat.find_context(channel="#test")))
hexchat.prnt("alive(1234567): %r" % (hexchat.context_alive(1234567),))
hexchat.prnt("doc: %s" % hexchat.context_alive.__doc__)
'''


def test_a_new_row_is_callable_through_a_real_worker_with_no_other_edit(tmp_path):
    emu = Emulator(config_dir=str(tmp_path))
    emu.connect()
    emu.join("#test", users=["alice"])
    sandbox = Sandbox(emu, extra_calls=NEW_ROWS)
    try:
        path = tmp_path / "rows.py"
        path.write_text(SCRIPT)
        emu.set_context(emu.front_context())  # as if typed in the front tab
        script = sandbox.load(str(path))
        emu.run_until(lambda: script.state is not State.STARTING, timeout=20)
        sandbox.run_in_worker(script, lambda: None)  # a barrier behind the script's calls
        emu.pump()
        lines = [line.lstrip("\t") for line in emu.lines("#test")]
        assert "front is #test: True" in lines, lines
        assert "alive(1234567): False" in lines, "Returns.BOOL gives a real bool"
        assert "doc: Whether a context handle names an open tab." in lines
    finally:
        sandbox.shutdown()


def _served_by(call: Call) -> str:
    if call.traffic is Traffic.HOOK:
        return f"hook_{call.hook}"
    return call.backend_name


@pytest.mark.parametrize("backend", [HexChatBackend, Emulator], ids=["HexChat", "emulator"])
@pytest.mark.parametrize("call", [c for c in api.CALLS + NEW_ROWS if c.traffic is not Traffic.LOCAL],
                         ids=lambda c: c.wire_name)
def test_every_row_has_a_method_on_each_backend(backend, call):
    name = _served_by(call)
    assert callable(getattr(backend, name, None)), f"{backend.__name__} has no {name}()"
    assert hasattr(Backend, name), f"the Backend interface names {name}()"


def test_every_local_row_has_its_worker_body():
    for call in api.CALLS:
        if call.traffic is Traffic.LOCAL:
            assert call.local_body, call.wire_name


def test_every_control_note_has_a_client_handler():
    assert set(core._CONTROL_NOTES) == set(api.CONTROL_NOTES)
