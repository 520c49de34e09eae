"""The ``Emulator`` class: HexChat 2.16's state (servers, tabs, hooks, prefs),
the :class:`hexsandbox.backend.Backend` methods the sandbox calls, and the
driving API tests use (see the package docstring and docs/emulator.md)."""

from __future__ import annotations

import collections
import os
import tempfile
import threading
import time as _time
from typing import Callable, Deque, Dict, List, Optional, Tuple, Union

from . import config_files, formatting, info, world
from .clock import VirtualClock
from .hooks import (COMMAND, PRINT,
                    PRINT_ATTRS, SERVER, SERVER_ATTRS, Hook, HookList)
from .prefs import PluginPrefs, Prefs
from .reading import ContextRef, PrintedLines
from .state import SESS_CHANNEL, SESS_DIALOG, SESS_SERVER, IdSource, Server, Session
from .textevents import EVENTS

class Emulator(PrintedLines):
    """HexChat 2.16 without a GUI or a network (see module docstring)."""

    VERSION = "2.16.1"

    def __init__(self, config_dir: Optional[str] = None, nick: str = "tester",
                 network: str = "TestNet", server: str = "irc.test.net",
                 user: str = "tester", server_echo: bool = True) -> None:
        if config_dir is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="hexemu-")
            config_dir = self._tmpdir.name
        os.makedirs(os.path.join(config_dir, "addons"), exist_ok=True)
        self.config_dir = config_dir
        self.prefs = Prefs(nick, user)
        self.pluginprefs = PluginPrefs(config_dir)
        self.hooks = HookList()
        self.clock = VirtualClock(self.hooks)
        #: Raw lines the server received, without CRLF.
        self.sent: List[str] = []
        #: Entries of the Plugins and Scripts window.
        self.plugin_gui: List[dict] = []
        #: Every text event HexChat went on to process (not eaten):
        #: (context handle, event name, args).
        self.events: List[tuple] = []
        #: Whether a built-in fake server answers JOIN/PART/NICK/... (see docs).
        self.server_echo = server_echo
        self.user = user
        self._ids = IdSource(1)
        self._server_ids = IdSource(0)  # server.c: the first server is id 0
        self.sessions: Dict[int, Session] = {}
        self.servers: List[Server] = []
        self._queue: Deque[Callable[[], None]] = collections.deque()
        self._cond = threading.Condition()
        self._owner: Optional[threading.Thread] = None
        self._gui_seq = 0
        #: Input box text and cursor per tab (SETTEXT, SETCURSOR, set_inputbox).
        self.inputbox: Dict[int, str] = {}
        self.cursor: Dict[int, int] = {}
        #: Front-end actions scripts asked for: (tab handle, COMMAND, arguments),
        #: e.g. (3, "MENU", 'add "$TAB/Item" "echo hi"'), (3, "GUI", "flash").
        self.gui_actions: List[Tuple[int, str, str]] = []
        self._network: Deque[str] = collections.deque()
        self.serv = self._new_server(nick, network, server)
        self._ctx = self.serv.server_session
        self._front = self.serv.server_session

        from .commands import Commands
        from .fake_server import FakeServer
        from .ignore import IgnoreList
        from .inbound import Inbound
        from .messages import Messages
        from .plugins import PythonPlugin, TimerPlugin
        self.inbound = Inbound(self)
        self.messages = Messages(self)
        self.commands = Commands(self)
        self.ignores = IgnoreList(self)
        self.fake_server = FakeServer(self)
        self.timer_plugin = TimerPlugin(self)
        self.python_plugin = PythonPlugin(self)
        config_files.write_fresh_config(self)

    # ------------------------------------------------------------------
    # internal state helpers
    def _new_server(self, nick: str, network: Optional[str], hostname: str,
                    focus: bool = True) -> Server:
        serv = Server(id=self._server_ids.next(), nick=nick, servername=hostname,
                      hostname=hostname, network=network or "")
        self.servers.append(serv)
        sess = self.new_session(serv, SESS_SERVER, network or hostname, focus=focus)
        serv.server_session = sess.id
        serv.front_session = sess.id
        return sess.server

    def new_server(self, hostname: str, focus: bool = True) -> Server:
        """A new server tab (``/newserver``), not connected, named after the
        host; its network is the host until a server says otherwise."""
        serv = self._new_server(self.serv.nick, None, hostname, focus=focus)
        serv.network = hostname
        serv.servername = ""
        return serv

    def new_session(self, serv: Server, type_: int, name: str, focus: bool = False) -> Session:
        """Open a tab (``new_ircwindow``); emits 'Open Context' like HexChat."""
        sess = Session(id=self._ids.next(), server=serv, type=type_, channel=name)
        self.sessions[sess.id] = sess
        if focus or len(self.sessions) == 1:
            self._front = sess.id
            serv.front_session = sess.id
        # HexChat emits this dummy print event for every new tab
        if hasattr(self, "inbound"):
            self.run_print_hooks(sess, "Open Context", [], 0)
        return sess

    def close_session(self, sess: Session) -> None:
        """Close a tab: 'Close Context' runs first, then it is gone for good."""
        if sess.id not in self.sessions:
            return
        self.run_print_hooks(sess, "Close Context", [], 0)
        del self.sessions[sess.id]
        if sess.type == SESS_SERVER:
            # closing the server tab closes every tab of that server
            for other in [s for s in self.sessions.values() if s.server is sess.server]:
                del self.sessions[other.id]
        if self._front == sess.id or self._front not in self.sessions:
            self._front = next(iter(self.sessions), 0)
        serv = sess.server
        if serv.front_session == sess.id:
            serv.front_session = self._front if self._front in self.sessions else serv.server_session

    def session(self, ref: ContextRef = None) -> Session:
        """A session by handle or channel name (None = the plugin context)."""
        if ref is None:
            ref = self._ctx
        if isinstance(ref, int):
            try:
                return self.sessions[ref]
            except KeyError:
                raise KeyError("context %d is closed" % ref) from None
        for sess in self.sessions.values():
            if sess.server.cmp(sess.tab_name, ref) == 0:
                return sess
        raise KeyError("no tab named %r" % ref)

    def find_channel(self, serv: Server, name: str) -> Optional[Session]:
        for sess in self.sessions.values():
            if sess.server is serv and sess.type == SESS_CHANNEL and sess.channel \
                    and serv.cmp(sess.channel, name) == 0:
                return sess
        return None

    def find_dialog(self, serv: Server, nick: str) -> Optional[Session]:
        for sess in self.sessions.values():
            if sess.server is serv and sess.type == SESS_DIALOG and serv.cmp(sess.channel, nick) == 0:
                return sess
        return None

    @property
    def now(self) -> int:
        """Virtual time in milliseconds."""
        return self.clock.now

    def _check_thread(self) -> None:
        if __debug__:
            me = threading.current_thread()
            if self._owner is None:
                self._owner = me
            elif self._owner is not me:
                raise AssertionError(
                    "Emulator used from thread %r but it is driven by %r; only "
                    "call_soon may be called from other threads" % (me.name, self._owner.name))

    # ------------------------------------------------------------------
    # printing and text events
    def print_text(self, sess: Session, text: str) -> None:
        """``PrintText``: one stored line per '\\n'-separated piece."""
        if text.endswith("\n"):
            text = text[:-1]
        for piece in text.split("\n"):
            sess.lines.append(piece if "\t" in piece else "\t" + piece)

    def run_word_hooks(self, sess: Session, kinds: int, name: str, word: List[str],
                       word_eol: List[str], stamp: int = 0) -> bool:
        """Run the hooks of ``kinds`` named ``name`` by priority, each in
        ``sess``'s context (HexChat sets it again before every hook, even if
        an earlier one closed the tab: it keeps the dead pointer); True if
        eaten. Each hook gets its own copies of the words, and ``*_attrs``
        hooks get the server-time stamp."""

        def before() -> None:
            self._ctx = sess.id

        def call(hook: Hook) -> int:
            return hook.callback(list(word), list(word_eol),
                                 stamp if hook.kind in (PRINT_ATTRS, SERVER_ATTRS) else 0)

        return self.hooks.run(kinds, name, call, before)

    def run_print_hooks(self, sess: Session, event: str, args: List[str], stamp: int) -> bool:
        words = formatting.trim_words((list(args) + [""] * 4)[:max(4, len(args))])
        word_eol = formatting.print_word_eol(words)
        return self.run_word_hooks(sess, PRINT | PRINT_ATTRS, event, words, word_eol, stamp)

    def emit(self, sess: Session, event: str, *args: Optional[str], stamp: int = 0) -> int:
        """``text_emit``: print hooks, then (if not eaten) the formatted line."""
        if event not in EVENTS:
            return 0  # pevent_find uses strcmp: event names are case-sensitive
        fmt, nargs = EVENTS[event]
        argv = [a if a is not None else "" for a in args[:4]]
        if self.prefs.get("text_color_nicks") and argv and event in ("Channel Action", "Channel Message"):
            argv[0] = "\x03%d%s" % (formatting.nick_color(argv[0]), argv[0])
        if self.run_print_hooks(sess, event, argv, stamp):
            return 1
        if sess.id not in self.sessions:
            return 1
        if event in ("Join", "Part", "Part with Reason", "Quit") and self._chanopt(sess, "text_hidejoinpart", "irc_conf_mode"):
            return 1
        if event == "Change Nick" and self.prefs.get("irc_hide_nickchange"):
            return 1
        self.events.append((sess.id, event, list(argv)))
        text = formatting.format_event(fmt, nargs, argv + [""] * 27, bool(self.prefs.get("text_indent")))
        if text:
            self.print_text(sess, text)
        return 1

    def _chanopt(self, sess: Session, opt: str, pref: str) -> bool:
        value = sess.chanopts.get(opt, 2)
        return bool(self.prefs.get(pref)) if value == 2 else bool(value)

    # ------------------------------------------------------------------
    # Backend: scheduling
    def call_soon(self, fn: Callable[[], None]) -> None:
        """Thread-safe: queue ``fn`` for the driving thread and wake it."""
        with self._cond:
            self._queue.append(fn)
            self._cond.notify_all()

    def pump(self) -> int:
        """Run every queued callable (including ones queued meanwhile), then
        the fake server's answers, as HexChat's main loop would."""
        self._check_thread()
        count = 0
        while True:
            with self._cond:
                fn = self._queue.popleft() if self._queue else None
            if fn is None:
                if not self._deliver_one():
                    return count
            else:
                fn()
            count += 1

    def send_raw(self, line: str) -> None:
        """A line HexChat sends to the server: recorded, and answered later by
        the fake server (see fake_server.py)."""
        self.sent.append(line)
        self.fake_server.on_sent(line)

    def deliver_later(self, line: str) -> None:
        """A server line that arrives once the current work is done."""
        self._network.append(line)

    def _deliver_one(self) -> bool:
        if not self._network or self.hooks.dispatching:
            return False
        self.inbound.handle_line(self._network.popleft())
        return True

    def run_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Run queued callables until ``predicate()`` is true.

        Blocks on a Condition between items (no polling). Raises TimeoutError
        after ``timeout`` real seconds without the predicate becoming true.
        """
        self._check_thread()
        deadline = _time.monotonic() + timeout
        while True:
            if predicate():
                return
            if not self._queue and self._deliver_one():
                continue
            with self._cond:
                while not self._queue:
                    left = deadline - _time.monotonic()
                    if left <= 0:
                        raise TimeoutError(
                            "run_until: condition %r still false after %.2fs; "
                            "%d callables queued, virtual time %d ms"
                            % (getattr(predicate, "__name__", predicate), timeout,
                               len(self._queue), self.now))
                    self._cond.wait(left)
                fn = self._queue.popleft()
            fn()

    # ------------------------------------------------------------------
    # Backend: contexts
    def get_context(self) -> int:
        return self._ctx

    def set_context(self, ctx: int) -> bool:
        if ctx in self.sessions:
            self._ctx = ctx
            return True
        return False

    def context_alive(self, ctx: int) -> bool:
        return ctx in self.sessions

    def front_context(self) -> int:
        return self._front

    def find_context(self, server: Optional[str], channel: Optional[str]) -> Optional[int]:
        """``hexchat_find_context``: prefer the current context's server."""
        if server is None and channel is None:
            return self._front if self._front in self.sessions else None
        cur = self.sessions.get(self._ctx)
        servers = list(self.servers)
        if cur is not None:
            servers.remove(cur.server)
            servers.insert(0, cur.server)

        def server_matches(serv: Server) -> bool:
            if server is None:
                return True
            low = server.lower()
            return (serv.servername.lower() == low or serv.hostname.lower() == low
                    or (serv.network or "").lower() == low)

        for serv in servers:
            if not server_matches(serv):
                continue
            if channel is None:
                sess = self.sessions.get(serv.front_session) or self.sessions.get(serv.server_session)
                if sess is not None:
                    return sess.id
                continue
            for sess in self.sessions.values():
                if sess.server is serv and sess.channel and serv.cmp(sess.channel, channel) == 0:
                    return sess.id
        return None

    # ------------------------------------------------------------------
    # Backend: calls on the current context
    def prnt(self, text: str) -> None:
        sess = self.sessions.get(self._ctx)
        if sess is not None:
            self.print_text(sess, text)

    def emit_print(self, event: str, args: List[str], time: int) -> int:
        sess = self.sessions.get(self._ctx)
        if sess is None:
            return 0
        return self.emit(sess, event, *list(args)[:4], stamp=int(time or 0))

    def command(self, text: str) -> None:
        sess = self.sessions.get(self._ctx)
        if sess is not None:
            self.commands.handle_command(sess, text, check_spch=False)

    def nickcmp(self, a: str, b: str) -> int:
        sess = self.sessions.get(self._ctx)
        serv = sess.server if sess else self.serv
        return serv.cmp(a, b)

    def strip(self, text: str, length: int = -1, flags: int = 3) -> str:
        return formatting.strip(text, length, flags)

    def get_info(self, name: str) -> Optional[str]:
        return info.get_info(self, name)

    def get_prefs(self, name: str) -> Union[str, int, None]:
        return info.get_prefs(self, name)

    def get_list(self, name: str) -> Optional[List[dict]]:
        from .lists import build_list
        return build_list(self, name)

    # ------------------------------------------------------------------
    # Backend: hooks
    def hook_command(self, name: str, priority: int, help: Optional[str],
                     callback: Callable) -> object:
        return self.hooks.add(Hook(kind=COMMAND, name=name, priority=int(priority),
                                   callback=callback, help=help))

    def hook_print(self, name: str, priority: int, callback: Callable, with_attrs: bool) -> object:
        return self.hooks.add(Hook(kind=PRINT_ATTRS if with_attrs else PRINT, name=name,
                                   priority=int(priority), callback=callback,
                                   with_attrs=bool(with_attrs)))

    def hook_server(self, name: str, priority: int, callback: Callable, with_attrs: bool) -> object:
        return self.hooks.add(Hook(kind=SERVER_ATTRS if with_attrs else SERVER, name=name,
                                   priority=int(priority), callback=callback,
                                   with_attrs=bool(with_attrs)))

    def hook_timer(self, timeout_ms: int, callback: Callable[[], bool]) -> object:
        return self.clock.add_timer(timeout_ms, callback)

    def unhook(self, hook: object) -> None:
        if isinstance(hook, Hook):
            self.hooks.remove(hook)

    # ------------------------------------------------------------------
    # Backend: pluginprefs
    def set_pluginpref(self, name: str, value: Union[str, int]) -> bool:
        return self.pluginprefs.set(name, value)

    def get_pluginpref(self, name: str) -> Union[str, int, None]:
        return self.pluginprefs.get(name)

    def del_pluginpref(self, name: str) -> bool:
        return self.pluginprefs.delete(name)

    def list_pluginpref(self) -> List[str]:
        return self.pluginprefs.list()

    # ------------------------------------------------------------------
    # Backend: plugin GUI
    def plugingui_add(self, filename: str, name: str, description: str, version: str) -> object:
        self._gui_seq += 1
        entry = {"handle": self._gui_seq, "filename": filename, "name": name,
                 "description": description, "version": version}
        self.plugin_gui.append(entry)
        return self._gui_seq

    def plugingui_remove(self, handle: object) -> None:
        self.plugin_gui[:] = [e for e in self.plugin_gui if e["handle"] != handle]

    # ------------------------------------------------------------------
    # driving: the outside world
    def feed(self, line: str) -> None:
        """A raw line arrives from the IRC server (``@time=`` tags allowed)."""
        self._check_thread()
        self.inbound.handle_line(line)

    def type(self, text: str, context: ContextRef = None) -> None:
        """The user types ``text`` into a tab's input box and presses Enter.

        ``context`` is a handle or a tab name; default the front tab. Multi-line
        text is handled line by line, as HexChat does.
        """
        self._check_thread()
        sess = self.session(context if context is not None else self._front)
        self.commands.handle_multiline(sess, text)

    def advance(self, ms: int) -> int:
        """Advance virtual time, firing due timers; returns how many fired."""
        self._check_thread()
        return self.clock.advance(ms, self._fire_timer)

    def _fire_timer(self, hook: Hook) -> bool:
        """plugin_timeout_cb: a timer starts in the front tab (current_sess)."""
        self._ctx = self._front
        ret = hook.callback()
        return bool(ret)

    def focus(self, ref: ContextRef) -> None:
        """Bring a tab to the front (what clicking it does): 'Focus Tab' event."""
        sess = self.session(ref)
        self.bring_to_front(sess)
        self.run_print_hooks(sess, "Focus Tab", [], 0)

    def bring_to_front(self, sess: Session) -> None:
        """The tab becomes the front one (of the window and of its server)."""
        self._front = sess.id
        sess.server.front_session = sess.id

    def set_inputbox(self, text: str, context: ContextRef = None) -> None:
        """What get_info('inputbox') reports (SETTEXT); the cursor goes to its end."""
        sess = self.session(context if context is not None else self._front)
        self.inputbox[sess.id] = text
        self.cursor[sess.id] = len(text)

    def set_cursor(self, sess: Session, spec: str) -> None:
        """SETCURSOR: ``+N``/``-N`` move it, ``N`` puts it there (clamped)."""
        text = self.inputbox.get(sess.id, "")
        num = int(spec) if spec.lstrip("+-").isdigit() else 0
        pos = self.cursor.get(sess.id, 0) + num if spec[:1] in "+-" else num
        self.cursor[sess.id] = max(0, min(pos, len(text)))

    def attach_python_loader(self, loader: object) -> None:
        """What loads ``.py`` scripts for /py load, /load x.py, /py list: the
        sandbox running them (see plugins.PythonLoader)."""
        self.python_plugin.loader = loader  # type: ignore[assignment]

    def connect(self, nick: Optional[str] = None, servername: Optional[str] = None,
                isupport: Optional[Dict[str, str]] = None, motd: Optional[List[str]] = None) -> None:
        """Play a realistic registration so scripts see a connected client."""
        self._check_thread()
        world.connect(self, nick=nick, servername=servername, isupport=isupport, motd=motd)

    def join(self, channel: str, users: Optional[List[str]] = None, topic: Optional[str] = None,
             host: str = "tester@localhost", modes: Optional[str] = "+nt") -> int:
        """The server confirms we joined ``channel`` (with a names list, then
        324 ``modes`` in answer to the MODE query HexChat sends on joining;
        None for a server that does not answer). Returns the handle."""
        self._check_thread()
        return world.join(self, channel, users or [], topic, host, modes)
