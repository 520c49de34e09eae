# prefs_roundtrip.py - what comes back from get_pluginpref
#
# HexChat stores every plugin preference as a string and get_pluginpref()
# guesses the type on the way back, which gives some surprises.  The values
# are written when the script loads; /PREFS reads them back, lists them and
# deletes one.
#
# NB: all Python scripts share one preference file (addon_python.conf), so
# everything here is prefixed "rt_".

import hexchat

__module_name__ = "prefs_roundtrip"
__module_version__ = "1.0"
__module_description__ = "Plugin preference type round trips"

VALUES = [
    ("rt_str", "hello"),                       # back as 'hello'
    ("rt_int", 42),                            # back as 42
    ("rt_long", "a long string value"),        # > 12 chars: always a str
    ("rt_minus", "-1"),                        # the str '-1' comes back as int -1
    ("rt_zeros", "0042"),                      # numeric-looking str: int 42
    ("rt_bool", True),                         # stored as 1, back as 1
    ("rt_mixed", "12abc"),                     # leading digits win: 12
    ("rt_longnum", "1234567890123"),           # 13 digits: stays a str
]

for name, value in VALUES:
    if not hexchat.set_pluginpref(name, value):
        print("prefs_roundtrip: could not store %s" % name)


def prefs_cmd(word, word_eol, userdata):
    for name, value in VALUES:
        hexchat.prnt("PREFS %s: set %r -> get %r" % (name, value, hexchat.get_pluginpref(name)))
    ours = sorted([n for n in hexchat.list_pluginpref() if n.startswith("rt_")])
    hexchat.prnt("PREFS list: %r" % (ours,))
    hexchat.prnt("PREFS del rt_minus: %r" % (hexchat.del_pluginpref("rt_minus"),))
    hexchat.prnt("PREFS get rt_minus after del: %r" % (hexchat.get_pluginpref("rt_minus"),))
    hexchat.prnt("PREFS set float: %r" % (hexchat.set_pluginpref("rt_float", 1.5),))
    hexchat.prnt("PREFS get float: %r" % (hexchat.get_pluginpref("rt_float"),))
    hexchat.prnt("PREFS get missing: %r" % (hexchat.get_pluginpref("rt_never_set"),))
    return hexchat.EAT_ALL


hexchat.hook_command("PREFS", prefs_cmd, help="Usage: /PREFS, prints the stored test preferences")

print("prefs_roundtrip loaded")
