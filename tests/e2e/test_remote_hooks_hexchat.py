"""The backend's hooks go through the Python plugin's binding
(hexsandbox/hexchat_hooks.py, found by the remote soak): they belong to the
Python plugin, not to the loader script, so unloading the loader must remove
them itself. Real HexChat 2.16."""

import os
import time

from remote_support import REMOTE_INI, reports

TICKER = '''
__module_name__ = "ticker"
import hexchat
count = [0]
def once(userdata):
    count[0] += 1
    hexchat.prnt("ticker fired %d" % count[0])
    return False          # HexChat removes the timer itself
hexchat.hook_timer(20, once)
def ping(word, word_eol, userdata):
    hexchat.prnt("ticker pong")
    return hexchat.EAT_ALL
hexchat.hook_command("TICKPING", ping)
'''


def _lines(hc):
    return [l.split("\t", 1)[-1] for lines in hc.transcript().values() for l in lines]


def _wait_line(hc, text, timeout=20.0):
    """Each look is a control round trip answered by HexChat's main loop."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if text in _lines(hc):
            return
    raise AssertionError(f"HexChat never showed {text!r}: {_lines(hc)[-10:]}")


def test_unloading_the_loader_removes_every_hook_it_registered(sandboxed_hexchat_factory,
                                                               scripted_server):
    hc = sandboxed_hexchat_factory(sandbox={"ticker.py": TICKER}, ini=REMOTE_INI)
    hc.wait_running("ticker")
    _wait_line(hc, "ticker fired 1")
    hc.command("tickping")
    _wait_line(hc, "ticker pong")
    socket_path = os.path.join(hc.base_dir, "runtime", "hexsandbox", "api.sock")
    assert os.path.exists(socket_path), reports(hc)

    hc.command("py unload hexsandbox_loader.py")
    scripted_server.roundtrip()
    assert not os.path.exists(socket_path), "the local API closed with the loader"
    before, since = len(_lines(hc)), scripted_server.mark()
    # The loader's /sandbox and the script's /TICKPING were hooks of ours:
    # with them gone HexChat sends both to the server, as any unknown command.
    hc.command("sandbox list")
    hc.command("tickping")
    scripted_server.wait_for("sandbox list", since=since)
    scripted_server.wait_for("tickping", since=since)
    assert "ticker pong" not in _lines(hc)[before:]
    assert hc.eval("result = 1") == 1, "HexChat runs on"
    assert "ticker fired 2" not in _lines(hc), "the ended timer never fired again"
