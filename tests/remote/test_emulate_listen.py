"""``hexsandbox emulate --listen``: the emulator serving the local API to the CLI verbs and the client library."""

import json
import os
import signal
import subprocess
import sys

import pytest


@pytest.fixture
def listen(tmp_path):
    """Start ``hexsandbox emulate --listen``; yields a function that runs a CLI verb against it."""
    started = []

    def start(*extra):
        path = str(tmp_path / "run" / "api.sock")
        env = dict(os.environ, HEXSANDBOX_TOKENS=str(tmp_path / "tokens.json"))
        proc = subprocess.Popen([sys.executable, "-m", "hexsandbox.cli", "emulate", "--listen", path, *extra],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        started.append(proc)
        assert proc.stderr.readline() == f"hexsandbox: emulator listening on {path}\n"

        def cli(*args, wait=True):
            argv = [sys.executable, "-m", "hexsandbox.cli", args[0], "--socket", path, *args[1:]]
            if not wait:
                return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            return subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env)
        cli.proc, cli.path = proc, path
        return cli

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def test_cli_verbs_against_the_emulator(listen):
    cli = listen()
    assert cli("info", "channel").stdout == "#test\n"
    assert cli("info", "nick").stdout == "tester\n"
    events = cli("events", "Channel Message", "--json", "--ready", wait=False)
    try:
        assert json.loads(events.stdout.readline()) == {"ready": True}
        sent = cli("send", "/emulate feed :alice!a@example.org PRIVMSG #test :hello app")
        assert sent.returncode == 0, sent.stderr
        assert json.loads(events.stdout.readline()) == {
            "event": "Channel Message", "kind": "print", "words": ["alice", "hello app"],
            "channel": "#test", "network": "TestNet"}
    finally:
        events.send_signal(signal.SIGINT)
        assert events.wait(10) == 0
    cli.proc.send_signal(signal.SIGTERM)
    assert cli.proc.wait(10) == 0
    assert not os.path.exists(cli.path)


def test_only_lets_in_the_named_apps(listen):
    cli = listen("--only", "good")
    assert cli("info", "--name", "good", "channel").stdout == "#test\n"
    bad = cli("info", "channel")
    assert bad.returncode == 2
    assert bad.stderr == "hexsandbox: refused: the user denied it\n"


def test_run_remote_runs_a_script_against_the_emulator(listen, tmp_path):
    cli = listen()
    script = tmp_path / "greeter.py"
    script.write_text(
        '__module_name__ = "greeter"\n'
        'import hexchat\n'
        'def on_join(word, word_eol, userdata):\n'
        '    hexchat.command("say welcome " + word[0])\n'
        'hexchat.hook_print("Join", on_join)\n'
        'print("greeter loaded in", hexchat.get_info("channel"))\n')
    app = cli("run-remote", str(script), wait=False)
    try:
        assert app.stdout.readline() == "greeter loaded in #test\n"
        echo = cli("events", "Your Message", "--json", "--ready", wait=False)
        assert json.loads(echo.stdout.readline()) == {"ready": True}
        cli("send", "/emulate feed :carol!c@example.org JOIN #test")
        assert json.loads(echo.stdout.readline())["words"][:2] == ["tester", "welcome carol"]
        echo.terminate()
        echo.wait(10)
    finally:
        app.terminate()
        app.wait(10)


def test_the_remote_benchmark_runs(tmp_path):
    out = tmp_path / "remote.json"
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    run = subprocess.run([sys.executable, os.path.join(here, "benchmarks", "remote_roundtrip.py"),
                          "--n", "300", "--commands", "300", "--json", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    results = json.loads(out.read_text())["results"]
    assert set(results) == {"hook round trip, worker", "hook round trip, external app",
                            "one-way commands, worker", "one-way commands, external app"}


def _readme_block(after: str, lang: str) -> str:
    """The first ``lang`` code block after the heading ``after`` in README.md."""
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    text = open(os.path.join(here, "README.md"), encoding="utf-8").read()
    rest = text[text.index(after):]
    start = rest.index(f"```{lang}\n") + len(f"```{lang}\n")
    return rest[start:rest.index("```", start)]


def test_the_readme_example_app_and_shell_command_work_verbatim(listen, tmp_path):
    """README's ten lines of Python and its one shell command, unchanged."""
    cli = listen("--log-hooks")
    code = _readme_block("## External applications", "python")
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    app_file = tmp_path / "shouter.py"
    app_file.write_text(code)
    env = dict(os.environ, HEXSANDBOX_SOCKET=cli.path, HEXSANDBOX_TOKENS=str(tmp_path / "tokens.json"))
    app = subprocess.Popen([sys.executable, str(app_file)], env=env, stderr=subprocess.PIPE, text=True)
    assert cli.proc.stdout.readline() == "hexsandbox: hook_print 'Channel Message' registered\n"
    watch = cli("events", "Your Message", "Channel Message", "Message Send", "--json", "--ready", wait=False)
    try:
        assert json.loads(watch.stdout.readline()) == {"ready": True}
        shell = _readme_block("or one shell command", "sh").split("  # ")[0].strip()
        assert shell == "hexsandbox send '/msg #chan hi'"
        assert cli("send", "/msg #chan hi").returncode == 0  # the README line, with --socket added
        assert json.loads(watch.stdout.readline())["words"] == ["#chan", "hi"]
        cli("send", "/emulate feed :alice!a@example.org PRIVMSG #test :!shout hi")
        # Whether the watcher sees "!shout hi" before the shouter eats it
        # depends on the hooks' order; the shouted answer comes either way.
        seen = [json.loads(watch.stdout.readline())["words"]]
        if seen[0] != ["tester", "!SHOUT HI"]:
            seen.append(json.loads(watch.stdout.readline())["words"])
        assert seen[-1] == ["tester", "!SHOUT HI"], seen
    finally:
        watch.terminate()
        watch.wait(10)
        app.terminate()
        app.wait(10)


def test_an_app_connecting_in_a_loop_keeps_no_descriptor(listen, monkeypatch, tmp_path):
    """Each connection's session has a timer for its standby reader
    (hexsandbox/rpc/standby.py); one was kept per connection, and the
    remote soak ran out of descriptors at 20,000 connections."""
    import hexsandbox.remote as remote

    cli = listen()
    monkeypatch.setenv("HEXSANDBOX_TOKENS", str(tmp_path / "tokens.json"))

    def one() -> None:
        with remote.connect("loop", socket_path=cli.path, timeout=10) as hc:
            assert hc.get_info("channel") == "#test"

    one()  # imports, caches: whatever stays for good
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(30):
        one()
    assert len(os.listdir("/proc/self/fd")) == before
