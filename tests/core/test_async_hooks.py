"""`hooks = async` (issue 14): HexChat never waits for the script's hooks;
events still reach it, in order, and cannot be eaten."""

import time

from hexsandbox.client import State

SLOW_EATER = '''
__module_name__ = "slow_eater"
import hexchat, time
def on_msg(word, word_eol, userdata):
    time.sleep(0.3)
    hexchat.prnt("slow_eater saw " + word[1])
    return hexchat.EAT_ALL
hexchat.hook_print("Channel Message", on_msg)
'''


def _load(client, tmp_path, hooks_async):
    path = tmp_path / "slow_eater.py"
    path.write_text(SLOW_EATER)
    script = client.sandbox.load(str(path), hooks_async=hooks_async)
    client.wait_for(lambda: script.state is State.RUNNING, 20, "slow_eater to load")
    return script


def test_async_hooks_never_make_hexchat_wait(hexchat_client, tmp_path):
    script = _load(hexchat_client, tmp_path, hooks_async=True)
    started = time.monotonic()
    for n in range(3):
        hexchat_client.feed(f":alice!a@example.org PRIVMSG #test :message {n}")
    took = time.monotonic() - started
    assert took < 0.3, f"HexChat waited {took:.2f} s for an async script"
    lines = hexchat_client.lines("#test")
    assert sum("message" in line and "slow_eater" not in line for line in lines) == 3, \
        "nothing was eaten: HexChat printed every message itself"
    for n in range(3):
        hexchat_client.wait_for_line(f"slow_eater saw message {n}")
    saw = [line for line in hexchat_client.lines("#test") if line.startswith("slow_eater saw")]
    assert saw == [f"slow_eater saw message {n}" for n in range(3)], "in order"
    assert not script.late and not [r for r in hexchat_client.sandbox.reports if r.kind == "late"]


def test_sync_hooks_still_wait_and_eat(hexchat_client, tmp_path):
    """The control: the same script, waited on, eats the message."""
    _load(hexchat_client, tmp_path, hooks_async=False)
    started = time.monotonic()
    hexchat_client.feed(":alice!a@example.org PRIVMSG #test :eaten")
    assert time.monotonic() - started >= 0.3
    lines = hexchat_client.lines("#test")
    assert "slow_eater saw eaten" in lines
    assert not [line for line in lines if "eaten" in line and "slow_eater" not in line]
