"""`hexsandbox demo` (the README's main job) runs and tells the story."""

import os
import subprocess
import sys

import pytest

EXE = os.path.join(os.path.dirname(sys.executable), "hexsandbox")


@pytest.mark.parametrize("scripts", [None, "empty"])
def test_demo_runs_and_exits_zero(tmp_path, scripts):
    argv = [EXE, "demo"]
    if scripts == "empty":  # no examples folder: the embedded scripts are used
        argv += ["--scripts", str(tmp_path)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    assert "sent to the server: PRIVMSG #test :" in text and "carol" in text
    assert "outer start" in text and text.index("inner saw nested-hi") < text.index("outer end")
    assert "SLOWLOOKUP result: hexchat" in text
    assert "crasher crashed (SIGSEGV)" in text
    assert "did not answer command 'HANG' within 500 ms" in text
    assert "then it answers again" in text
    assert "still running: greeter, nested, threaded_worker, hanger, bench" in text
