"""Virtual clock and main-thread driving."""

import threading

import pytest


def test_timers_fire_in_order_and_rearm(emu):
    fired = []
    emu.hook_timer(300, lambda: fired.append(("b", emu.now)) or False)
    emu.hook_timer(100, lambda: fired.append(("a", emu.now)) or True)
    emu.advance(350)
    assert fired == [("a", 100), ("a", 200), ("b", 300), ("a", 300)]
    assert emu.now == 350


def test_timer_unhook_and_false_removes(emu):
    fired = []
    h = emu.hook_timer(10, lambda: fired.append(1) or True)
    emu.advance(10)
    emu.unhook(h)
    emu.advance(100)
    assert fired == [1]


def test_run_until_with_call_soon_from_thread(emu):
    done = []
    ready = threading.Event()

    def worker():
        ready.wait()
        emu.call_soon(lambda: emu.prnt("from thread"))
        emu.call_soon(lambda: done.append(True))

    t = threading.Thread(target=worker)
    t.start()
    ready.set()
    emu.run_until(lambda: bool(done), timeout=5)
    t.join()
    assert emu.lines()[-1] == "\tfrom thread"


def test_run_until_timeout(emu):
    with pytest.raises(TimeoutError, match="still false"):
        emu.run_until(lambda: False, timeout=0.05)


def test_pump_runs_in_order(emu):
    out = []
    for i in range(3):
        emu.call_soon(lambda i=i: out.append(i))
    assert emu.pump() == 3 and out == [0, 1, 2]


def test_other_thread_is_rejected(emu):
    errors = []

    def bad():
        try:
            emu.feed("PING :x")
        except AssertionError as exc:
            errors.append(exc)

    t = threading.Thread(target=bad)
    t.start()
    t.join()
    assert errors
