# emitter.py - emit fake text events and look at event times
#
# /FAKEMSG <nick> <text>   prints a fake channel message from <nick>
# /FAKEOLD <nick> <text>   the same, stamped 2001-09-09 01:46:40 UTC
#
# Every 'Channel Message' (real or fake) and every PRIVMSG from the server
# also prints the server time HexChat attached to it (0 if none).

import hexchat

__module_name__ = "emitter"
__module_version__ = "0.3"
__module_description__ = "emit_print and *_attrs hooks"

OLD_TIME = 1000000000


def fakemsg_cmd(word, word_eol, userdata):
    if len(word) < 3:
        hexchat.prnt("Usage: /%s <nick> <text>" % userdata)
        return hexchat.EAT_ALL
    nick = word[1]
    text = word_eol[2]
    if userdata == "FAKEOLD":
        ret = hexchat.emit_print("Channel Message", nick, text, "@", "", time=OLD_TIME)
    else:
        ret = hexchat.emit_print("Channel Message", nick, text, "@", "")
    hexchat.prnt("%s: emit_print returned %r" % (userdata, ret))
    return hexchat.EAT_ALL


def on_msg_attrs(word, word_eol, userdata, attrs):
    hexchat.prnt("print attrs: <%s> time=%d" % (word[0], attrs.time))
    return hexchat.EAT_NONE


def on_privmsg_attrs(word, word_eol, userdata, attrs):
    # word[0] = :nick!user@host, word[1] = PRIVMSG, word[2] = target
    hexchat.prnt("server attrs: PRIVMSG to %s time=%d" % (word[2], attrs.time))
    return hexchat.EAT_NONE


hexchat.hook_command("FAKEMSG", fakemsg_cmd, "FAKEMSG",
                     help="Usage: /FAKEMSG <nick> <text>, prints a fake channel message")
hexchat.hook_command("FAKEOLD", fakemsg_cmd, "FAKEOLD",
                     help="Usage: /FAKEOLD <nick> <text>, a fake message with an old timestamp")
hexchat.hook_print_attrs("Channel Message", on_msg_attrs)
hexchat.hook_server_attrs("PRIVMSG", on_privmsg_attrs)

print("emitter loaded")
