"""The loader's Host on the emulator with environments: autoload, the start
line, /sandbox deps and /sandbox reload after the block changed."""

import pytest

from hexsandbox import __version__
from hexsandbox.client import State
from hexsandbox.config import load_settings
from hexsandbox.emulator import Emulator
from hexsandbox.loader import SETTLE_POLL_MS, Host

SEES = ('__module_name__ = "{name}"\nimport hexchat, importlib.util\n'
        'def sees(w, we, u):\n'
        '    found = [m for m in ("tomli_w", "iniconfig") if importlib.util.find_spec(m)]\n'
        '    hexchat.prnt("{name} sees " + ",".join(found))\n'
        '    return hexchat.EAT_ALL\n'
        'hexchat.hook_command("SEES{name}", sees)\n')


def block(*deps):
    return "# /// script\n# dependencies = [" + ", ".join(f'"{d}"' for d in deps) + "]\n# ///\n"


@pytest.fixture
def host_world(tmp_path, cold_cache):
    emu = Emulator(config_dir=str(tmp_path))
    emu.connect()
    emu.join("#test", users=["alice"])
    folder = tmp_path / "sandbox"
    folder.mkdir()
    (folder / "toml.py").write_text(block("tomli-w") + SEES.format(name="toml"))
    (folder / "plain.py").write_text(SEES.format(name="plain"))
    host = Host(emu, str(tmp_path), load_settings(str(tmp_path)), wakeup="test")
    host.autoload()
    yield emu, folder, host
    host.close()


def lines(emu, context="#test"):
    return [line[1:] if line.startswith("\t") else line for line in emu.lines(emu.context_of(context))]


def settled(emu, host, timeout=120):
    emu.run_until(lambda: not host.environments.pending()
                  and all(s.state is not State.STARTING for s in host.autoloaded), timeout)
    emu.advance(SETTLE_POLL_MS)
    emu.pump()


def sees(emu, name):
    emu.type(f"/SEES{name}", "#test")
    emu.run_until(lambda: any(l.startswith(f"{name} sees") for l in lines(emu)), 20)
    found = [l for l in lines(emu) if l.startswith(f"{name} sees")][-1]
    emu.lines(emu.context_of("#test")).clear()
    return found


def test_autoload_installs_then_the_start_line_counts_it(host_world):
    emu, folder, host = host_world
    settled(emu, host)
    out = lines(emu)
    assert "hexsandbox: toml.py: installing tomli-w (1 package)..." in out
    assert any(l.startswith("hexsandbox: toml.py: installing tomli-w (1 package)... done in ") for l in out)
    assert f"hexsandbox {__version__}: 2 scripts sandboxed (plain, toml); /sandbox help" in out
    # toml.py's environment lacks the test venv's iniconfig; plain.py runs in that venv.
    assert sees(emu, "toml") == "toml sees tomli_w"
    assert sees(emu, "plain") == "plain sees iniconfig"


def test_reload_after_the_block_changed_builds_the_new_set(host_world):
    emu, folder, host = host_world
    settled(emu, host)
    (folder / "toml.py").write_text(block("tomli-w", "iniconfig") + SEES.format(name="toml"))
    emu.set_context(emu.context_of("#test"))
    host.commands.run(["reload", "toml"])
    emu.run_until(lambda: any("installing iniconfig, tomli-w (2 packages)... done in " in l
                              for l in lines(emu)), 120)
    emu.run_until(lambda: any(s.name == "toml" and s.state is State.RUNNING for s in host.sandbox.scripts), 30)
    assert sees(emu, "toml") == "toml sees tomli_w,iniconfig"
    host.commands.run(["deps", "toml"])
    out = lines(emu)
    assert "hexsandbox: toml.py needs: tomli-w (script), iniconfig (script)" in out
    assert any(l.startswith("hexsandbox: toml.py installed: iniconfig ") and "tomli_w" in l for l in out)
