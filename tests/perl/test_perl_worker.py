"""The Perl worker on the emulator (fast): the table and what is generated from
it, the @_ callbacks get, perl.c's quirks, the Perl plugin's pref store,
threads, and what goes over the wire."""

import os

import pytest

from hexsandbox.client import State
from hexsandbox.perl import api_table as api
from hexsandbox.perl import client as perl_client
from hexsandbox.perl import generate
from hexsandbox.testing import EmulatedClient

DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "perl.md")


def test_generated_stubs_are_the_tables():
    with open(generate.API_PM, encoding="utf-8") as f:
        assert f.read() == generate.generate_api_pm(), \
            "run python -m hexsandbox.perl.generate after changing hexsandbox/perl/api_table.py"


def test_docs_table_is_the_tables():
    text = open(DOCS, encoding="utf-8").read()
    start = text.index("<!-- GENERATED: perl api table -->") + len("<!-- GENERATED: perl api table -->\n")
    end = text.index("<!-- END GENERATED -->")
    assert text[start:end].strip() == generate.generate_docs_table().strip(), \
        "paste python -m hexsandbox.perl.generate --docs into docs/perl.md"


def test_every_wire_method_of_the_table_is_served():
    wires = {c.wire for c in api.CALLS if c.wire}
    assert wires <= set(perl_client.HANDLERS)
    shared = {c.wire for c in api.CALLS if c.reuses_python}
    assert {"prnt", "command", "get_list", "hook_print", "Context.set"} <= shared


@pytest.fixture
def client():
    with EmulatedClient() as c:
        yield c


def _load(client, tmp_path, name, source, **kwargs):
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    return client.load(str(path), **kwargs)


HOOKS = r'''
use strict; use warnings;
HexChat::register("hooks", "1.0", "d");
HexChat::hook_command("PC", sub {
    my ($w, $we, $d) = @_;
    HexChat::print("cmd " . scalar(@_) . " [@$w] [$we->[1]] $d");
    HexChat::command("PC2");
    return HexChat::EAT_ALL;
}, { data => "cd" });
HexChat::hook_command("PC2", sub { HexChat::print("nested PC2"); HexChat::command("PC"); 3 });
HexChat::hook_print("Channel Message", sub {
    my ($w, $d) = @_;
    HexChat::print("print " . scalar(@_) . " [$w->[0]|$w->[1]] " . ($d // 'undef'));
    return 0;
});
HexChat::hook_server("PRIVMSG", sub { HexChat::print("server [$_[0][3]] [$_[1][3]]"); 0 });
HexChat::hook_command("PDIE", sub { die "boom\n" });
'''


def test_callbacks_get_perls_arguments_and_a_hook_never_reenters_itself(client, tmp_path):
    script = _load(client, tmp_path, "hooks.pl", HOOKS)
    assert script.state is State.RUNNING and (script.name, script.version) == ("hooks", "1.0")
    client.type("/PC a  b")
    client.feed(":alice!a@h PRIVMSG #test :hi there")
    client.type("/PDIE")
    client.settle(script)
    lines = client.lines()
    assert "cmd 3 [PC a b] [a  b] cd" in lines
    # PC2 ran nested inside PC's command(); PC2's own command("PC") found PC
    # running, and perl.c then answers EAT_NONE without calling it again.
    assert lines.count("nested PC2") == 1
    assert sum(1 for l in lines if l.startswith("cmd ")) == 1
    assert "server [:hi] [:hi there]" in lines
    assert "print 2 [alice|hi there] undef" in lines
    assert "\t(in cleanup) boom" in client.emu.lines(None, strip=False) or "(in cleanup) boom" in lines


def test_prefs_go_to_the_perl_plugins_store(client, tmp_path):
    script = _load(client, tmp_path, "prefs.pl", r'''
HexChat::register("prefs", "1", "");
HexChat::print("set " . HexChat::plugin_pref_set("colour", "blue") . HexChat::plugin_pref_set("n", 7));
HexChat::print("get " . HexChat::plugin_pref_get("COLOUR") . " " . HexChat::plugin_pref_get("n"));
my $l = HexChat::plugin_pref_list(); HexChat::print("list " . join(",", map { "$_=$l->{$_}" } sort keys %$l));
HexChat::print("del " . HexChat::plugin_pref_delete("n") . " " . (HexChat::plugin_pref_get("n") // "undef"));
HexChat::print("bool [" . HexChat::get_prefs("irc_conf_mode") . "] int " . HexChat::get_prefs("completion_amount"));
''')
    client.settle(script)
    lines = client.lines()
    assert lines[-5:] == ["set 11", "get blue 7", "list colour=blue,n=7", "del 1 undef", "bool [] int 5"]
    with open(os.path.join(client.config_dir, "addon_perl.conf")) as f:
        assert f.read() == "colour = blue\n"
    assert not os.path.exists(os.path.join(client.config_dir, "addon_python.conf"))


def test_threads_calls_are_serialised_in_order(client, tmp_path):
    _load(client, tmp_path, "thr.pl", r'''
use threads;
HexChat::register("thr", "1", "");
HexChat::hook_command("GO", sub {
    threads->create(sub {
        my @t = map { my $n = $_; threads->create(sub { HexChat::print("t$n $_") for 1 .. 100;
                                                         HexChat::get_info("nick") }) } 1 .. 3;
        my @nicks = map { $_->join } @t;
        HexChat::print("joined @nicks");
    })->detach;
    return HexChat::EAT_ALL;
});
''')
    client.type("/GO")
    client.wait_for_line("joined tester tester tester")
    lines = client.lines()
    for n in (1, 2, 3):
        assert [int(l.split()[1]) for l in lines if l.startswith(f"t{n} ")] == list(range(1, 101))
    assert not client.sandbox.reports


def test_wire_types_and_text_survive_perl(client, tmp_path):
    """A number used as a string still travels as a number (msgpack would
    pack it as a string); bytes that are not UTF-8 print with U+FFFD, as
    HexChat shows them, instead of breaking the session."""
    script = _load(client, tmp_path, "wire.pl", r'''
my $ctx = HexChat::get_context(); my $s = "ctx $ctx";
HexChat::hook_timer(10, sub { HexChat::print("timer in " . HexChat::get_info("channel")); 0 });
HexChat::print("bad \xff\xfe bytes");
HexChat::print("caf\xc3\xa9 as bytes");
HexChat::print("chars \x{263a}");
HexChat::set_context(HexChat::find_context("#test"));
HexChat::print("Xchat " . Xchat::EAT_ALL . " " . (Xchat::get_info("channel")));
''')
    client.advance(20)
    client.settle(script)
    lines = client.lines()
    assert script.name == "" and script.version == "unknown", "never registered: perl.c's defaults"
    assert "bad \ufffd\ufffd bytes" in lines and "café as bytes" in lines and "chars \u263a" in lines
    assert "Xchat 3 #test" in lines and "timer in #test" in lines
    assert script.state is State.RUNNING and not client.sandbox.reports
    blank = _load(client, tmp_path, "blank.pl", 'HexChat::register("", "v");\n')
    assert (blank.name, blank.version) == ("Not supplied", "NaN"), "HexChat.pm's register defaults"


def test_die_at_load_and_unload_order(client, tmp_path):
    bad = _load(client, tmp_path, "bad.pl", 'HexChat::register("bad", "1", "", sub { HexChat::print("bad shutdown") });\n'
                                           'die "not today\\n";\n')
    assert bad.state is State.FAILED
    lines = client.lines()
    assert lines[-4:-1] == ["Error loading '%s':" % (tmp_path / "bad.pl"), "not today", ""] or \
        "not today" in lines
    assert lines.index("bad shutdown") > lines.index("not today"), "the error, then the shutdown callback"
    good = _load(client, tmp_path, "good.pl", 'HexChat::register("good", "1", "", sub { HexChat::print("good shutdown") });\n'
                                             'HexChat::hook_command("G", sub { 3 });\n')
    assert good.hook_names
    client.unload(good)
    assert client.lines()[-1] == "good shutdown"
    assert not good.backend_hooks


def test_hook_fd_watches_the_scripts_own_descriptor(client, tmp_path):
    script = _load(client, tmp_path, "fd.pl", r'''
HexChat::register("fd", "1", "");
pipe(my $r, my $w) or die; select((select($w), $| = 1)[0]);
HexChat::hook_fd($r, sub { my ($fh, $flags, $data) = @_; sysread($fh, my $buf, 100);
    HexChat::print("fd read [$buf] flags $flags data $data"); return 0 }, { data => "fdd" });
HexChat::hook_command("WRITE", sub { print $w "ping"; 3 });
''')
    client.type("/WRITE")
    client.wait_for_line("fd read [ping] flags 1 data fdd")
    assert script.state is State.RUNNING


def test_the_pytest_fixture_takes_perl_scripts(hexchat_client, tmp_path):
    path = tmp_path / "greeter.pl"
    path.write_text('HexChat::register("greeter", "1", "");\n'
                    'HexChat::hook_server("JOIN", sub { my $n = $_[0][0] =~ /^:([^!]+)/ ? $1 : "?";\n'
                    '  HexChat::command("say Hello $n!"); 0 });\n')
    hexchat_client.load(str(path))
    hexchat_client.feed(":carol!c@host JOIN #test")
    hexchat_client.settle()
    assert "PRIVMSG #test :Hello carol!" in hexchat_client.sent


def test_a_crashed_perl_script_is_restarted_by_the_policy(tmp_path):
    from hexsandbox.client import RestartPolicy

    path = tmp_path / "crashy.pl"
    path.write_text('HexChat::register("crashy", "1", "");\nHexChat::print("crashy up in $$");\n'
                    'HexChat::hook_command("BOOM", sub { kill "SEGV", $$; sleep 5; 0 });\n')
    with EmulatedClient(restart=RestartPolicy(max_restarts=3, window_s=60, first_delay_ms=100)) as c:
        first = c.load(str(path))
        c.type("/BOOM")
        c.wait_for(lambda: first.dead, 10, "the crash")
        (report,) = c.sandbox.reports
        assert report.kind == "crash" and "(SIGSEGV)" in report.text and "restarting in 0.1 s" in report.text
        c.emu.advance(100)
        c.emu.pump()
        c.wait_for(lambda: any(s.state is State.RUNNING and s is not first for s in c.sandbox.scripts), 10,
                   "the restart")
        (fresh,) = c.sandbox.scripts
        c.wait_for_line(f"crashy up in {fresh.pid}")
        assert fresh.pid != first.pid and len(fresh.crash_times) == 1


def test_a_perl_worker_dies_with_its_hexchat_even_mid_loop(tmp_path):
    """HexChat killed (-9) while the script spins: the kernel's parent-death
    signal ends the worker, as it does a Python worker."""
    import select
    import signal
    import subprocess
    import sys

    script = tmp_path / "spin.pl"
    script.write_text('HexChat::register("spin", "1", "");\n'
                      'HexChat::hook_timer(0, sub { 1 while 1 });\n')
    host = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from hexsandbox.testing import EmulatedClient\n"
        "c = EmulatedClient()\n"
        f"s = c.load({str(script)!r})\n"
        "c.emu.advance(10)\n"
        "print(s.pid, flush=True)\n"
        "time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(host.stdout.readline())
        pidfd = os.pidfd_open(pid)
        os.kill(host.pid, signal.SIGKILL)
        host.wait(10)
        assert select.select([pidfd], [], [], 10)[0], "the Perl worker outlived its host"
        os.close(pidfd)
    finally:
        host.kill()
        host.wait(10)


def test_a_slow_perl_hook_is_late_then_recovers(tmp_path):
    path = tmp_path / "nap.pl"
    path.write_text('HexChat::register("nap", "1", "");\n'
                    'HexChat::hook_command("NAP", sub { select(undef, undef, undef, 0.6); 3 });\n'
                    'HexChat::hook_command("PING2", sub { HexChat::print("pong"); 3 });\n')
    with EmulatedClient(deadline_ms=200) as c:
        script = c.load(str(path))
        c.type("/NAP")
        assert script.late, "the hook's answer did not come within the deadline"
        c.wait_for(lambda: not script.late, 10, "the late answer")
        assert [r.kind for r in c.sandbox.reports] == ["late"], "told once, at the stall (slow_policy)"
        c.type("/PING2")
        c.wait_for_line("pong")


def test_hexsandbox_check_takes_perl_scripts(tmp_path):
    import subprocess
    import sys

    (tmp_path / "fine.pl").write_text('HexChat::register("fine", "1", "");\n'
                                      'HexChat::hook_print("Channel Message", sub { 0 });\n')
    (tmp_path / "broken.pl").write_text('HexChat::register("broken", "1", "");\ndie "no\\n";\n')
    proc = subprocess.run([sys.executable, "-m", "hexsandbox.cli", "check", str(tmp_path)],
                          capture_output=True, text=True, timeout=180)
    rows = {line.split()[0]: line.split()[1] for line in proc.stdout.splitlines()
            if line.endswith(("ok", "failed")) or " ok " in line or " failed " in line}
    assert rows.get("fine.pl") == "ok" and rows.get("broken.pl") == "failed", proc.stdout + proc.stderr
