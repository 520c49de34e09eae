# priority_eater.py - a small spam filter that shows off hook priorities
#
# For every channel message HexChat runs our hooks highest priority first:
#
#   PRI_HIGHEST  server PRIVMSG   counts raw PRIVMSG lines, never eats
#   PRI_HIGH     spam_filter      "spam" anywhere -> EAT_ALL (hidden, and
#                                 no later hook sees it)
#   PRI_NORM     mute_filter      starts with "!quiet" -> EAT_PLUGIN (shown
#                                 as usual, but later hooks don't see it);
#                                 contains "[muted]" -> EAT_HEXCHAT (not
#                                 shown, but later hooks still see it)
#   PRI_LOW      low_watch        counts and echoes what got this far
#   PRI_LOWEST   first_few        announces the first 3 messages, then
#                                 unhooks itself from inside its callback
#
# /SPAMSTATS prints the counters.

import hexchat

__module_name__ = "priority_eater"
__module_version__ = "1.0"
__module_description__ = "Eats spam, demonstrates hook priorities and EAT_* values"

FIRST_FEW = 3

stats = {
    "privmsg": 0,      # raw PRIVMSG lines from the server
    "spam": 0,         # eaten with EAT_ALL
    "quiet": 0,        # stopped with EAT_PLUGIN
    "muted": 0,        # hidden with EAT_HEXCHAT
    "low": 0,          # reached the PRI_LOW hook
}
first_count = 0
first_hook = None


def count_privmsg(word, word_eol, userdata):
    stats["privmsg"] += 1
    return hexchat.EAT_NONE


def spam_filter(word, word_eol, userdata):
    if len(word) > 1 and "spam" in word[1].lower():
        stats["spam"] += 1
        return hexchat.EAT_ALL
    return hexchat.EAT_NONE


def mute_filter(word, word_eol, userdata):
    if len(word) < 2:
        return hexchat.EAT_NONE
    text = word[1]
    if text.startswith("!quiet"):
        stats["quiet"] += 1
        return hexchat.EAT_PLUGIN
    if "[muted]" in text:
        stats["muted"] += 1
        return hexchat.EAT_HEXCHAT
    return hexchat.EAT_NONE


def low_watch(word, word_eol, userdata):
    stats["low"] += 1
    if len(word) > 1:
        text = word[1]
    else:
        text = ""
    hexchat.prnt("[low] %s: %s" % (word[0], text))
    return hexchat.EAT_NONE


def first_few(word, word_eol, userdata):
    global first_count, first_hook
    first_count += 1
    hexchat.prnt("first-few #%d from %s" % (first_count, word[0]))
    if first_count >= FIRST_FEW and first_hook is not None:
        ud = hexchat.unhook(first_hook)
        first_hook = None
        hexchat.prnt("first-few done, unhooked (userdata %r)" % (ud,))
    return hexchat.EAT_NONE


def spamstats_cmd(word, word_eol, userdata):
    hexchat.prnt("SPAMSTATS privmsg=%d spam=%d quiet=%d muted=%d low=%d first=%d"
                 % (stats["privmsg"], stats["spam"], stats["quiet"],
                    stats["muted"], stats["low"], first_count))
    return hexchat.EAT_ALL


hexchat.hook_server("PRIVMSG", count_privmsg, priority=hexchat.PRI_HIGHEST)
hexchat.hook_print("Channel Message", spam_filter, priority=hexchat.PRI_HIGH)
hexchat.hook_print("Channel Message", mute_filter, priority=hexchat.PRI_NORM)
hexchat.hook_print("Channel Message", low_watch, priority=hexchat.PRI_LOW)
first_hook = hexchat.hook_print("Channel Message", first_few, "first-few-ud",
                                hexchat.PRI_LOWEST)
hexchat.hook_command("SPAMSTATS", spamstats_cmd, help="Usage: /SPAMSTATS, shows spam filter counters")

print("priority_eater loaded")
