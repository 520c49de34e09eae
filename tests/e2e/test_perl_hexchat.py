"""Perl scripts sandboxed in real HexChat 2.16 (issue 10): one worker per .pl,
the API over the protocol, prefs in the Perl plugin's own store, threads,
and the same isolation cases as Python."""

import os
import signal
import time

import gap_probe
from harness import plugins_window
from harness.procs import is_alive
from test_sandbox_hexchat import PROBE, _zombie

API = r'''
use strict; use warnings;
use threads;
HexChat::register("perlapi", "1.5", "exercises the API", sub { HexChat::print("perlapi shutdown") });
HexChat::print("perlapi loaded in pid $$");
HexChat::hook_command("PTEST", sub {
    my ($word, $word_eol, $data) = @_;
    HexChat::print("cmd words=[@$word] eol1=[$word_eol->[1]] data=$data");
    HexChat::command("say from perl");
    return HexChat::EAT_ALL;
}, { data => "D", help_text => "perl test" });
HexChat::hook_print("Your Message", sub {
    my ($w, $data) = @_;
    HexChat::print("print hook saw [$w->[1]]") if $w->[1] eq 'from perl';
    return HexChat::EAT_NONE;
});
HexChat::hook_server("PRIVMSG", sub {
    my ($w, $we) = @_;
    HexChat::print("server hook: $w->[0] / $we->[3]") if $we->[3] =~ /perl/;
    return HexChat::EAT_NONE;
});
HexChat::hook_command("PEMIT", sub {
    my $ok = HexChat::emit_print("Channel Message", "bob", "emitted by perl");
    my $bad = HexChat::emit_print("No Such Event", "x");
    HexChat::print("emit=$ok bad=$bad");
    return HexChat::EAT_ALL;
});
my $ticks = 0;
HexChat::hook_command("PTIMER", sub {
    HexChat::hook_timer(20, sub { $ticks++; HexChat::print("tick $ticks"); return $ticks < 3 ? HexChat::KEEP : HexChat::REMOVE });
    return HexChat::EAT_ALL;
});
HexChat::hook_command("PPREF", sub {
    my $set = HexChat::plugin_pref_set("colour", "green");
    my $list = HexChat::plugin_pref_list();
    HexChat::print("pref set=$set get=" . HexChat::plugin_pref_get("colour")
                   . " list=" . join(",", map { "$_=$list->{$_}" } sort keys %$list));
    return HexChat::EAT_ALL;
});
HexChat::hook_command("PLIST", sub {
    my @users = sort map { $_->{nick} } HexChat::get_list("users");
    my $count = HexChat::get_list("users");
    my $info = HexChat::context_info();
    my $me = HexChat::user_info();
    HexChat::print("users=@users count=$count chan=$info->{channel} type=$info->{type} me=$me->{nick}");
    return HexChat::EAT_ALL;
});
HexChat::hook_command("PTHREAD", sub {
    threads->create(sub {
        HexChat::print("thread $_") for 1 .. 50;
        HexChat::print("thread done, nick " . HexChat::get_info("nick"));
    })->detach;
    return HexChat::EAT_ALL;
});
HexChat::hook_command("PXCHAT", sub {
    Xchat::print("legacy " . Xchat::get_info("channel") . " " . Xchat::EAT_XCHAT);
    return Xchat::EAT_ALL;
});
'''


def _lines(hc, channel="#test"):
    """Printed lines of one tab, or of every tab (``channel=None``)."""
    tabs = hc.transcript()
    chosen = tabs.values() if channel is None else [tabs.get(channel, [])]
    return [line.lstrip("\t") for lines in chosen for line in lines]


def _wait_line(hc, predicate, channel="#test", timeout=20.0, what="a line"):
    """Each check asks HexChat for its transcript (a round trip through its
    main loop); bounded by ``timeout``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        lines = _lines(hc, channel)
        if any(predicate(line) for line in lines):
            return lines
    raise AssertionError(f"timed out waiting for {what}; transcript: {_lines(hc, channel)[-20:]}")


def test_perl_script_runs_sandboxed_with_the_api(sandboxed_hexchat_factory, scripted_server):
    hc = sandboxed_hexchat_factory(sandbox={"perlapi.pl": API})
    (state,) = hc.wait_running("perlapi")
    assert state["pid"] != hc.pid
    with open(f"/proc/{state['pid']}/cmdline", "rb") as f:
        assert b"worker.pl" in f.read()
    # Autoloaded at start, before #test is joined: printed in the server tab.
    _wait_line(hc, lambda l: l == f"perlapi loaded in pid {state['pid']}", channel=None)

    since = scripted_server.mark()
    hc.command("PTEST a  b c", "#test")
    scripted_server.wait_for("PRIVMSG #test :from perl", since=since)
    lines = _wait_line(hc, lambda l: l.startswith("print hook saw"))
    assert "cmd words=[PTEST a b c] eol1=[a  b c] data=D" in lines
    assert "print hook saw [from perl]" in lines
    # The nested print hook ran inside command(), before PTEST returned.
    assert lines.index("print hook saw [from perl]") > lines.index("cmd words=[PTEST a b c] eol1=[a  b c] data=D")

    scripted_server.send(":alice!a@example.org PRIVMSG #test :hello perl")
    _wait_line(hc, lambda l: l == "server hook: :alice!a@example.org / :hello perl")

    hc.command("PEMIT", "#test")
    lines = _wait_line(hc, lambda l: l.startswith("emit="))
    assert "emit=1 bad=0" in lines
    assert any("emitted by perl" in l for l in lines)

    hc.command("PTIMER", "#test")
    lines = _wait_line(hc, lambda l: l == "tick 3")
    assert [l for l in lines if l.startswith("tick")] == ["tick 1", "tick 2", "tick 3"]

    hc.command("PPREF", "#test")
    lines = _wait_line(hc, lambda l: l.startswith("pref set="))
    assert "pref set=1 get=green list=colour=green" in lines
    conf = open(os.path.join(hc.config_dir, "addon_perl.conf")).read()
    assert conf == "colour = green\n", "the Perl plugin's own store"
    assert "colour" not in open(os.path.join(hc.config_dir, "addon_python.conf")).read() \
        if os.path.exists(os.path.join(hc.config_dir, "addon_python.conf")) else True

    hc.command("PLIST", "#test")
    lines = _wait_line(hc, lambda l: l.startswith("users="))
    row = [l for l in lines if l.startswith("users=")][0]
    nick = hc.get_info("nick")
    assert "count=" in row and "chan=#test type=2" in row and f"me={nick}" in row, row

    hc.command("PTHREAD", "#test")
    lines = _wait_line(hc, lambda l: l.startswith("thread done"))
    assert [l for l in lines if l.startswith("thread ") and l[7:].isdigit()] == \
        [f"thread {i}" for i in range(1, 51)], "a thread's calls stay in order"
    assert f"thread done, nick {nick}" in lines

    hc.command("PXCHAT", "#test")
    _wait_line(hc, lambda l: l == "legacy #test 1")

    # /sandbox list and the Plugins and Scripts window show it.
    hc.command("sandbox list", "#test")
    lines = _wait_line(hc, lambda l: l.startswith("perlapi "))
    row = [l for l in lines if l.startswith("perlapi ")][0].split()
    assert row[:4] == ["perlapi", "1.5", "running", str(state["pid"])]
    path = os.path.join(hc.sandbox_dir, "perlapi.pl")
    assert plugins_window.open_window(hc)
    assert [r for r in plugins_window.rows(hc) if r["path"] == path] == [
        {"name": "perlapi", "version": "1.5", "file": "perlapi.pl",
         "description": "exercises the API", "path": path}]
    plugins_window.close_window(hc)

    hc.command("sandbox unload perlapi", "#test")
    hc.wait_scripts(lambda st: not st, what="perlapi to unload")
    assert "perlapi shutdown" in _lines(hc)
    assert not is_alive(state["pid"]) or _zombie(state["pid"])


ISOLATION = {
    "dieload.pl": 'HexChat::register("dieload", "1", "");\ndie "broken on purpose\\n";\n',
    "exiter.pl": 'HexChat::register("exiter", "1", "");\n'
                 'HexChat::hook_command("PEXIT", sub { exit 3 });\n',
    "killme.pl": 'HexChat::register("killme", "1", "");\n',
    "segv.pl": 'HexChat::register("segv", "1", "");\n'
               'HexChat::hook_command("PSEGV", sub { kill "SEGV", $$; sleep 5; return 0 });\n',
    "spinner.pl": 'HexChat::register("spinner", "1", "");\n'
                  'sub spin_forever { 1 while 1 }\n'
                  'HexChat::hook_command("PSPIN", sub { spin_forever(); });\n',
    "sleeper.pl": 'HexChat::register("sleeper", "1", "");\n'
                  'HexChat::hook_print("Channel Message", sub { sleep 30 if $_[0][1] eq "sleepnow"; 0 });\n',
    "flooder.pl": 'use threads;\nHexChat::register("flooder", "1", "");\n'
                  # One thread from the hook (a Perl thread clones the interpreter:
                  # ~25 ms each here), which starts the four that flood.
                  'HexChat::hook_command("PFLOOD", sub {\n'
                  '  threads->create(sub {\n'
                  '    my @t = map { my $n = $_; threads->create(sub { HexChat::print("flood $n $_") for 1..300 }) } 1..4;\n'
                  '    $_->join for @t; HexChat::print("flood finished") })->detach;\n'
                  '  return HexChat::EAT_ALL; });\n',
    "echo.pl": 'HexChat::register("echo", "1", "");\n'
               'HexChat::hook_print("Channel Message", sub { my ($w) = @_;\n'
               '  HexChat::command("say echo $1") if $w->[1] =~ /^!echo (.*)/; return 0 });\n',
}


def _after_next_probe_tick(hc):
    ticks = "script('probe')['state']['ticks']"
    seen = hc.eval(ticks)
    while hc.eval(ticks) == seen:
        pass


def test_perl_isolation(sandboxed_hexchat_factory, scripted_server):
    deadline_ms = 300
    hc = sandboxed_hexchat_factory(sandbox=ISOLATION, scripts={"probe.py": PROBE},
                                   ini=f"[defaults]\ndeadline_ms = {deadline_ms}\nrestart = no\n")
    states = hc.wait_running("exiter", "killme", "segv", "spinner", "sleeper", "flooder", "echo")
    pids = {s["name"]: s["pid"] for s in states}
    lines = _wait_line(hc, lambda l: l.startswith("Error loading"), channel=None,
                       what="the load error of dieload.pl")
    assert "broken on purpose" in lines
    assert not any(s["name"] == "dieload" for s in hc.scripts_state())
    hc.eval("script('probe')['state'].update(max_gap=0.0, last=None)")
    # What a failure was (stacks of the main thread in a stall, GC, faults, the
    # machine's own stalls, when each trigger ran): only for the message.
    hc.eval(gap_probe.PROBE)
    machine = gap_probe.MachineStalls().start()
    triggered = []

    def sleep_in_a_hook():
        scripted_server.send(":alice!a@example.org PRIVMSG #test :sleepnow")
        scripted_server.roundtrip()

    triggered.append(("PEXIT", round(time.monotonic(), 2)))
    hc.command("PEXIT", "#test")
    os.kill(pids["killme"], signal.SIGKILL)
    # Each hang may stall HexChat once, for at most the deadline; the
    # triggers are one probe tick apart so that two never share a main-loop turn.
    for name, trigger in (("PSEGV", lambda: hc.command("PSEGV", "#test")),
                          ("PSPIN", lambda: hc.command("PSPIN", "#test")),
                          ("sleepnow", sleep_in_a_hook)):
        triggered.append((name, round(time.monotonic(), 2)))
        trigger()
        _after_next_probe_tick(hc)
    triggered.append(("PFLOOD", round(time.monotonic(), 2)))
    hc.command("PFLOOD", "#test")

    since = scripted_server.mark()
    scripted_server.send(":bob!b@example.org PRIVMSG #test :!echo still here")
    scripted_server.wait_for("PRIVMSG #test :echo still here", since=since, timeout=20)
    lines = _wait_line(hc, lambda l: l == "flood finished", timeout=60, what="the flood")
    flood = [l for l in lines if l.startswith("flood ") and l != "flood finished"]
    assert len(flood) == 4 * 300
    for n in range(1, 5):
        assert [int(l.split()[2]) for l in flood if l.split()[1] == str(n)] == list(range(1, 301))

    state = {s["name"]: s for s in hc.wait_scripts(
        lambda st: all(any(s["name"] == n and s["state"] == "crashed" for s in st)
                       for n in ("exiter", "killme", "segv"))
        and any(s["name"] == "spinner" and s["late"] for s in st)
        and any(s["name"] == "sleeper" and s["late"] for s in st), what="crashes and lateness")}
    assert state["echo"]["state"] == "running" and state["flooder"]["state"] == "running"
    reports = {(r["script"], r["kind"]): r["text"] for r in hc.reports()}
    assert sorted(reports) == [("exiter", "crash"), ("killme", "crash"), ("segv", "crash"),
                               ("sleeper", "late"), ("spinner", "late")], reports
    assert "exit code 3" in reports[("exiter", "crash")]
    assert "crashed (SIGKILL)" in reports[("killme", "crash")]
    assert "crashed (SIGSEGV)" in reports[("segv", "crash")]

    stall = hc.eval("script('probe')['state']")
    machine.stop()
    why = f"{stall}\ntriggers (at monotonic s): {triggered}\n" + gap_probe.describe(
        hc.eval(gap_probe.READ), machine)
    assert stall["ticks"] > 10 and stall["max_gap"] <= (deadline_ms + 50) / 1000, why

    stopped = hc.stop()
    survivors = {name: pid for name, pid in pids.items() if is_alive(pid) and not _zombie(pid)}
    assert not stopped.leftovers and not survivors, (stopped.leftovers, survivors)


def test_stack_of_a_stuck_perl_script(sandboxed_hexchat_factory, scripted_server):
    hc = sandboxed_hexchat_factory(sandbox={"spinner.pl": ISOLATION["spinner.pl"]},
                                   ini="[defaults]\ndeadline_ms = 200\n")
    (state,) = hc.wait_running("spinner")
    hc.command("sandbox stack spinner", "#test")
    lines = _wait_line(hc, lambda l: l.startswith("hexsandbox: stack of spinner"))
    assert "  idle: waiting for events" in lines
    hc.command("PSPIN", "#test")
    hc.command("sandbox stack spinner", "#test")
    lines = _wait_line(hc, lambda l: "spin_forever" in l, what="the Perl stack")
    assert any("did not answer command 'PSPIN' within 200 ms" in l for l in lines)
    os.kill(state["pid"], signal.SIGKILL)


COUNTER = r'''
HexChat::register("counter", "1", "counts its runs", sub {
    HexChat::plugin_pref_set("saved_on_unload", HexChat::plugin_pref_get("runs"));
});
my $n = (HexChat::plugin_pref_get("runs") // 0) + 1;
HexChat::plugin_pref_set("runs", $n);
HexChat::print("counter run $n in pid $$");
'''


def test_migrate_load_and_autoload_of_perl_scripts(sandboxed_hexchat_factory, scripted_server):
    hc = sandboxed_hexchat_factory(scripts={"counter.pl": COUNTER},
                                   sandbox={"auto.pl": 'HexChat::register("auto", "1", "");\n'})
    hc.wait_running("auto")
    _wait_line(hc, lambda l: l == f"counter run 1 in pid {hc.pid}", channel=None,
               what="the in-process run")
    hc.command("sandbox migrate counter.pl", "#test")
    state = [s for s in hc.wait_running("counter") if s["name"] == "counter"][0]
    assert state["pid"] != hc.pid
    assert not os.path.exists(os.path.join(hc.addons_dir, "counter.pl"))
    _wait_line(hc, lambda l: l == f"counter run 2 in pid {state['pid']}", what="the sandboxed run")
    conf = open(os.path.join(hc.config_dir, "addon_perl.conf")).read()
    assert "runs = 2" in conf and "saved_on_unload = 1" in conf, conf

    # /load of a .pl in the sandbox folder is ours, not the Perl plugin's.
    with open(os.path.join(hc.sandbox_dir, "later.pl"), "w") as f:
        f.write('HexChat::register("later", "2", ""); HexChat::print("later in $$");\n')
    os.chmod(os.path.join(hc.sandbox_dir, "later.pl"), 0o644)
    hc.command(f"load {os.path.join(hc.sandbox_dir, 'later.pl')}", "#test")
    later = [s for s in hc.wait_running("later") if s["name"] == "later"][0]
    _wait_line(hc, lambda l: l == f"later in {later['pid']}")
