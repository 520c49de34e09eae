"""Per-script environments (PEP 723) inside real HexChat, as its own user.

Packages come from PyPI: tomli-w and iniconfig are tiny, pure Python, and not
in Debian's python3 (nor in the sandbox venv HexChat's workers run from).
Installing happens in HexChat's process, in a background thread, into the
e2e user's own cache (the harness gives HexChat a private HOME and
XDG_CACHE_HOME).
"""

import os
import shutil
import subprocess
import tempfile
import time

import pytest

HEAD = "# /// script\n# dependencies = [{deps}]\n# ///\n"

SEES = '''
__module_name__ = "{name}"
import hexchat, importlib.util
{imports}
def sees(word, word_eol, userdata):
    found = [m for m in ("tomli_w", "iniconfig") if importlib.util.find_spec(m) is not None]
    hexchat.prnt("{name} sees [" + ",".join(found) + "]: " + {use})
    return hexchat.EAT_ALL
hexchat.hook_command("SEES_{upper}", sees)
'''


def script(name, deps, imports, use):
    head = HEAD.format(deps=", ".join(f'"{d}"' for d in deps)) if deps is not None else ""
    return head + SEES.format(name=name, upper=name.upper(), imports=imports, use=use)


TOML = script("toml", ["tomli-w"], "import tomli_w", 'tomli_w.dumps({"k": 1}).strip()')
TOML_TOO = script("tomltoo", ["Tomli_W"], "import tomli_w", 'tomli_w.dumps({"k": 2}).strip()')
INI = script("ini", ["iniconfig"], "import iniconfig", "iniconfig.__name__")
TYPO = script("typo", ["tomli-w-hexsandbox-typo"], "import tomli_w", '"never"')
PLAIN = script("plain", None, "", '"nothing"')
NEEDY = script("needy", None, "import tomli_w", 'tomli_w.dumps({"k": 3}).strip()')


@pytest.fixture(scope="module")
def uv_dir():
    """uv, where HexChat's user can run it (this checkout may be private)."""
    folder = tempfile.mkdtemp(prefix="hexsandbox-e2e-uv-", dir="/tmp")
    import uv

    shutil.copy2(uv.find_uv_bin(), os.path.join(folder, "uv"))
    subprocess.run(["chmod", "-R", "a+rX", folder], check=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def process_env(uv_dir, installer):
    path = f"{uv_dir}:/usr/local/bin:/usr/bin:/bin" if installer == "uv" else "/usr/local/bin:/usr/bin:/bin"
    return {"PATH": path, "HEXSANDBOX_INSTALLER": installer}


def lines(hc):
    """Every line HexChat logged, in every tab it ever had (lines printed while
    the server tab was still called NETWORK are in that tab's log, which the
    harness's transcript of today's tabs leaves out)."""
    hc.control.ping()  # a round trip: HexChat has written what it printed before
    found = []
    for folder, _dirs, files in sorted(os.walk(os.path.join(hc.config_dir, "logs"))):
        for name in sorted(files):
            with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
                found += [l.rstrip("\n").split("\t", 1)[-1] for l in f]
    return found


def wait_line(hc, text, timeout=120.0):
    """Each check is a round trip to HexChat's main loop, then a read of its
    logs (no sleep); bounded."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = [l for l in lines(hc) if text in l]
        if found:
            return found[0]
    raise AssertionError(f"no line containing {text!r}; last lines: {lines(hc)[-15:]}")


def events(hc):
    return hc.eval("import hexsandbox.loader as _l\n"
                   "result = [(e.script, e.kind, e.env) for e in (_l.current_host().environments.events if _l.current_host() else [])]")


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_declared_packages_load_are_isolated_and_reused(sandboxed_hexchat_factory, uv_dir, installer):
    hc = sandboxed_hexchat_factory(sandbox={"toml.py": TOML, "ini.py": INI, "plain.py": PLAIN},
                                   process_env=process_env(uv_dir, installer))
    hc.wait_running("plain")  # a script without metadata starts at once, beside the installs
    done = wait_line(hc, "hexsandbox: toml.py: installing tomli-w (1 package)... done in ")
    assert done.endswith(f" s ({installer}).")
    wait_line(hc, "hexsandbox: ini.py: installing iniconfig (1 package)... done in ")
    hc.wait_running("toml", "ini")
    assert "hexsandbox: toml.py: installing tomli-w (1 package)..." in lines(hc)
    # Each sees its own package and not the other's.
    hc.command("sees_toml")
    hc.command("sees_ini")
    hc.command("sees_plain")
    assert wait_line(hc, "toml sees [") == "toml sees [tomli_w]: k = 1"
    assert wait_line(hc, "ini sees [") == "ini sees [iniconfig]: iniconfig"
    assert wait_line(hc, "plain sees [") == "plain sees []: nothing"
    envs = {name: env for name, kind, env in events(hc) if kind == "built"}
    assert set(envs) == {"toml.py", "ini.py"} and envs["toml.py"] != envs["ini.py"]
    cache = os.path.join(hc.base_dir, "home", ".cache", "hexsandbox", "envs")
    assert os.path.dirname(envs["toml.py"]) == cache  # the e2e user's own cache
    # The same set (spelled otherwise) reuses toml.py's environment: no install.
    with open(os.path.join(hc.sandbox_dir, "tomltoo.py"), "w") as f:
        f.write(TOML_TOO)
    os.chmod(os.path.join(hc.sandbox_dir, "tomltoo.py"), 0o644)
    before = len(lines(hc))
    hc.command("load " + os.path.join(hc.sandbox_dir, "tomltoo.py"))
    hc.wait_running("tomltoo")
    assert ["tomltoo.py", "reused", envs["toml.py"]] in events(hc)  # (lists: JSON)
    hc.command("sees_tomltoo")
    assert wait_line(hc, "tomltoo sees [") == "tomltoo sees [tomli_w]: k = 2"
    assert not any("installing" in l for l in lines(hc)[before:])


def test_a_misspelled_package_fails_alone_and_deps_add_fixes_a_missing_import(
        sandboxed_hexchat_factory, uv_dir):
    other_python = script("other", None, "", '"never"')
    hc = sandboxed_hexchat_factory(sandbox={"typo.py": TYPO, "plain.py": PLAIN, "needy.py": NEEDY,
                                            "other.py": other_python},
                                   ini="[script:other.py]\npython = /usr/bin/python3\n",
                                   process_env=process_env(uv_dir, "uv"))
    line = wait_line(hc, "hexsandbox: typo.py: installing tomli-w-hexsandbox-typo (1 package)... failed: ")
    assert line.endswith(". Not loaded.") and "tomli-w-hexsandbox-typo" in line.split("failed: ", 1)[1]
    hc.wait_running("plain")
    assert not any(s["name"] in ("typo", "typo.py") for s in hc.scripts_state())
    hc.command("sees_plain")
    assert wait_line(hc, "plain sees [") == "plain sees []: nothing"
    # A script that imports what it does not declare: the line says how to fix it.
    hint = wait_line(hc, "needs the module 'tomli_w'")
    assert hint == ("hexsandbox: needy.py needs the module 'tomli_w'. Declare it in the script "
                    "(a '# /// script' block with dependencies = [\"tomli_w\"]) "
                    "or type /sandbox deps needy.py add tomli_w")
    source = open(os.path.join(hc.sandbox_dir, "needy.py")).read()
    hc.command("sandbox deps needy.py add tomli-w")
    wait_line(hc, "hexsandbox: needy.py: installing tomli-w (1 package)... done in ")
    hc.wait_running("needy")
    hc.command("sees_needy")
    assert wait_line(hc, "needy sees [") == "needy sees [tomli_w]: k = 3"
    assert open(os.path.join(hc.sandbox_dir, "needy.py")).read() == source
    hc.command("sandbox deps needy")
    assert wait_line(hc, "hexsandbox: needy.py needs: ") == "hexsandbox: needy.py needs: tomli-w (hexsandbox.ini)"
    assert wait_line(hc, "hexsandbox: needy.py installed: ").startswith("hexsandbox: needy.py installed: tomli_w ")
    # [script:NAME] python: Debian's python3 lacks hexsandbox's worker, and says so.
    other = wait_line(hc, "hexsandbox: other.py not loaded: ")
    assert other.startswith("hexsandbox: other.py not loaded: /usr/bin/python3 cannot import hexsandbox ")
    assert not any(s["name"] in ("other", "other.py") for s in hc.scripts_state())
    assert hc.is_running()


def test_quitting_hexchat_stops_a_running_install(sandboxed_hexchat_factory, uv_dir):
    """An index that accepts and never answers keeps uv waiting; HexChat
    quits meanwhile: the installer dies with it and no environment appears."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held = []
    stop = threading.Event()

    def hold():
        listener.settimeout(0.5)
        while not stop.is_set() and len(held) < 32:
            try:
                held.append(listener.accept()[0])
            except socket.timeout:
                continue

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    port = listener.getsockname()[1]
    env = dict(process_env(uv_dir, "uv"), UV_INDEX_URL=f"http://127.0.0.1:{port}/simple",
               UV_HTTP_TIMEOUT="120")
    try:
        hc = sandboxed_hexchat_factory(sandbox={"toml.py": TOML}, process_env=env)
        wait_line(hc, "hexsandbox: toml.py: installing tomli-w (1 package)...")
        end = time.monotonic() + 60
        installers = []
        while not installers and time.monotonic() < end:  # each check reads /proc once
            installers = [p for p in hc.children() if " pip install " in p.cmdline() and held]
        assert installers, [p.cmdline() for p in hc.children()]
        result = hc.stop()
        assert result.clean and result.leftovers == [], result
        for p in installers:
            assert not os.path.exists(f"/proc/{p.pid}") or open(f"/proc/{p.pid}/stat").read().split()[2] == "Z"
    finally:
        stop.set()
        holder.join(5)
        for conn in held:
            conn.close()
        listener.close()
