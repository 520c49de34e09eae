# all_api.py - touches every name of the hexchat module
#
# Used to compare HexChat's own Python plugin with hexsandbox: given the
# same traffic both must print exactly the same lines.  So nothing printed
# here depends on the process (no ids, pointers, pids, clock times); where
# a value is process specific (a pointer, a path) only its type is printed.
# Every line starts with "all_api: ".
#
# At load:   constants, version, lists, loader globals
# /ALLAPI    the whole battery; run it in a channel tab while connected.
#            Timers it starts print 3 more lines within ~0.5 s and
#            "all_api: timers done" ~0.3 s later.  Each timer starts the
#            next, so their order does not depend on how busy the machine is.
# /ALLAPI_CLOSED   what a Context does once its tab has been closed
#            (opens and closes a query tab called "allapi-tmp")
# Also prints a line for every channel message and every PRIVMSG.

import sys

import hexchat
import xchat

__module_name__ = "all_api"
__module_version__ = "1.0"
__module_description__ = "Uses every hexchat API name once (differential test backbone)"

seen = {"print": 0, "server": 0}


def out(text):
    hexchat.prnt("all_api: " + text)


def sign(n):
    if n < 0:
        return -1
    if n > 0:
        return 1
    return 0


# ---------------------------------------------------------------- at load

out("EAT_NONE=%d EAT_HEXCHAT=%d EAT_XCHAT=%d EAT_PLUGIN=%d EAT_ALL=%d"
    % (hexchat.EAT_NONE, hexchat.EAT_HEXCHAT, hexchat.EAT_XCHAT,
       hexchat.EAT_PLUGIN, hexchat.EAT_ALL))
out("PRI_HIGHEST=%d PRI_HIGH=%d PRI_NORM=%d PRI_LOW=%d PRI_LOWEST=%d"
    % (hexchat.PRI_HIGHEST, hexchat.PRI_HIGH, hexchat.PRI_NORM,
       hexchat.PRI_LOW, hexchat.PRI_LOWEST))
out("__doc__=%r __version__=%r" % (hexchat.__doc__, hexchat.__version__))
out("xchat alias: EAT_XCHAT=%d EAT_ALL=%d __version__=%r"
    % (xchat.EAT_XCHAT, xchat.EAT_ALL, xchat.__version__))
out("get_lists=%r" % (hexchat.get_lists(),))
out("xchat.get_lists matches: %s" % (xchat.get_lists() == hexchat.get_lists()))
out("loader: __name__=%r has __file__=%s module_name=%r"
    % (__name__, "__file__" in globals(), __module_name__))


# ---------------------------------------------------------------- hooks

def on_chan_msg(word, word_eol, userdata):
    seen["print"] += 1
    out("print hook (%s) word=%r word_eol=%r" % (userdata, word, word_eol))
    return None            # same as EAT_NONE


def on_chan_msg_attrs(word, word_eol, userdata, attrs):
    out("print_attrs hook (%s) nick=%r time=%d attrs=%s"
        % (userdata, word[0], attrs.time, type(attrs).__name__))
    return hexchat.EAT_NONE


def on_privmsg(word, word_eol, userdata):
    seen["server"] += 1
    if len(word_eol) > 3:
        rest = word_eol[3]
    else:
        rest = ""
    out("server hook (%s) word[:3]=%r word_eol[3]=%r" % (userdata, word[:3], rest))
    return hexchat.EAT_NONE


def on_privmsg_attrs(word, word_eol, userdata, attrs):
    out("server_attrs hook (%s) target=%r time=%d" % (userdata, word[2], attrs.time))
    return hexchat.EAT_NONE


def on_ping(word, word_eol, userdata):
    out("ALLAPI_PING word=%r word_eol=%r userdata=%r" % (word, word_eol, userdata))
    return hexchat.EAT_ALL


def on_unload(userdata):
    out("unload hook ran, userdata=%r, channel messages seen=%d, privmsgs seen=%d"
        % (userdata, seen["print"], seen["server"]))


hooks = [
    hexchat.hook_print("Channel Message", on_chan_msg, "print-high", hexchat.PRI_HIGH),
    hexchat.hook_print_attrs("Channel Message", on_chan_msg_attrs, "print-attrs",
                             priority=hexchat.PRI_LOW),
    hexchat.hook_server("PRIVMSG", on_privmsg, "server-ud"),
    hexchat.hook_server_attrs("PRIVMSG", on_privmsg_attrs, "server-attrs",
                              hexchat.PRI_LOWEST),
    hexchat.hook_command("ALLAPI_PING", on_ping, "ping-ud", hexchat.PRI_HIGH,
                         "Usage: ALLAPI_PING <words>, echoes its words"),
    hexchat.hook_unload(on_unload, "unload-ud"),
]
out("hook ids are ints: %s" % all([isinstance(h, int) for h in hooks]))


# ---------------------------------------------------------------- timers

timer_a_ticks = 0


def timer_a(ctx):
    global timer_a_ticks
    timer_a_ticks += 1
    if timer_a_ticks < 2:
        ctx.prnt("all_api: timer A tick %d, returns True" % timer_a_ticks)
        return True
    ctx.prnt("all_api: timer A tick %d, returns False" % timer_a_ticks)
    hexchat.hook_timer(10, timer_b, ctx)
    return False


def timer_b(ctx):
    # only "is True" keeps a timer; 1 removes it like False would (were it
    # kept, it would tick ~30 more times before "timers done")
    ctx.prnt("all_api: timer B tick, returns 1")
    hexchat.hook_timer(300, timer_c, ctx)
    return 1


def timer_c(ctx):
    ctx.prnt("all_api: timers done")


# ---------------------------------------------------------------- /ALLAPI

def show_info(names):
    for name in names:
        out("get_info(%r) = %r" % (name, hexchat.get_info(name)))


def show_type(names):
    for name in names:
        out("get_info(%r) is %s" % (name, type(hexchat.get_info(name)).__name__))


def allapi_cmd(word, word_eol, userdata):
    out("ALLAPI start, word[0]=%r userdata=%r" % (word[0].upper(), userdata))

    # ---- get_info
    show_info(["channel", "network", "server", "host", "nick", "topic", "modes",
               "away", "charset", "inputbox", "version",
               "event_text Channel Message", "no_such_info"])
    show_type(["nickserv", "password", "gtkwin_ptr", "win_ptr", "libdirfs",
               "configdir"])
    out("xchatdir == configdir: %s"
        % (hexchat.get_info("xchatdir") == hexchat.get_info("configdir")))
    out("win_status valid: %s"
        % (hexchat.get_info("win_status") in ("normal", "active", "hidden")))

    # ---- get_prefs
    for name in ("irc_nick1", "irc_join_delay", "irc_conf_mode", "state_cursor",
                 "no_such_pref"):
        out("get_prefs(%r) = %r" % (name, hexchat.get_prefs(name)))
    out("get_prefs('id') is %s" % type(hexchat.get_prefs("id")).__name__)

    # ---- nickcmp / strip
    for a, b in (("Alice", "alice"), ("Foo[]", "foo{}"), ("abc", "abd"),
                 ("zed", "Amy")):
        out("nickcmp(%r, %r) sign %d" % (a, b, sign(hexchat.nickcmp(a, b))))
    s = "\x02bold\x02 \x0304,01red\x03 \x1funder\x1f plain"
    out("strip default = %r" % hexchat.strip(s))
    out("strip flags=1 = %r" % hexchat.strip(s, flags=1))
    out("strip flags=2 = %r" % hexchat.strip(s, -1, 2))
    out("strip len=6 = %r" % hexchat.strip(s, 6))

    # ---- contexts
    here = hexchat.get_context()
    chan = hexchat.get_info("channel")
    net = hexchat.get_info("network")
    out("get_context is %s, set() = %s" % (type(here).__name__, here.set()))
    out("here == here: %s, here == 'x': %s" % (here == here, here == "x"))
    out("find_context(channel=chan) == here: %s"
        % (hexchat.find_context(channel=chan) == here))
    out("find_context(server=net, channel=chan) == here: %s"
        % (hexchat.find_context(server=net, channel=chan) == here))
    out("find_context(channel='#allapi-nowhere') is None: %s"
        % (hexchat.find_context(channel="#allapi-nowhere") is None))
    front = hexchat.find_context()
    out("find_context() front tab channel = %r" % (front.get_info("channel"),))
    srv = hexchat.find_context(server=net)
    if srv is not None:
        out("find_context(server=net) channel = %r, == here: %s"
            % (srv.get_info("channel"), srv == here))
        out("srv.set() = %s" % srv.set())
        out("after srv.set(): get_info('channel') = %r, get_context() == srv: %s"
            % (hexchat.get_info("channel"), hexchat.get_context() == srv))
        out("here.set() = %s" % here.set())
    out("back in %r" % (hexchat.get_info("channel"),))
    here.prnt("all_api: Context.prnt")
    here.command("echo all_api: Context.command echo")
    out("Context.get_info('channel') = %r" % (here.get_info("channel"),))
    ctx_users = here.get_list("users")
    if ctx_users is None:
        out("Context.get_list('users') = None")
    else:
        out("Context.get_list('users') has %d items" % len(ctx_users))
    out("Context.emit_print returned %r"
        % (here.emit_print("Channel Message", "allapi-ctx", "via Context.emit_print"),))
    out("Context.emit_print(time=) returned %r"
        % (here.emit_print("Channel Message", "allapi-ctx", "ctx with time",
                           time=1300000000),))

    # ---- lists
    chans = hexchat.get_list("channels")
    out("channels: %d items, first is %s" % (len(chans), type(chans[0]).__name__))
    try:
        out("channels fields: %r"
            % (sorted([k for k in vars(chans[0]) if not k.startswith("_")]),))
    except TypeError as e:
        out("channels fields: vars() failed: %s" % type(e).__name__)
    for ch in chans:
        out("chan %r type=%d net=%r server=%r users=%d chantypes=%r nickprefixes=%r "
            "nickmodes=%r chanmodes=%r key=%r maxmodes=%d connected=%d id is %s "
            "context==here %s"
            % (ch.channel, ch.type, ch.network, ch.server, ch.users, ch.chantypes,
               ch.nickprefixes, ch.nickmodes, ch.chanmodes, ch.channelkey,
               ch.maxmodes, ch.flags & 1, type(ch.id).__name__, ch.context == here))
    users = hexchat.get_list("users")
    if users is None:
        out("users: None")
    else:
        out("users: %d items" % len(users))
        for u in users:
            out("user %r prefix=%r away=%d host=%r realname=%r account=%r "
                "selected=%d lasttalk is %s"
                % (u.nick, u.prefix, u.away, u.host, u.realname, u.account,
                   u.selected, type(u.lasttalk).__name__))
    for name in ("dcc", "ignore", "notify"):
        lst = hexchat.get_list(name)
        if lst is None:
            out("get_list(%r) = None" % name)
        else:
            out("get_list(%r) has %d items" % (name, len(lst)))
    try:
        hexchat.get_list("no_such_list")
        out("get_list('no_such_list') did not raise")
    except KeyError as e:
        out("get_list('no_such_list') raised %r" % (e,))
    out("getattr(ListItem, 'no_such_field', 'dflt') = %r"
        % (getattr(chans[0], "no_such_field", "dflt"),))

    # ---- command / prnt / print()
    hexchat.command("echo all_api: echo via command")
    hexchat.command("ALLAPI_PING hello  world")
    hexchat.command("allapi_ping")
    hexchat.command("help ALLAPI_PING")
    print("all_api: print() works")
    print("all_api: partial", end="")
    print(" line joined")
    print("all_api: two\nall_api: lines")
    sys.stdout.write("all_api: sys.stdout.write\n")
    hexchat.prnt("all_api:\ttab in prnt")

    # ---- emit_print
    out("emit_print returned %r"
        % (hexchat.emit_print("Channel Message", "allapi-bot", "emitted", "+", ""),))
    out("emit_print(time=) returned %r"
        % (hexchat.emit_print("Channel Message", "allapi-bot", "emitted with time",
                              time=1234567890),))
    out("emit_print one arg returned %r"
        % (hexchat.emit_print("Channel Message", "allapi-bot"),))
    out("emit_print middle empty returned %r"
        % (hexchat.emit_print("Channel Message", "allapi-bot", "", "@"),))
    out("emit_print unknown event returned %r"
        % (hexchat.emit_print("All Api No Such Event", "x"),))

    # ---- hook + unhook
    tmp = hexchat.hook_print("Channel Message", on_chan_msg, "tmp-ud", hexchat.PRI_HIGHEST)
    out("unhook returned %r" % (hexchat.unhook(tmp),))
    out("unhook again returned %r" % (hexchat.unhook(tmp),))
    hexchat.emit_print("Channel Message", "allapi-bot", "after unhook")

    # ---- pluginprefs
    out("set_pluginpref str %r" % (hexchat.set_pluginpref("allapi_s", "value"),))
    out("set_pluginpref int %r" % (hexchat.set_pluginpref("allapi_i", 7),))
    out("set_pluginpref bool %r" % (hexchat.set_pluginpref("allapi_b", True),))
    out("set_pluginpref float %r" % (hexchat.set_pluginpref("allapi_f", 2.5),))
    out("set_pluginpref None %r" % (hexchat.set_pluginpref("allapi_n", None),))
    for name in ("allapi_s", "allapi_i", "allapi_b", "allapi_f", "allapi_n"):
        out("get_pluginpref(%r) = %r" % (name, hexchat.get_pluginpref(name)))
    names = hexchat.list_pluginpref()
    out("list_pluginpref is %s, ours: %r"
        % (type(names).__name__, sorted([n for n in names if n.startswith("allapi_")])))
    out("del_pluginpref %r" % (hexchat.del_pluginpref("allapi_s"),))
    out("get_pluginpref after del = %r" % (hexchat.get_pluginpref("allapi_s"),))
    for name in ("allapi_i", "allapi_b"):
        hexchat.del_pluginpref(name)

    # ---- timers (they print a little later, through the saved context)
    hexchat.hook_timer(200, timer_a, here)  # A, A, then B, then C (a chain)

    out("ALLAPI end, still in %r" % (hexchat.get_info("channel"),))
    return hexchat.EAT_ALL


def allapi_closed_cmd(word, word_eol, userdata):
    hexchat.command("query -nofocus allapi-tmp")
    tmp = hexchat.find_context(channel="allapi-tmp")
    if tmp is None:
        out("CLOSED: could not open allapi-tmp")
        return hexchat.EAT_ALL
    out("CLOSED: opened %r" % (tmp.get_info("channel"),))
    tmp.command("close")
    out("CLOSED: find_context after close is None: %s"
        % (hexchat.find_context(channel="allapi-tmp") is None))
    out("CLOSED: set() = %r" % (tmp.set(),))
    for what in ("prnt", "command", "get_info", "get_list", "emit_print"):
        try:
            if what == "prnt":
                r = tmp.prnt("all_api: CLOSED: you should not see this")
            elif what == "command":
                r = tmp.command("echo all_api: CLOSED: you should not see this")
            elif what == "get_info":
                r = tmp.get_info("channel")
            elif what == "get_list":
                r = tmp.get_list("users")
            else:
                r = tmp.emit_print("Channel Message", "ghost", "should not show")
            out("CLOSED: %s returned %r" % (what, r))
        except Exception as e:
            out("CLOSED: %s raised %s: %s" % (what, type(e).__name__, e))
    out("CLOSED: still in %r" % (hexchat.get_info("channel"),))
    return hexchat.EAT_ALL


hexchat.hook_command("ALLAPI", allapi_cmd, help="Usage: /ALLAPI, runs the API battery")
hexchat.hook_command("ALLAPI_CLOSED", allapi_closed_cmd,
                     help="Usage: /ALLAPI_CLOSED, uses a Context after its tab closed")

out("loaded")
