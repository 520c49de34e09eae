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
fired = []
# Returns False (prnt gives None): HexChat removes the timer itself.
hexchat.hook_timer(20, lambda userdata: fired.append(1) or hexchat.prnt("ticker fired %d" % len(fired)))
hexchat.hook_command("TICKPING", lambda word, word_eol, userdata: hexchat.prnt("ticker pong") or hexchat.EAT_ALL)
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


ATTRS = '''
__module_name__ = "attrs"
import hexchat
def on_print(word, word_eol, userdata, attrs):
    hexchat.prnt("attrs print %s %s" % (word[1], type(attrs.time).__name__))
def on_server(word, word_eol, userdata, attrs):
    if "attrs-probe" in word_eol[0]:
        hexchat.prnt("attrs server %s %s" % (word[1], type(attrs.time).__name__))
hexchat.hook_print_attrs("Channel Message", on_print)
hexchat.hook_server_attrs("PRIVMSG", on_server)
'''


def test_attrs_hooks_get_words_and_a_time(sandboxed_hexchat_factory, scripted_server):
    """The binding's *_attrs callbacks, as registered by hexchat_hooks."""
    hc = sandboxed_hexchat_factory(sandbox={"attrs.py": ATTRS})
    hc.wait_running("attrs")
    scripted_server.privmsg("#test", "attrs-probe")
    _wait_line(hc, "attrs server PRIVMSG int")
    _wait_line(hc, "attrs print attrs-probe int")
