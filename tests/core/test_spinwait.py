"""The adaptive spin (hexsandbox/spinwait.py): it switches itself off when a
spin runs out and back on when a sleep ends sooner than a spin would have.
Deterministic: data is written before the wait, or never."""

import socket
import time

from hexsandbox.spinwait import SpinWaiter, default_spin_us, usable_cpus


def _pipe():
    a, b = socket.socketpair()
    return a, b


def test_data_already_there_is_found_while_spinning():
    a, b = _pipe()
    w = SpinWaiter(200)
    b.send(b"x")
    assert w.wait(a.fileno(), 1.0) and w.spinning


def test_a_spin_that_runs_out_switches_spinning_off_and_still_honours_the_timeout():
    a, _b = _pipe()
    w = SpinWaiter(200)
    assert w.wait(a.fileno(), 0.01) is False
    assert w.spinning is False


def test_the_spin_never_outlasts_the_timeout():
    # issue 8: spin_us = 3000000 stalled 3 s with a 500 ms deadline.
    a, _b = _pipe()
    w = SpinWaiter(3_000_000)
    t0 = time.monotonic()
    assert w.wait(a.fileno(), 0.2) is False
    assert time.monotonic() - t0 < 0.2 + 0.05


def test_a_quick_sleep_switches_it_back_on():
    a, b = _pipe()
    w = SpinWaiter(200_000)  # 0.2 s: data already there counts as "sooner"
    w.spinning = False
    b.send(b"x")
    assert w.wait(a.fileno(), 1.0) and w.spinning


def test_zero_never_spins():
    a, b = _pipe()
    w = SpinWaiter(0)
    assert not w.spinning
    b.send(b"x")
    assert w.wait(a.fileno(), 1.0) and not w.spinning


def test_default_is_off_below_four_cpus():
    assert default_spin_us() == (200 if usable_cpus() >= 4 else 0)
