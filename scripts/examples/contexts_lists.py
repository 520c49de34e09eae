# contexts_lists.py - poke at tabs, user lists and settings
#
# /CHANINFO   one line per open tab: name, type, users, network, topic
# /WHOHERE    the users of the current channel, with prefixes and away flags
# /WHEREAMI   get_info / get_prefs values for the current tab

import hexchat

__module_name__ = "contexts_lists"
__module_version__ = "0.5"
__module_description__ = "Lists channels and users, shows context info"

TYPES = {1: "server", 2: "channel", 3: "query", 4: "notices", 5: "snotices"}


def chaninfo_cmd(word, word_eol, userdata):
    chans = hexchat.get_list("channels")
    if not chans:
        hexchat.prnt("CHANINFO: no tabs")
        return hexchat.EAT_ALL
    here = hexchat.get_context()
    for ch in chans:
        topic = ch.context.get_info("topic")
        if topic is None:
            topic = ""
        if ch.context == here:
            mark = "*"
        else:
            mark = " "
        hexchat.prnt("CHANINFO %s %-12s type=%-8s users=%-3d net=%s topic=%r"
                     % (mark, ch.channel, TYPES.get(ch.type, ch.type),
                        ch.users, ch.network, topic))
    hexchat.prnt("CHANINFO %d tabs" % len(chans))
    return hexchat.EAT_ALL


def whohere_cmd(word, word_eol, userdata):
    chan = hexchat.get_info("channel")
    users = hexchat.get_list("users")
    if not users:
        hexchat.prnt("WHOHERE %s: nobody" % chan)
        return hexchat.EAT_ALL
    away = 0
    for u in users:
        if u.away:
            flag = " (away)"
            away += 1
        else:
            flag = ""
        hexchat.prnt("WHOHERE %s%s%s" % (u.prefix, u.nick, flag))
    hexchat.prnt("WHOHERE %s: %d users, %d away" % (chan, len(users), away))
    return hexchat.EAT_ALL


def whereami_cmd(word, word_eol, userdata):
    for key in ("nick", "network", "server", "channel", "version", "configdir"):
        hexchat.prnt("WHEREAMI %s = %r" % (key, hexchat.get_info(key)))
    chan = hexchat.get_info("channel")
    same = hexchat.get_context() == hexchat.find_context(channel=chan)
    hexchat.prnt("WHEREAMI get_context() == find_context(channel=%r): %s" % (chan, same))
    hexchat.prnt("WHEREAMI irc_nick1 = %r" % (hexchat.get_prefs("irc_nick1"),))
    hexchat.prnt("WHEREAMI irc_join_delay = %r" % (hexchat.get_prefs("irc_join_delay"),))
    hexchat.prnt("WHEREAMI lists = %s" % ", ".join(hexchat.get_lists()))
    return hexchat.EAT_ALL


hexchat.hook_command("CHANINFO", chaninfo_cmd, help="Usage: /CHANINFO, lists all open tabs")
hexchat.hook_command("WHOHERE", whohere_cmd, help="Usage: /WHOHERE, lists users in this channel")
hexchat.hook_command("WHEREAMI", whereami_cmd, help="Usage: /WHEREAMI, shows info about this tab")

print("contexts_lists loaded: /CHANINFO /WHOHERE /WHEREAMI")
