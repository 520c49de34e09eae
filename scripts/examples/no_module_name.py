# no_module_name.py - forgot to set __module_name__
#
# HexChat runs the whole file first and only then looks for
# __module_name__, so the lines below do run (and the hooks get made)
# before loading fails with "__module_name__ must be set".  The failed
# script is then thrown away, which removes its hooks again.

import hexchat

__module_version__ = "0.1"
__module_description__ = "Script that forgets __module_name__"


def noname_cmd(word, word_eol, userdata):
    hexchat.prnt("NONAME: you should never see this")
    return hexchat.EAT_ALL


def unload_cb(userdata):
    hexchat.prnt("no_module_name: unload hook ran")


hexchat.hook_command("NONAME", noname_cmd)
hexchat.hook_unload(unload_cb)

print("no_module_name: script body ran")
