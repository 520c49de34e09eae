"""Scenario format and transcript round trip."""

import json

from hexsandbox.emulator import Emulator
from hexsandbox.emulator.scenario import Transcript, run_scenario

STEPS = [
    {"connect": {}},
    {"server": ":tester!t@h JOIN #s"},
    {"server": ":bob!b@h PRIVMSG #s :\x0304hello\x03 tester"},
    {"input": "hi bob", "context": "#s"},
    {"command": "me waves", "context": "#s"},
    {"advance": 1000},
    {"focus": "#s"},
]


def test_scenario_is_json_and_replays_identically(tmp_path):
    steps = json.loads(json.dumps(STEPS))
    a = run_scenario(Emulator(config_dir=str(tmp_path / "a")), steps)
    b = run_scenario(Emulator(config_dir=str(tmp_path / "b")), steps)
    assert a.normalised() == b.normalised()
    norm = a.normalised()
    assert norm["lines"]["#s"][-3:] == ["<bob>\thello tester", "<tester>\thi bob", "*\ttester waves"]
    assert "PRIVMSG #s :hi bob" in norm["sent"]
    assert Transcript.from_json(a.to_json()).normalised() == norm
