"""Fixtures for the differential tests (docs/differential.md).

``play(scenario, mode)`` runs one scenario and returns its normalised
transcript; ``mode`` is ``"inproc"`` (HexChat's own Python plugin),
``"sandbox"`` (hexsandbox inside HexChat) or ``"emulator"`` (hexsandbox on the
emulator). Each real-HexChat run gets its own HexChat and scripted server,
stopped at once, and checked for processes left behind (workers included).

The in-process transcript is the reference for two tests per scenario; it is
computed once per test session and shared between xdist workers through a
file under pytest's common base temp dir, guarded by an flock.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile

import pytest

from .runner import (
    DiffHexChat,
    DiffSandboxedHexChat,
    Scenario,
    hexchat_files,
    make_server,
    play_emulator,
    play_hexchat,
    sandbox_ini,
)


def _run_hexchat(xvfb, sandbox_env, scn: Scenario, mode: str):
    server = make_server().start()
    hc = None
    try:
        kwargs = dict(channel="#test", files=hexchat_files(scn, mode))
        if mode == "sandbox":
            hc = DiffSandboxedHexChat(xvfb, server.host, server.port, env=sandbox_env,
                                      sandbox_scripts={scn.filename: scn.source},
                                      sandbox_ini=sandbox_ini(scn), **kwargs)
        else:
            hc = DiffHexChat(xvfb, server.host, server.port, **kwargs)
        hc.start()
        transcript = play_hexchat(hc, server, scn, mode)
    finally:
        problems = []
        if hc is not None:
            r = hc.stop()
            if r.leftovers:
                problems.append(f"HexChat ({mode}) left processes behind: {r.leftovers}")
            if r.still_alive:
                problems.append(f"could not kill: {r.still_alive}")
        server.stop()
        if problems:
            pytest.fail("\n".join(problems))
    return transcript


@pytest.fixture(scope="session")
def _reference_dir(tmp_path_factory, worker_id):
    base = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        base = base.parent          # shared by every xdist worker of this run
    path = base / "differential-reference"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def play(request, xvfb, _reference_dir):
    def run(scn: Scenario, mode: str):
        if mode == "emulator":
            d = tempfile.mkdtemp(prefix="hexsandbox-diff-emu-")
            try:
                return play_emulator(scn, d)
            finally:
                shutil.rmtree(d, ignore_errors=True)
        if mode == "sandbox":
            return _run_hexchat(xvfb, request.getfixturevalue("sandbox_env"), scn, mode)
        assert mode == "inproc", mode
        cache = _reference_dir / f"{scn.name}.json"
        with open(_reference_dir / f"{scn.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if cache.exists():
                return json.loads(cache.read_text())
            transcript = _run_hexchat(xvfb, None, scn, mode)
            tmp = cache.with_suffix(".tmp")
            tmp.write_text(json.dumps(transcript))
            os.replace(tmp, cache)
            return transcript
    return run
