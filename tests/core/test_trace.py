"""HEXSANDBOX_TRACE=FILE: every message, both directions, one JSON line each."""

import json

from hexsandbox.rpc import trace
from hexsandbox.testing import EmulatedClient


def test_trace_records_both_directions_from_both_processes(tmp_path, monkeypatch):
    path = tmp_path / "trace.jsonl"
    monkeypatch.setenv(trace.ENV, str(path))
    with EmulatedClient(str(tmp_path / "cfg")) as client:
        script = client.load('''
            __module_name__ = "traced"
            import hexchat
            def cb(word, word_eol, userdata):
                hexchat.prnt("got " + word[1])
                return hexchat.EAT_ALL
            hexchat.hook_command("HELLO", cb)
        ''')
        client.type("/HELLO world", "#test")
        assert "got world" in client.lines("#test")
        pid = script.pid
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert all(set(line) == {"t", "pid", "peer", "dir", "kind", "method", "msgid", "bytes"}
               for line in lines)
    seen = {(line["pid"] == pid, line["dir"], line["kind"], line["method"]) for line in lines}
    # The hook request, as the client sent it and the worker read it ...
    assert (False, "out", "request", "hook") in seen and (True, "in", "request", "hook") in seen
    # ... the prnt, as the worker sent it and the client read it ...
    assert (True, "out", "notification", "prnt") in seen and (False, "in", "notification", "prnt") in seen
    # ... and the eat value coming back.
    assert (True, "out", "response", None) in seen and (False, "in", "response", None) in seen
    hook_out = [line for line in lines if line["method"] == "hook" and line["dir"] == "out"]
    assert hook_out[0]["bytes"] > 20 and hook_out[0]["peer"].endswith(".py")
    times = [line["t"] for line in lines]
    assert min(times) > 1e9, "Unix time"
