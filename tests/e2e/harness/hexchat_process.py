"""Start, drive and stop a real HexChat 2.16 for one test.

Layout of one instance (a fresh ``/tmp/hexsandbox-e2e-XXXXXXXX``, so the
unprivileged user can reach it; pytest's own tmp dirs are 0700 root)::

    base/                 owner e2e user, group = the test process's group, 2770
      config/             hexchat -d: hexchat.conf, e2e-control.json, addons/, logs/
      home/               HOME of the HexChat process
      runtime/            XDG_RUNTIME_DIR (0700)
      ctl/                the control socket (control.sock, 0660)
      hexchat.out         HexChat's stdout + stderr

HexChat runs as the e2e user (``setpriv``; through ``sudo -n`` when the tests
are not root) in its own session, with ``DISPLAY`` of the Xvfb fixture and
``irc://127.0.0.1:PORT/#chan`` on its command line, so it connects and joins
at start without any dialog (``gui_slist_skip = 1``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from .addon_order import make_first
from .control import ADDON_NAME, ADDON_PATH, ControlClient
from .procs import (
    HarnessError,
    ProcInfo,
    as_user,
    chown_tree,
    e2e_user,
    is_alive,
    kill_group,
    proc_info,
    related_procs,
    remove_tree,
    send_signal,
    established_tcp,
    established_tcp_of_uid,
    terminate_all,
    wchan,
    wait_pid_exit,
)
from .xvfb import Xvfb

# hexchat.conf settings for tests; keys are from HexChat 2.16's cfgfiles.c.
DEFAULT_CONFIG: Dict[str, Any] = {
    "gui_slist_skip": 1,          # no network list dialog at start
    "gui_quit_dialog": 0,         # no "are you sure" when quitting
    "gui_join_dialog": 0,         # no "join a channel" dialog after connect
    "gui_tray": 0,
    "gui_tray_blink": 0,
    "input_balloon_chans": 0, "input_balloon_hilight": 0, "input_balloon_priv": 0,
    "input_tray_chans": 0, "input_tray_hilight": 0, "input_tray_priv": 0,
    "input_flash_chans": 0, "input_flash_hilight": 0, "input_flash_priv": 0,
    "input_beep_chans": 0, "input_beep_hilight": 0, "input_beep_priv": 0,
    "irc_nick1": "e2ebot", "irc_nick2": "e2ebot_", "irc_nick3": "e2ebot__",
    "irc_user_name": "e2e",
    "irc_real_name": "hexsandbox e2e",
    "identd_server": 0,           # no identd listener
    "net_auto_reconnect": 0,      # a dropped test server ends the connection
    "net_auto_reconnectonfail": 0,
    "net_reconnect_delay": 1,
    "net_throttle": 0,            # send lines to the server at once
    "irc_logging": 1,             # per-tab logs: the transcript source
    "irc_logmask": "%n/%c.log",   # <network>/<channel>.log under config/logs
    "stamp_log": 0,               # no timestamps in logs
    "stamp_text": 0,
    "text_replay": 0,             # no scrollback files, nothing replayed
    "url_grabber": 0,
    "dcc_auto_recv": 0,
    "away_track": 0,              # no periodic WHO for away tracking
}

StopInfo = Tuple[int, str]


@dataclass
class StopResult:
    exit_code: Optional[int]      # HexChat's exit status if we saw it (None under sudo)
    clean: bool                   # exited by itself after /killall within the timeout
    leftovers: List[StopInfo] = field(default_factory=list)  # (pid, cmdline) alive after HexChat ended
    still_alive: List[int] = field(default_factory=list)     # could not be killed (should be empty)
    skipped_exit_sleep: bool = False  # HexChat's final sleep(2) was cut short by SIGKILL


def _conf_value(v: Any) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    return str(v)


class HexChat:
    """One HexChat process. Use via the ``hexchat_factory`` fixture."""

    def __init__(
        self,
        xvfb: Xvfb,
        host: str,
        port: int,
        channel: Optional[str] = "#test",
        scripts: Union[Mapping[str, str], Sequence[str], None] = None,
        config: Optional[Mapping[str, Any]] = None,
        env: Optional[Mapping[str, str]] = None,
        extra_args: Sequence[str] = (),
        start_timeout: float = 30.0,
        request_timeout: float = 15.0,
        keep_dir: Optional[bool] = None,
        wait_joined: bool = True,
        first_addon: Optional[str] = None,
    ):
        self.xvfb = xvfb
        self.host, self.port, self.channel = host, port, channel
        self.scripts = scripts or {}
        self.config = dict(DEFAULT_CONFIG)
        self.config.update(config or {})
        self.extra_env = dict(env or {})
        self.extra_args = list(extra_args)
        self.start_timeout = start_timeout
        self.wait_joined_on_start = wait_joined
        #: An addon (one of ``scripts``) the Python plugin must autoload before
        #: every other (addon_order.make_first); renamed, so this is its final name.
        self.first_addon = first_addon
        self.keep_dir = (os.environ.get("HEXSANDBOX_E2E_KEEP") == "1") if keep_dir is None else keep_dir

        self.base_dir: Optional[str] = None
        self.popen: Optional[subprocess.Popen] = None
        self.control = ControlClient("", timeout=request_timeout)
        self.info: Dict[str, Any] = {}
        self.start_time: Optional[float] = None
        self.ready_time: Optional[float] = None
        self.joined_time: Optional[float] = None
        self.stop_result: Optional[StopResult] = None
        self._known_pids: set = set()
        self._launchers: set = set()

    # ------------------------------------------------------------- paths

    @property
    def config_dir(self) -> str:
        return os.path.join(self.base_dir, "config")

    @property
    def addons_dir(self) -> str:
        return os.path.join(self.config_dir, "addons")

    @property
    def socket_path(self) -> str:
        return os.path.join(self.base_dir, "ctl", "control.sock")

    @property
    def output_path(self) -> str:
        return os.path.join(self.base_dir, "hexchat.out")

    @property
    def url(self) -> str:
        chan = self.channel or ""
        return f"irc://{self.host}:{self.port}/{chan}"

    @property
    def pid(self) -> int:
        """HexChat's own PID (as reported by HexChat, so also right under sudo)."""
        if "pid" in self.info:
            return self.info["pid"]
        if self.popen is None:
            raise HarnessError("HexChat was not started")
        return self.popen.pid

    # ------------------------------------------------------------- setup

    def _prepare(self) -> None:
        self.base_dir = tempfile.mkdtemp(prefix="hexsandbox-e2e-", dir="/tmp")
        for sub in ("config", "config/addons", "home", "ctl", "runtime"):
            os.makedirs(os.path.join(self.base_dir, sub), exist_ok=True)
        with open(os.path.join(self.config_dir, "hexchat.conf"), "w") as f:
            for k, v in self.config.items():
                f.write(f"{k} = {_conf_value(v)}\n")
        with open(os.path.join(self.config_dir, "e2e-control.json"), "w") as f:
            import json

            json.dump({"socket": self.socket_path}, f)
        shutil.copyfile(ADDON_PATH, os.path.join(self.addons_dir, ADDON_NAME))
        self.add_scripts(self.scripts, _before_start=True)
        if self.first_addon:
            self.first_addon = make_first(self.addons_dir, self.first_addon)
        user = e2e_user()
        # Owner: the e2e user. Group: ours, so a non-root test process keeps
        # access (root has it anyway). setgid dirs keep that group on files
        # HexChat creates directly inside them (the control socket).
        chown_tree(self.base_dir, user.uid, os.getgid())
        for sub in ("", "config", "config/addons", "home", "ctl"):
            self._chmod(os.path.join(self.base_dir, sub), 0o2770)
        self._chmod(os.path.join(self.base_dir, "runtime"), 0o700)

    def _chmod(self, path: str, mode: int) -> None:
        try:
            os.chmod(path, mode)
        except PermissionError:
            from .procs import run_root

            run_root(["chmod", oct(mode)[2:], "--", path])

    def add_scripts(self, scripts: Union[Mapping[str, str], Sequence[str]], _before_start: bool = False) -> List[str]:
        """Put Python scripts into addons/ ({file name: source} or a list of
        paths). Before start they are autoloaded; afterwards load them with
        ``command('py load NAME')``. Returns the file names."""
        if not _before_start and self.popen is not None:
            raise HarnessError("add scripts before start (or write them and /py load)")
        names = []
        if isinstance(scripts, Mapping):
            for name, source in scripts.items():
                with open(os.path.join(self.addons_dir, name), "w", encoding="utf-8") as f:
                    f.write(source)
                names.append(name)
        else:
            for path in scripts:
                name = os.path.basename(path)
                shutil.copyfile(path, os.path.join(self.addons_dir, name))
                names.append(name)
        return names

    def _env(self) -> Dict[str, str]:
        user = e2e_user()
        env = {
            "DISPLAY": self.xvfb.display,
            "HOME": os.path.join(self.base_dir, "home"),
            "USER": user.name,
            "LOGNAME": user.name,
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "XDG_RUNTIME_DIR": os.path.join(self.base_dir, "runtime"),
            "XDG_CONFIG_HOME": os.path.join(self.base_dir, "home", ".config"),
            "XDG_CACHE_HOME": os.path.join(self.base_dir, "home", ".cache"),
            "XDG_DATA_HOME": os.path.join(self.base_dir, "home", ".local", "share"),
            # No session bus here: fail fast instead of trying to autolaunch one.
            "DBUS_SESSION_BUS_ADDRESS": "disabled:",
            "NO_AT_BRIDGE": "1",
            "GTK_MODULES": "",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env.update(self.extra_env)
        return env

    def start(self) -> "HexChat":
        self._prepare()
        argv = ["env", "-i"] + [f"{k}={v}" for k, v in self._env().items()]
        argv += ["hexchat", "-d", self.config_dir, *self.extra_args]
        if self.channel is not None or self.port:
            argv.append(self.url)
        self.control.path = self.socket_path
        out = open(self.output_path, "wb")
        self.start_time = time.monotonic()
        try:
            self.popen = subprocess.Popen(
                as_user(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=os.path.join(self.base_dir, "home"),
            )
        finally:
            out.close()
        try:
            self.wait_ready(self.start_timeout)
            if self.channel and self.wait_joined_on_start:
                self.wait_joined(self.channel, timeout=self.start_timeout)
        except BaseException:
            self.stop(timeout=3.0)
            raise
        return self

    # ----------------------------------------------------------- waiting

    def wait_ready(self, timeout: float = 30.0) -> Dict[str, Any]:
        """Until the control channel answers; then checks that HexChat runs as
        the e2e user and shows no dialog."""
        deadline = time.monotonic() + timeout
        if self.control._sock is None:
            try:
                self.control.connect(deadline, alive=lambda: self.popen.poll() is None)
            except (TimeoutError, ConnectionError) as e:
                raise HarnessError(f"HexChat did not come up: {e}\n--- output ---\n{self.output()}") from None
        self.info = self.control.ping(timeout=max(1.0, deadline - time.monotonic()))
        self._known_pids.add(self.info["pid"])
        # Under sudo, sudo's own processes (between our child and HexChat)
        # share HexChat's session: they are not HexChat's leftovers.
        self._launchers = set()
        pid = self.info["pid"]
        while pid > 1 and pid != self.popen.pid:
            info = proc_info(pid)
            if info is None:
                break
            pid = info.ppid
            self._launchers.add(pid)
        self.ready_time = time.monotonic()
        user = e2e_user()
        if self.info["uid"] != user.uid:
            raise HarnessError(f"HexChat runs as uid {self.info['uid']}, expected {user.uid}")
        dialogs = self.dialogs()
        if dialogs:
            raise HarnessError(f"HexChat shows dialogs: {dialogs}")
        return self.info

    def wait_joined(self, channel: str, server: Optional[str] = None, timeout: float = 15.0) -> None:
        """Until HexChat has a tab for ``channel`` (event-driven in HexChat)."""
        self.control.wait_context(channel, server=server, timeout=timeout)
        self.joined_time = time.monotonic()

    # --------------------------------------------------------- operations

    @staticmethod
    def _ctx(context: Union[None, str, Mapping[str, str]]) -> Optional[Dict[str, str]]:
        if context is None:
            return None
        if isinstance(context, str):
            return {"channel": context}
        return dict(context)

    def command(self, text: str, context: Union[None, str, Mapping[str, str]] = None) -> None:
        """Run a command as typed in the input box (without '/'), in the front
        tab or in ``context`` ('#chan' or {'server':..., 'channel':...})."""
        self.control.command(text, self._ctx(context))

    def prnt(self, text: str, context: Union[None, str, Mapping[str, str]] = None) -> None:
        self.control.prnt(text, self._ctx(context))

    def eval(self, code: str, timeout: Optional[float] = None) -> Any:
        """Evaluate an expression (its value is returned) or execute
        statements (the value of ``result`` is returned) in HexChat's main
        thread. The namespace persists and has ``hexchat``, ``script(name)``
        (a loaded script's globals), ``scripts()`` and ``transcript()``."""
        return self.control.eval(code, timeout)

    def get_info(self, name: str, context: Union[None, str, Mapping[str, str]] = None) -> Any:
        return self.control.get_info(name, self._ctx(context))

    def contexts(self) -> List[Dict[str, Any]]:
        return self.control.contexts()

    def transcript(self, channel: Optional[str] = None, noise: bool = False):
        """{context name: [lines 'left\\ttext']}, or the lines of one context."""
        t = self.control.transcript(noise=noise)
        if channel is None:
            return t
        for k, v in t.items():
            if k.lower() == channel.lower():
                return v
        return []

    def expect_print(self, event: str, contains: Optional[str] = None,
                     channel: Optional[str] = None) -> "PrintExpectation":
        """Start watching for a print event *before* causing it; then call
        ``.wait(timeout)`` on the result, which returns
        {'word': [...], 'channel': ...} of the first match (event-driven
        inside HexChat: a print hook, no polling)."""
        return PrintExpectation(self, self.control.expect_print(event, contains, channel))

    def output(self) -> str:
        """What HexChat wrote to stdout/stderr."""
        try:
            with open(self.output_path, "rb") as f:
                return f.read().decode(errors="replace")
        except (OSError, TypeError):
            return ""

    def windows(self) -> List[Tuple[int, str]]:
        """(X window id, title) of this HexChat's visible top-level windows
        (found by _NET_WM_PID); untitled ones (message boxes) included."""
        cmd = ["xdotool", "search", "--all", "--onlyvisible", "--pid", str(self.pid), "--name", ""]
        env = dict(os.environ, DISPLAY=self.xvfb.display)
        cp = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
        out = []
        for wid in cp.stdout.decode().split():
            name = subprocess.run(["xdotool", "getwindowname", wid], env=env,
                                  stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=10).stdout.decode(errors="replace").strip()
            out.append((int(wid), name))
        return out

    def dialogs(self) -> List[str]:
        """Titles of visible windows other than HexChat's main window
        ('(untitled)' for a window without a title, e.g. a message box)."""
        main = self.eval(_MAIN_XID_CODE)  # also XSyncs, so the list is current
        return [name or "(untitled)" for wid, name in self.windows() if wid != main]

    def children(self) -> List[ProcInfo]:
        """Live processes started by HexChat: its descendants plus anything
        left in its session or process group (orphans keep those)."""
        procs = [p for p in related_procs(self.pid, sid=self.info.get("sid"), pgid=self.info.get("pgid"),
                                          known=self._known_pids - {self.pid})
                 if p.pid not in self._launchers]
        self._known_pids.update(p.pid for p in procs)
        return procs

    def is_running(self) -> bool:
        return self.popen is not None and is_alive(self.pid)

    # --------------------------------------------------------------- stop

    def _skip_exit_sleep(self, pid: int, deadline: float) -> bool:
        """HexChat's fe_main() ends with sleep(2) when a server was ever
        connected (prefs.wait_on_exit, "so QUIT messages are not lost"), after
        plugins were unloaded, config saved and every server sent its QUIT.
        Once HexChat's main thread sits in that sleep and no TCP connection
        is still ESTABLISHED (the servers have closed their side), SIGKILL
        loses nothing and saves 2 s per test. No event marks entering the
        sleep, so this polls /proc/PID/wchan every 5 ms, bounded by
        ``deadline`` and by 2.5 s. Returns True if it cut the sleep."""
        limit = min(deadline, time.monotonic() + 2.5)
        while time.monotonic() < limit:
            w = wchan(pid)
            if w is None or not is_alive(pid):
                return False
            if w in ("hrtimer_nanosleep", "do_nanosleep"):
                open_conns = established_tcp(pid)
                if open_conns is None:  # not root: look at our server's port only
                    open_conns = established_tcp_of_uid(self.info["uid"], self.port)
                if open_conns == 0:
                    send_signal([pid], signal.SIGKILL)
                    return True
            time.sleep(0.005)
        return False

    def stop(self, timeout: float = 10.0, quit_message: Optional[str] = None,
             fast: bool = True) -> StopResult:
        """Quit HexChat (optionally /quit from the server first), then /killall
        (HexChat's exit: plugins are unloaded, config saved, QUIT sent) and
        wait at most ``timeout`` s. ``fast`` cuts HexChat's final 2 s sleep
        (see _skip_exit_sleep). Then kill whatever HexChat left behind
        (reported in ``leftovers``) and remove the instance directory."""
        if self.stop_result is not None:
            return self.stop_result
        if self.popen is None:
            self.stop_result = StopResult(None, True)
            return self.stop_result
        pid = self.pid
        try:
            self.children()  # snapshot descendants while the tree is intact
        except Exception:
            pass
        clean = False
        skipped_sleep = False
        own = self.popen if self.popen.pid == pid else None
        if is_alive(pid) and self.control._sock is not None:
            deadline = time.monotonic() + timeout
            try:
                if quit_message is not None:
                    self.control.command(f"quit {quit_message}")
                self.control.request("exit", timeout=5.0)
            except Exception:
                pass  # the reply may be lost as HexChat goes down
            # The addon's unload hook closes the control connection: plugins
            # are unloaded, HexChat is saving its state and closing.
            unloaded = self.control.wait_eof(max(0.0, deadline - time.monotonic()))
            if fast and unloaded:
                skipped_sleep = self._skip_exit_sleep(pid, deadline)
            clean = wait_pid_exit(pid, max(0.0, deadline - time.monotonic()), popen=own)
        self.control.close()
        if not clean:
            terminate_all([pid], grace=2.0)
        if self.popen.poll() is None:
            try:
                self.popen.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                terminate_all([self.popen.pid], grace=1.0)
                self.popen.wait(timeout=5.0)
        left = [p for p in related_procs(pid, sid=self.info.get("sid"), pgid=self.info.get("pgid"),
                                         known=self._known_pids - {pid})
                if p.pid not in self._launchers]
        # One already on its way out (killed by HexChat's death a moment
        # ago) is not left behind: wait for its exit, an event (pidfd).
        left = [p for p in left if not (p.exiting() and wait_pid_exit(p.pid, 2.0))]
        leftovers = [(p.pid, p.cmdline()) for p in left]
        still = terminate_all([p.pid for p in left], grace=2.0)
        if self.info.get("pgid"):
            kill_group(self.info["pgid"], signal.SIGKILL)
        exit_code = self.popen.returncode if self.popen.pid == pid else None
        if skipped_sleep and exit_code == -signal.SIGKILL:
            exit_code = 0  # it had finished its exit path; we only cut the sleep
        self.stop_result = StopResult(exit_code, clean, leftovers, still, skipped_sleep)
        if not self.keep_dir and self.base_dir:
            remove_tree(self.base_dir)
        return self.stop_result


class PrintExpectation:
    def __init__(self, hexchat: HexChat, eid: int):
        self.hexchat, self.eid = hexchat, eid

    def wait(self, timeout: float = 10.0) -> Dict[str, Any]:
        return self.hexchat.control.wait_expect(self.eid, timeout)


# Evaluated inside HexChat: the X window id of HexChat's main window, through
# GTK 2 / GDK (get_info('win_ptr') is the GtkWindow* as a '0x...' string).
_MAIN_XID_CODE = r"""
import ctypes
_gtk = ctypes.CDLL('libgtk-x11-2.0.so.0')
_gdk = ctypes.CDLL('libgdk-x11-2.0.so.0')
_gtk.gtk_widget_get_window.restype = ctypes.c_void_p
_gtk.gtk_widget_get_window.argtypes = [ctypes.c_void_p]
_gdk.gdk_x11_drawable_get_xid.restype = ctypes.c_ulong
_gdk.gdk_x11_drawable_get_xid.argtypes = [ctypes.c_void_p]
_gdk.gdk_flush()  # XSync: the X server has seen every map/unmap so far
_w = hexchat.get_info('win_ptr')
_gw = _gtk.gtk_widget_get_window(int(_w, 0)) if _w else None
result = int(_gdk.gdk_x11_drawable_get_xid(_gw)) if _gw else None
"""


def stop_unstopped(instances: "List[HexChat]") -> List[str]:
    """Stop, newest first, every HexChat a test did not stop itself (a test
    that called .stop() checks its own StopResult) and say what went wrong:
    processes left behind (reparented workers, /exec children) or ones that
    could not be killed. Fixtures fail the test with these lines."""
    problems: List[str] = []
    for hc in reversed(instances):
        if hc.stop_result is not None:
            continue
        r = hc.stop()
        if r.leftovers:
            problems.append(f"HexChat {hc.info.get('pid')} left processes behind: {r.leftovers}")
        if r.still_alive:
            problems.append(f"could not kill: {r.still_alive}")
    return problems
