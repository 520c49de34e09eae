"""What a hostile sandboxed script needs to write raw bytes to its own socket.

Shared by tests/core/test_transport.py (emulator) and
tests/e2e/test_transport_hexchat.py (real HexChat). The script finds its
socket the way any process can (the one socket among /proc/self/fd) and
writes past the session, as a hostile peer would; it holds the session's
send lock meanwhile, so that what it writes never lands inside one of the
worker's own frames (each test then knows which fault it made).
"""

PRELUDE = '''
import hexchat, os, struct, threading, time

def _socket_fd():
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + name).startswith("socket:"):
                return int(name)
        except OSError:
            pass

FD = _socket_fd()
import hexsandbox.worker as _worker
LOCK = _worker.RUNTIME.session.send_lock  # so that the worker's own frames stay whole

def raw(data):
    """Write bytes as they are, past the session's framing."""
    view = memoryview(data)
    with LOCK:
        while view:
            try:
                view = view[os.write(FD, view):]
            except BlockingIOError:
                time.sleep(0.001)  # the socket is full: the hostile peer retries

def frame(body):
    return struct.pack(">I", len(body)) + body

def in_thread(fn):
    threading.Thread(target=fn, daemon=True).start()

PARTIAL = struct.pack(">I", 100) + b"\\x93\\x02\\xa4prnt"   # 9 of 100 bytes
INT_KEYS = b"\\x93\\x02\\xa4prnt\\x92\\xc0\\xde\\xea\\x60" + b"".join(bytes([k % 128, 0xc0]) for k in range(60000))
DEEP = b"\\x91" * 100000 + b"\\xc0"
HUGE = 100 * 1024 * 1024
'''


def script(name: str, command: str, action: str) -> str:
    """Source of a hostile script: ``command`` runs ``action`` (one line)."""
    return (f'__module_name__ = "{name}"\n' + PRELUDE
            + f"\ndef go(word, word_eol, userdata):\n    {action}\n    return hexchat.EAT_ALL\n"
            + f'hexchat.hook_command("{command}", go)\n')
