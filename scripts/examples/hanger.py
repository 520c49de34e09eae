# hanger.py - blocks inside callbacks, to test hang detection
#
# /HANG spin [seconds]    busy loop in Python (keeps the GIL) - default 10 s
# /HANG sleep [seconds]   time.sleep() (releases the GIL)       - default 10 s
# A channel message "hang-now" (or "hang-now <seconds>") spins in the
# 'Channel Message' print hook.
#
# In process, HexChat freezes for that long.

import time

import hexchat

__module_name__ = "hanger"
__module_version__ = "0.1"
__module_description__ = "Hangs on demand (for sandbox tests)"

DEFAULT_SECONDS = 10.0


def spin(seconds):
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return n


def parse_seconds(word, i):
    if len(word) > i:
        try:
            return float(word[i])
        except ValueError:
            pass
    return DEFAULT_SECONDS


def hang_cmd(word, word_eol, userdata):
    if len(word) < 2 or word[1].lower() not in ("spin", "sleep"):
        hexchat.prnt("Usage: /HANG spin|sleep [seconds]")
        return hexchat.EAT_ALL
    how = word[1].lower()
    secs = parse_seconds(word, 2)
    hexchat.prnt("HANG %s %g s" % (how, secs))
    if how == "spin":
        spin(secs)
    else:
        time.sleep(secs)
    hexchat.prnt("HANG %s done" % how)
    return hexchat.EAT_ALL


def on_message(word, word_eol, userdata):
    if len(word) < 2:
        return hexchat.EAT_NONE
    parts = word[1].split()
    if not parts or parts[0] != "hang-now":
        return hexchat.EAT_NONE
    secs = parse_seconds(parts, 1)
    hexchat.prnt("hang-now from %s: spinning %g s" % (word[0], secs))
    spin(secs)
    hexchat.prnt("hang-now done")
    return hexchat.EAT_NONE


hexchat.hook_command("HANG", hang_cmd, help="Usage: /HANG spin|sleep [seconds]")
hexchat.hook_print("Channel Message", on_message)

print("hanger loaded")
