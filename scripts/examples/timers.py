# timers.py - a ticking timer, a one-shot timer and an unload hook
#
# A timer fires every second and counts.  Every 60 ticks it says so.  It
# stops itself (by returning False) once it reaches the limit kept in the
# plugin preference "timers_limit" (default 300).  A one-shot timer fires
# once, 2.5 seconds after loading.  On unload the tick count is saved in
# "timers_last_count".
#
# /TICKS            show the count
# /TICKS limit <n>  store a new limit (used from the next load on)

import hexchat

__module_name__ = "timers"
__module_version__ = "1.1"
__module_description__ = "Timer examples: repeating, one-shot, unload"

DEFAULT_LIMIT = 300

ticks = 0
running = True


def get_limit():
    limit = hexchat.get_pluginpref("timers_limit")
    if not isinstance(limit, int) or limit <= 0:
        limit = DEFAULT_LIMIT
    return limit


limit = get_limit()


def tick(userdata):
    global ticks, running
    ticks += 1
    if ticks % 60 == 0:
        hexchat.prnt("timers: %d ticks" % ticks)
    if ticks >= limit:
        hexchat.prnt("timers: limit of %d reached, stopping" % limit)
        running = False
        return False        # removes the timer
    return True             # keep going


def one_shot(userdata):
    hexchat.prnt("timers: one-shot fired (%s)" % userdata)
    # no return value (None): the timer is removed


def ticks_cmd(word, word_eol, userdata):
    if len(word) > 2 and word[1].lower() == "limit":
        try:
            n = int(word[2])
        except ValueError:
            hexchat.prnt("Usage: /TICKS [limit <n>]")
            return hexchat.EAT_ALL
        hexchat.set_pluginpref("timers_limit", n)
        hexchat.prnt("timers: limit will be %d from the next load" % n)
        return hexchat.EAT_ALL
    if running:
        state = "running"
    else:
        state = "stopped"
    hexchat.prnt("timers: %d ticks, limit %d, %s" % (ticks, limit, state))
    return hexchat.EAT_ALL


def unload(userdata):
    hexchat.set_pluginpref("timers_last_count", ticks)
    hexchat.prnt("timers unloaded")


hexchat.hook_timer(1000, tick)
hexchat.hook_timer(2500, one_shot, "once")
hexchat.hook_command("TICKS", ticks_cmd, help="Usage: /TICKS [limit <n>]")
hexchat.hook_unload(unload)

last = hexchat.get_pluginpref("timers_last_count")
if last is None:
    print("timers loaded, limit %d" % limit)
else:
    print("timers loaded, limit %d, last run counted %s" % (limit, last))
