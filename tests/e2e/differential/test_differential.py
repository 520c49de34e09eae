"""Differential tests: HexChat's in-process Python plugin vs hexsandbox in
HexChat vs hexsandbox on the emulator, same script, same traffic
(docs/differential.md)."""

import pytest

from .normalise import assert_same
from .scenarios import corpus

SCENARIOS = corpus()


def _emulator_param(scn):
    marks = [pytest.mark.xfail(strict=True, reason=scn.emulator_xfail)] if scn.emulator_xfail else []
    return pytest.param(scn, id=scn.name, marks=marks)


@pytest.mark.parametrize("scn", [pytest.param(s, id=s.name) for s in SCENARIOS])
def test_sandboxed_hexchat_matches_in_process(scn, play):
    """(a) == (b): a difference here is a sandbox bug; never weaken it."""
    reference = play(scn, "inproc")
    sandboxed = play(scn, "sandbox")
    assert_same(reference, sandboxed, "hexchat-in-process", "hexchat-sandboxed", scn.name)


@pytest.mark.parametrize("scn", [_emulator_param(s) for s in SCENARIOS])
def test_emulator_matches_hexchat(scn, play):
    """(a) == (c): the emulator's fidelity."""
    reference = play(scn, "inproc")
    emulated = play(scn, "emulator")
    assert_same(reference, emulated, "hexchat-in-process", "emulator-sandboxed", scn.name)
