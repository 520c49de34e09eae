# nested.py - hooks that fire other hooks
#
# /OUTER in a channel (while connected):
#   OUTER prints "outer start", then runs "say nested-hi".  /say emits
#   'Your Message' right away, so our print hook runs inside command(),
#   prints "inner saw nested-hi" and runs /INNER2, whose hook prints
#   "level3".  Only then does command() return and OUTER prints
#   "outer end".  Expected order:
#       outer start / inner saw nested-hi / level3 / outer end

import hexchat

__module_name__ = "nested"
__module_version__ = "0.1"
__module_description__ = "Nested command and print hooks"


def outer_cmd(word, word_eol, userdata):
    hexchat.prnt("outer start")
    hexchat.command("say nested-hi")
    hexchat.prnt("outer end")
    return hexchat.EAT_ALL


def your_message(word, word_eol, userdata):
    # Your Message: word[0] = our nick, word[1] = text
    if len(word) > 1:
        text = word[1]
    else:
        text = ""
    hexchat.prnt("inner saw %s" % text)
    if text == "nested-hi":
        hexchat.command("INNER2")
    return hexchat.EAT_NONE


def inner2_cmd(word, word_eol, userdata):
    hexchat.prnt("level3")
    return hexchat.EAT_ALL


hexchat.hook_command("OUTER", outer_cmd, help="Usage: /OUTER, nested hook demo")
hexchat.hook_command("INNER2", inner2_cmd, help="Usage: /INNER2, innermost level of /OUTER")
hexchat.hook_print("Your Message", your_message)

print("nested loaded")
