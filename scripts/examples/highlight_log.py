# highlight_log.py - copy highlights to a separate tab
#
# Written against the old X-Chat API name ("import xchat"), which HexChat
# still provides.  Every message or action that highlights you is copied,
# without colours, into a "(highlights)" query tab on the same network.
# If that tab can't be found or opened the line is printed where the
# highlight happened instead.

import xchat

__module_name__ = "highlight_log"
__module_version__ = "0.9"
__module_description__ = "Copies highlighted lines into a (highlights) tab"

LOGTAB = "(highlights)"


def get_log_context():
    ctx = xchat.find_context(channel=LOGTAB)
    if ctx is None:
        # open it quietly and look again
        xchat.command("query -nofocus %s" % LOGTAB)
        ctx = xchat.find_context(channel=LOGTAB)
    return ctx


def log_line(line):
    ctx = get_log_context()
    if ctx is not None:
        ctx.prnt(line)
    else:
        xchat.prnt("[highlight] " + line.replace("\t", " "))


def on_hilight(word, word_eol, userdata):
    # both events: word[0] = nick, word[1] = text (or action)
    nick = xchat.strip(word[0])
    if len(word) > 1:
        text = xchat.strip(word[1])
    else:
        text = ""
    chan = xchat.get_info("channel")
    if userdata == "action":
        log_line("%s\t* %s %s" % (chan, nick, text))
    else:
        log_line("%s\t<%s> %s" % (chan, nick, text))
    return xchat.EAT_NONE


xchat.hook_print("Channel Msg Hilight", on_hilight, "msg")
xchat.hook_print("Channel Action Hilight", on_hilight, "action")

print("highlight_log loaded, highlights go to %s" % LOGTAB)
