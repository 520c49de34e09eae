"""Fixtures for the emulator tests: a fresh, connected emulator per test."""

import pytest

from hexsandbox.emulator import Emulator


@pytest.fixture
def emu(tmp_path):
    e = Emulator(config_dir=str(tmp_path))
    e.connect()
    return e


@pytest.fixture
def chan(emu):
    """Handle of #chan, joined with alice (op) and bob."""
    return emu.join("#chan", users=["@alice", "bob"], topic="the topic")
