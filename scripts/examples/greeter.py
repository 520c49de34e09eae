# greeter.py - say hello to people joining a channel
#
# /GREET          toggle greeting on/off
# /GREET on|off   set it explicitly
# /GREET status   show the current setting
#
# The setting survives restarts (stored as a plugin preference).

import hexchat

__module_name__ = "greeter"
__module_version__ = "1.2"
__module_description__ = "Greets people who join a channel"

PREF = "greeter_enabled"


def is_enabled():
    val = hexchat.get_pluginpref(PREF)
    if val is None:
        return True          # never set: greet by default
    return val == 1


def set_enabled(on):
    if on:
        hexchat.set_pluginpref(PREF, 1)
    else:
        hexchat.set_pluginpref(PREF, 0)


def on_join(word, word_eol, userdata):
    # Join: word[0] = nick, word[1] = channel, word[2] = host
    if not is_enabled():
        return hexchat.EAT_NONE
    nick = word[0]
    chan = word[1]
    mynick = hexchat.get_info("nick")
    if mynick is not None and hexchat.nickcmp(nick, mynick) == 0:
        return hexchat.EAT_NONE    # that's us, don't talk to ourselves
    hexchat.command("say Welcome to %s, %s!" % (chan, nick))
    return hexchat.EAT_NONE


def greet_cmd(word, word_eol, userdata):
    if len(word) > 1:
        arg = word[1].lower()
    else:
        arg = "toggle"

    if arg == "on":
        set_enabled(True)
    elif arg == "off":
        set_enabled(False)
    elif arg == "toggle":
        set_enabled(not is_enabled())
    elif arg != "status":
        hexchat.prnt("Usage: /GREET [on|off|status]")
        return hexchat.EAT_ALL

    if is_enabled():
        hexchat.prnt("Greeter is ON")
    else:
        hexchat.prnt("Greeter is OFF")
    return hexchat.EAT_ALL


hexchat.hook_print("Join", on_join)
hexchat.hook_command("GREET", greet_cmd,
                     help="Usage: /GREET [on|off|status], toggles greeting of people who join")

if is_enabled():
    print("%s %s loaded (greeting is on)" % (__module_name__, __module_version__))
else:
    print("%s %s loaded (greeting is off)" % (__module_name__, __module_version__))
