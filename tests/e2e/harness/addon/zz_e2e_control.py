# hexsandbox e2e test harness: control channel, loaded *inside* HexChat.
#
# The harness copies this file into <configdir>/addons/ before HexChat starts,
# together with <configdir>/e2e-control.json that names the unix socket to
# listen on. It is test infrastructure, not part of hexsandbox.
#
# Shape: a background thread accepts connections on the unix socket; one
# thread per connection reads JSON-line requests, queues them, and wakes
# HexChat's main thread through an eventfd watched by hexchat_hook_fd
# (registered via _hexchat_embedded, as the python plugin does not expose
# hook_fd). All HexChat API calls happen on the main thread, in the fd
# callback. The connection thread waits for the reply and writes it back.
#
# Request:  {"id": 1, "op": "eval", ...}\n
# Reply:    {"id": 1, "ok": true, "result": ...}\n
#       or  {"id": 1, "ok": false, "error": "...", "traceback": "..."}\n
__module_name__ = 'e2e-control'
__module_version__ = '1.0'
__module_description__ = 'hexsandbox e2e test harness control channel'

import json
import os
import queue
import socket
import sys
import threading
import traceback

import hexchat

_CONFIGDIR = hexchat.get_info('configdir')
with open(os.path.join(_CONFIGDIR, 'e2e-control.json'), encoding='utf-8') as _f:
    _CONF = json.load(_f)

_SOCKET_PATH = _CONF['socket']
_LOGMASK_DIR = os.path.join(_CONFIGDIR, 'logs')
# Lines the environment prints at start-up into whatever tab is in front
# (no D-Bus session, no notification daemon under Xvfb): left out of
# transcripts unless noise=True.
_NOISE_PREFIXES = (
    'Failed loading notification plugin:',
    "Couldn't connect to session bus:",
)

_jobs = queue.SimpleQueue()
_stopping = threading.Event()
_threads = []
_conns = set()
_conns_lock = threading.Lock()
_eval_ns = {'hexchat': hexchat, '__name__': 'e2e_eval'}

# Keep a reference to this script's Plugin object (the loader's weak proxy
# stays valid while the script is loaded).
_self_plugin = globals().get('__plugin')


class _Job(object):
    __slots__ = ('req', 'done', 'reply')

    def __init__(self, req):
        self.req = req
        self.done = threading.Event()
        self.reply = None

    def finish(self, reply):
        if not self.done.is_set():
            reply['id'] = self.req.get('id')
            self.reply = reply
            self.done.set()


class _Pending(object):
    """Returned by a handler that will call job.finish() later."""


PENDING = _Pending()


# ------------------------------------------------------------------ wake-up

_efd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
_fd_hook = None
_fd_cb = None
_timer_hook = None
WAKE_MODE = 'hook_fd'


def _wake():
    try:
        os.eventfd_write(_efd, 1)
    except OSError:
        pass


def _drain():
    try:
        os.eventfd_read(_efd)
    except (BlockingIOError, OSError):
        pass
    while True:
        try:
            job = _jobs.get_nowait()
        except queue.Empty:
            break
        _run(job)


def _on_fd(fd, flags, userdata):
    try:
        _drain()
    except BaseException:
        traceback.print_exc()
    return 1  # keep the hook


try:
    from _hexchat_embedded import ffi as _ffi, lib as _lib
    _fd_cb = _ffi.callback('int(int, int, void *)', _on_fd, 1)
    _fd_hook = _lib.hexchat_hook_fd(_lib.ph, _efd, 1, _fd_cb, _ffi.NULL)  # 1 = HEXCHAT_FD_READ
except Exception:  # pragma: no cover - only if the embedded module changes
    # Fallback: a 20 ms timer. Only used when hook_fd is unreachable.
    WAKE_MODE = 'timer'
    _timer_hook = hexchat.hook_timer(20, lambda _ud: (_drain(), True)[1])


# ------------------------------------------------------------------ helpers

def _to_json(obj, depth=0):
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if depth > 50:
        return repr(obj)
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = list(obj)
        if isinstance(obj, (set, frozenset)):
            try:
                items = sorted(items)
            except TypeError:
                pass
        return [_to_json(x, depth + 1) for x in items]
    if isinstance(obj, dict):
        return {str(k): _to_json(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, bytes):
        return obj.decode('utf-8', 'replace')
    if type(obj).__name__ == 'ListItem':
        return {k: _to_json(v, depth + 1) for k, v in vars(obj).items()
                if not k.startswith('_')}
    if type(obj).__name__ == 'Context':
        try:
            return {'context': True, 'server': obj.get_info('server'),
                    'channel': obj.get_info('channel'), 'network': obj.get_info('network')}
        except Exception:
            return repr(obj)
    return repr(obj)


def _find_context(spec):
    """spec: None (front tab) or {"server": ..., "channel": ...}."""
    if not spec:
        ctx = hexchat.find_context()
    else:
        ctx = hexchat.find_context(server=spec.get('server'), channel=spec.get('channel'))
    if ctx is None:
        raise LookupError('no such context: %r' % (spec,))
    return ctx


def _plugins():
    """The python plugin's set of loaded scripts (Plugin objects)."""
    plugin_cls = _self_plugin.__class__
    return plugin_cls.loadfile.__globals__['plugins']


def scripts():
    """{__module_name__: globals dict} of every loaded Python script."""
    return {p.name: p.globals for p in list(_plugins())}


def script(name):
    """The globals of a loaded script, by __module_name__ or file name."""
    for p in list(_plugins()):
        if name in (p.name, p.filename, os.path.basename(p.filename)):
            return p.globals
    raise KeyError('no loaded script %r' % (name,))


# ------------------------------------------------------------- transcripts

_LOWER = str.maketrans('ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^/', 'abcdefghijklmnopqrstuvwxyz{|}~_')


def _log_name(name):
    # HexChat's log_create_filename: rfc1459 lower-casing, '/' -> '_'.
    return name.translate(_LOWER)


def _read_log(path, noise):
    try:
        with open(path, 'rb') as f:
            data = f.read().decode('utf-8', 'replace')
    except OSError:
        return []
    out = []
    skip_blank = False
    for line in data.split('\n'):
        if skip_blank:
            skip_blank = False
            if line == '':
                continue
        if line.startswith('**** BEGIN LOGGING AT ') or line.startswith('**** ENDING LOGGING AT '):
            skip_blank = True  # ctime() ends with '\n': a blank line follows
            continue
        if not noise and line.startswith(_NOISE_PREFIXES):
            continue
        out.append(line if '\t' in line else '\t' + line)
    if out and out[-1] == '\t':  # the split after the final newline
        out.pop()
    return out


def _all_logs():
    found = []
    for dirpath, _dirs, files in os.walk(_LOGMASK_DIR):
        for fn in files:
            if fn.endswith('.log'):
                full = os.path.join(dirpath, fn)
                found.append(os.path.relpath(full, _LOGMASK_DIR))
    return found


def transcript(noise=False):
    """{context name: [lines]} reconstructed from HexChat's per-tab logs.

    See docs/testing-with-hexchat.md for what is captured and the limits."""
    files = set(_all_logs())
    channels = hexchat.get_list('channels') or []
    servtab = {}
    for item in channels:
        if item.type == 1:
            servtab.setdefault(item.id, item)
    result = {}
    claimed = set()
    order = []
    for item in channels:
        st = servtab.get(item.id)
        nets = []
        if st is not None and st.channel:
            nets.append(_log_name(st.channel))
        if item.network:
            nets.append(_log_name(item.network))
        nets.append('NETWORK')
        if item.type == 1 and (not item.channel or
                               _log_name(item.channel) == _log_name(item.server or '')):
            stem = 'server'
        else:
            stem = _log_name(item.channel)
        current = None
        for net in nets:
            cand = os.path.join(net, stem + '.log')
            if cand in files:
                current = cand
                break
        key = item.channel or item.server or 'server'
        if key in result:
            key = '%s/%s' % (item.network, key)
        order.append((item, key, current))
        if current:
            claimed.add(current)
    first_server_done = False
    for item, key, current in order:
        pieces = []
        if item.type == 1 and not first_server_done:
            # The server tab's log path follows its names as HexChat learns
            # them, so it writes several files, in this order:
            #   NETWORK/server.log   before connecting (no names yet)
            #   NETWORK/.log         server name = the host we dial
            #   <host>/server.log    tab named after the host
            #   <server>/server.log  after 001 (the server's own name)
            #   <network>/<network>.log  after 005 NETWORK= (current file)
            # Unclaimed pieces all go to the first server tab.
            first_server_done = True
            host = ''
            try:
                host = item.context.get_info('host') or ''
            except Exception:
                pass
            seq = ['NETWORK/server.log', 'NETWORK/.log']
            if host:
                seq.append(os.path.join(_log_name(host), 'server.log'))
            if item.server:
                seq.append(os.path.join(_log_name(item.server), 'server.log'))
            for f in seq:
                if f in files and f not in claimed and f != current and f not in pieces:
                    pieces.append(f)
            pieces.extend(sorted(f for f in files - claimed
                                 if f not in pieces and f != current
                                 and os.path.basename(f) in ('server.log', '.log')))
            claimed.update(pieces)
        if current:
            pieces.append(current)
        lines = []
        for f in pieces:
            lines.extend(_read_log(os.path.join(_LOGMASK_DIR, f), noise))
        result[key] = lines
    for f in sorted(files - claimed):  # closed tabs and renamed queries
        result[f[:-4]] = _read_log(os.path.join(_LOGMASK_DIR, f), noise)
    return result


# -------------------------------------------------------------- operations

def _op_ping(job, req):
    return {
        'pid': os.getpid(), 'sid': os.getsid(0), 'pgid': os.getpgid(0),
        'uid': os.getuid(), 'gid': os.getgid(), 'wake': WAKE_MODE,
        'python': sys.version, 'hexchat_version': hexchat.get_info('version'),
        'configdir': _CONFIGDIR,
    }


def _op_command(job, req):
    _find_context(req.get('context')).command(req['text'])
    return None


def _op_prnt(job, req):
    _find_context(req.get('context')).prnt(req['text'])
    return None


def _op_get_info(job, req):
    return _find_context(req.get('context')).get_info(req['name'])


def _op_contexts(job, req):
    out = []
    for item in hexchat.get_list('channels') or []:
        out.append({'channel': item.channel, 'server': item.server, 'network': item.network,
                    'type': item.type, 'id': item.id, 'users': item.users, 'flags': item.flags})
    return out


def _op_eval(job, req):
    code = req['code']
    ns = _eval_ns
    ns.setdefault('script', script)
    ns.setdefault('scripts', scripts)
    ns.setdefault('transcript', transcript)
    try:
        compiled = compile(code, '<e2e-eval>', 'eval')
    except SyntaxError:
        compiled = None
    if compiled is not None:
        return eval(compiled, ns)
    ns.pop('result', None)
    exec(compile(code, '<e2e-eval>', 'exec'), ns)
    return ns.pop('result', None)


def _op_transcript(job, req):
    return transcript(noise=bool(req.get('noise')))


def _op_wait_context(job, req):
    """Reply once a context for {server, channel} exists (e.g. after JOIN),
    or with an error after timeout seconds. Event-driven in HexChat."""
    spec = {'server': req.get('server'), 'channel': req['channel']}
    if hexchat.find_context(server=spec['server'], channel=spec['channel']) is not None:
        return True
    hooks = []

    def done(ok):
        for kind, h in hooks:
            hexchat.unhook(h)
        del hooks[:]
        if ok:
            job.finish({'ok': True, 'result': True})
        else:
            job.finish({'ok': False, 'error': 'TimeoutError: no context %r after %ss'
                        % (spec, req.get('wait', 10))})

    def on_event(word, word_eol, userdata):
        if hooks and hexchat.find_context(server=spec['server'], channel=spec['channel']) is not None:
            done(True)
        return hexchat.EAT_NONE

    def on_timeout(userdata):
        if hooks:
            done(hexchat.find_context(server=spec['server'], channel=spec['channel']) is not None)
        return False

    for ev in ('You Join', 'Open Context'):
        hooks.append(('print', hexchat.hook_print(ev, on_event, priority=hexchat.PRI_LOWEST)))
    hooks.append(('timer', hexchat.hook_timer(int(float(req.get('wait', 10)) * 1000), on_timeout)))
    return PENDING


_expects = {}
_expect_ids = iter(range(1, 1 << 62))


def _op_expect_print(job, req):
    """Start recording a print event (before causing it); returns an id for
    wait_expect. Matches when `contains` is in one of its words (or always)
    and, if given, the event's context is `channel`. Hooked at PRI_HIGHEST so
    scripts that eat the event do not hide it."""
    eid = next(_expect_ids)
    contains = req.get('contains')
    channel = req.get('channel')
    st = {'matches': [], 'waiter': None, 'hook': None, 'timer': None}

    def on_print(word, word_eol, userdata):
        if contains is not None and not any(contains in w for w in word):
            return hexchat.EAT_NONE
        if channel is not None and hexchat.nickcmp(hexchat.get_info('channel') or '', channel) != 0:
            return hexchat.EAT_NONE
        st['matches'].append({'word': list(word), 'channel': hexchat.get_info('channel')})
        if st['waiter'] is not None:
            _expect_done(eid, True)
        return hexchat.EAT_NONE

    st['hook'] = hexchat.hook_print(req['event'], on_print, priority=hexchat.PRI_HIGHEST)
    _expects[eid] = st
    return eid


def _expect_done(eid, ok):
    st = _expects.pop(eid, None)
    if st is None:
        return
    hexchat.unhook(st['hook'])
    if st['timer'] is not None:
        hexchat.unhook(st['timer'])
    job = st['waiter']
    if job is None:
        return
    if ok:
        job.finish({'ok': True, 'result': st['matches'][0]})
    else:
        job.finish({'ok': False, 'error': 'TimeoutError: the expected print event did not come'})


def _op_wait_expect(job, req):
    eid = req['eid']
    st = _expects.get(eid)
    if st is None:
        raise KeyError('no pending expectation %r' % (eid,))
    st['waiter'] = job
    if st['matches']:
        _expect_done(eid, True)
        return PENDING

    def on_timeout(userdata):
        st['timer'] = None
        _expect_done(eid, False)
        return False

    st['timer'] = hexchat.hook_timer(int(float(req.get('wait', 10)) * 1000), on_timeout)
    return PENDING


def _op_exit(job, req):
    # hexchat_exit() unloads every plugin, the python one included: run it
    # from a C timer (/TIMER), not from inside this Python callback.
    hexchat.command('timer 0.1 killall')
    return None


_OPS = {
    'ping': _op_ping, 'command': _op_command, 'prnt': _op_prnt, 'get_info': _op_get_info,
    'contexts': _op_contexts, 'eval': _op_eval, 'transcript': _op_transcript,
    'wait_context': _op_wait_context, 'exit': _op_exit,
    'expect_print': _op_expect_print, 'wait_expect': _op_wait_expect,
}


def _run(job):
    req = job.req
    try:
        # Like a timer callback: start in the front tab.
        front = hexchat.find_context()
        if front is not None:
            front.set()
        handler = _OPS.get(req.get('op'))
        if handler is None:
            raise ValueError('unknown op %r' % (req.get('op'),))
        result = handler(job, req)
        if result is PENDING:
            return
        job.finish({'ok': True, 'result': _to_json(result)})
    except BaseException as e:
        job.finish({'ok': False, 'error': '%s: %s' % (type(e).__name__, e),
                    'traceback': traceback.format_exc()})


# ----------------------------------------------------------------- threads

def _serve_conn(conn):
    f = conn.makefile('rb')
    try:
        for raw in f:
            if _stopping.is_set():
                break
            try:
                req = json.loads(raw.decode('utf-8'))
            except ValueError as e:
                reply = {'id': None, 'ok': False, 'error': 'bad request: %s' % e}
            else:
                job = _Job(req)
                _jobs.put(job)
                _wake()
                while not job.done.wait(1.0):  # re-check stop at most every second
                    if _stopping.is_set():
                        job.finish({'ok': False, 'error': 'e2e-control unloaded'})
                reply = job.reply
            try:
                data = json.dumps(reply, default=repr).encode('utf-8') + b'\n'
            except Exception as e:
                data = json.dumps({'id': reply.get('id'), 'ok': False,
                                   'error': 'unserialisable reply: %r' % (e,)}).encode() + b'\n'
            conn.sendall(data)
    except OSError:
        pass
    finally:
        with _conns_lock:
            _conns.discard(conn)
        try:
            conn.close()
        except OSError:
            pass


def _accept_loop(srv):
    while not _stopping.is_set():
        try:
            conn, _ = srv.accept()
        except OSError:
            break
        with _conns_lock:
            _conns.add(conn)
        t = threading.Thread(target=_serve_conn, args=(conn,), name='e2e-control-conn', daemon=True)
        t.start()


try:
    os.unlink(_SOCKET_PATH)
except FileNotFoundError:
    pass
_srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
_old_umask = os.umask(0o117)  # socket file mode 0660; the directory is private
try:
    _srv.bind(_SOCKET_PATH)
finally:
    os.umask(_old_umask)
_srv.listen(8)
_accept_thread = threading.Thread(target=_accept_loop, args=(_srv,), name='e2e-control-accept',
                                  daemon=True)
_accept_thread.start()


def _on_unload(userdata):
    _stopping.set()
    # Wake the accept() thread: shutdown()/close() of a listening unix socket
    # does not interrupt a blocked accept(), a connection does.
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1.0)
            s.connect(_SOCKET_PATH)
    except OSError:
        pass
    _accept_thread.join(2.0)
    _srv.close()
    with _conns_lock:
        conns = list(_conns)
    for c in conns:
        try:
            c.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    try:
        os.unlink(_SOCKET_PATH)
    except OSError:
        pass
    while True:  # fail whatever is still queued
        try:
            _jobs.get_nowait().finish({'ok': False, 'error': 'e2e-control unloaded'})
        except queue.Empty:
            break
    global _fd_hook
    if _fd_hook is not None:
        try:
            _lib.hexchat_unhook(_lib.ph, _fd_hook)
        except Exception:
            pass
        _fd_hook = None


hexchat.hook_unload(_on_unload)
