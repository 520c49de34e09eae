"""The worker's standby reader (hexsandbox/rpc/standby.py): it sleeps while
the callback thread owns the socket, yet everything only a reader can bring
still arrives while a callback runs. Each test deadlocks (and fails on its
own timeout, printed by the script) if the reader does not take over."""

THREAD_ASKS = '''
__module_name__ = "asker"
import hexchat, threading
def tick(userdata):
    answered = threading.Event()
    got = []
    def ask():
        got.append(hexchat.get_info("nick"))
        answered.set()
    threading.Thread(target=ask).start()
    # The callback thread is busy here, not reading: only the standby
    # reader can bring the thread its answer.
    if answered.wait(10):
        hexchat.prnt("asker: thread got " + got[0])
    else:
        hexchat.prnt("asker: thread stuck")
    return False
hexchat.hook_timer(10, tick)
'''

PRINTS_PAST_THE_WINDOW = '''
__module_name__ = "chatty"
import hexchat
def tick(userdata):
    # 300 one-way calls from the callback thread: past the 64-call window
    # it blocks until acks come, which only the standby reader reads.
    for n in range(300):
        hexchat.prnt("chatty %d" % n)
    return False
hexchat.hook_timer(10, tick)
'''

STACK_WHILE_BUSY = '''
__module_name__ = "busy"
import hexchat, threading
release = threading.Event()
def busy_in_a_hook(word, word_eol, userdata):
    hexchat.prnt("busy: started")
    release.wait(3)  # long enough to ask for the stack, short for teardown
    return hexchat.EAT_NONE
hexchat.hook_print("Channel Message", busy_in_a_hook)
'''


def test_a_script_thread_gets_its_answer_while_the_callback_is_busy(hexchat_client):
    hexchat_client.load(THREAD_ASKS)
    hexchat_client.advance(20)  # the emulator's clock: the timer fires
    hexchat_client.wait_for(lambda: any(line.startswith("asker: thread")
                                        for line in hexchat_client.lines()), 20,
                            "the timer's verdict")
    assert "asker: thread got " + hexchat_client.emu.get_info("nick") in hexchat_client.lines()


def test_a_callback_printing_past_the_window_gets_its_acks(hexchat_client):
    hexchat_client.load(PRINTS_PAST_THE_WINDOW)
    hexchat_client.advance(20)
    hexchat_client.wait_for_line("chatty 299", timeout=20)
    chatty = [line for line in hexchat_client.lines() if line.startswith("chatty ")]
    assert chatty == [f"chatty {n}" for n in range(300)]


def test_stack_answers_while_a_callback_blocks(hexchat_client):
    # hooks = async: HexChat does not wait for the callback, so the test's
    # (main) thread is free to ask for the stack while it blocks.
    script = hexchat_client.load(STACK_WHILE_BUSY, hooks_async=True)
    hexchat_client.feed(":alice!a@example.org PRIVMSG #test :hello")
    hexchat_client.wait_for_line("busy: started", timeout=20)
    stacks = hexchat_client.sandbox.stack(script, timeout=2.0)
    # The worker's own answer, not faulthandler's dump (the fallback when
    # nobody reads the request): that one has no "--- callback thread" header.
    assert "--- callback thread" in stacks, stacks
    assert "busy_in_a_hook" in stacks, stacks


def test_the_reader_waits_out_the_grace_since_the_owner_last_left():
    """The timer is armed once and not again on every leave: when it fires
    while the owner is away but left less than the grace period ago, the
    reader re-arms for the rest, and takes the socket only then. (Without
    the re-arm nobody reads; without the check it reads too early.)"""
    import socket
    import threading
    import time

    from hexsandbox.rpc import codec, framing
    from hexsandbox.rpc import messages as M
    from hexsandbox.rpc.session import Session
    from hexsandbox.rpc.standby import GRACE_S, Standby

    ours, theirs = socket.socketpair()
    handled = threading.Event()
    handled_at = []

    def on_ping(msg):
        handled_at.append(time.monotonic())
        handled.set()
        return False

    session = Session(ours, peer="test", max_frame=1 << 16, immediate={"ping": on_ping})
    standby = Standby(session, lambda: None)
    threading.Thread(target=standby.run, daemon=True).start()
    try:
        assert session.wait(None, 0.05) is None  # reading: the first timer finds the owner here
        # Left now (the timer is armed); away for most of the grace period.
        threading.Event().wait(GRACE_S * 0.8)
        assert session.wait(None, 0.0001) is None  # back and gone again: no new arm
        left = time.monotonic()
        theirs.sendall(framing.frame(codec.encode(M.notification("ping", None, []))))
        assert handled.wait(5), "no reader took the socket while the owner was away"
        assert handled_at[0] >= left + GRACE_S - 0.001, (
            f"read {1000 * (handled_at[0] - left):.1f} ms after the owner left, "
            f"before the {1000 * GRACE_S:.0f} ms grace")
    finally:
        session.close()
        theirs.close()
        standby.needed()
