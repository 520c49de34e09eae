"""The "slow eater": a sandboxed script whose Channel Message hook sleeps,
prints what it saw and eats the message.

Shared by tests/core/test_async_hooks.py (emulator) and
tests/e2e/test_async_hooks_hexchat.py (real HexChat), which each choose how
long the hook takes: long enough that a HexChat waiting on it shows, short
enough for the test's own bounds.
"""


def script(sleep_s: float) -> str:
    """The script's source, its hook taking ``sleep_s`` seconds."""
    return f'''
__module_name__ = "slow_eater"
import hexchat, time
def on_msg(word, word_eol, userdata):
    time.sleep({sleep_s!r})
    hexchat.prnt("slow_eater saw " + word[1])
    return hexchat.EAT_ALL
hexchat.hook_print("Channel Message", on_msg)
'''
