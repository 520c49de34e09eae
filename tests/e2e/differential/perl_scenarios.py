"""Perl scenarios for the differential tests: the same script in HexChat's own
Perl plugin (hexchat-perl, in process) and sandboxed (issue 10)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List

from .runner import CHANNEL, Scenario


@dataclass
class PerlScenario(Scenario):
    @property
    def module_name(self) -> str:
        m = re.search(r'register\(\s*"([^"]+)"', self.source)
        assert m, "%s does not call HexChat::register" % self.filename
        return m.group(1)


def _msg(nick: str, text: str, target: str = CHANNEL) -> dict:
    return {"server": ":%s!%s@example.org PRIVMSG %s :%s" % (nick, nick, target, text)}


def _cmd(text: str, context: str = CHANNEL) -> dict:
    return {"command": text, "context": context}


HOOKS = r'''
use strict; use warnings;
HexChat::register("perl_hooks", "1.0", "differential: hooks");
sub show {
    my ($tag) = @_;
    return sub {
        my ($word, $word_eol, $data) = @_;
        return HexChat::EAT_NONE if $word->[0] eq 'PING';
        my $eol = ref $word_eol eq 'ARRAY' ? join("|", @$word_eol) : "(data " . ($word_eol // 'undef') . ")";
        my $words = join("|", map { $_ // 'undef' } @$word);
        HexChat::print("$tag word=$words eol=$eol data=" . ($data // 'undef'));
        return HexChat::EAT_ALL if ($word->[1] // '') =~ /swallow/;
        return HexChat::EAT_PLUGIN if ($word->[1] // '') =~ /stopme/;
        return HexChat::EAT_HEXCHAT if ($word->[1] // '') =~ /eatme/;
        return HexChat::EAT_NONE;
    };
}
HexChat::hook_print("Channel Message", show("pm-norm"), { data => "first" });
HexChat::hook_print("Channel Message", show("pm-high"), { priority => HexChat::PRI_HIGH, data => "high" });
HexChat::hook_print("Channel Message", show("pm-low"), { priority => HexChat::PRI_LOW });
HexChat::hook_server("PRIVMSG", show("srv"), { data => [1, 2] ? "arrayish" : "" });
HexChat::hook_server("NOTICE", show("srv-notice"));
HexChat::hook_command("PH", show("cmd"), { help_text => "usage: PH", data => "cmdata" });
HexChat::hook_command("PHNAME", "named_callback");
sub named_callback { HexChat::print("named callback ran with @{$_[0]}"); return HexChat::EAT_ALL }
HexChat::hook_command("PHDIE", sub { die "on purpose\n" });
HexChat::hook_print("Your Message", sub { HexChat::print("your message: $_[0][1]"); return HexChat::EAT_NONE });
HexChat::hook_command("PHNEST", sub {
    HexChat::print("nest start");
    HexChat::command("say nested hello");
    HexChat::print("nest end");
    return HexChat::EAT_ALL;
});
my $h = HexChat::hook_command("PHGONE", sub { HexChat::print("never"); 1 }, { data => "gone-data" });
my $gave = HexChat::unhook($h) == $h ? "the hook" : "something else";
HexChat::print("unhook gave $gave then " . (scalar(() = HexChat::unhook($h))));
Xchat::hook_command("PHX", sub { Xchat::print("xchat name works " . Xchat::EAT_XCHAT); return Xchat::EAT_ALL });
HexChat::print("perl_hooks loaded");
'''

API = r'''
use strict; use warnings;
HexChat::register("perl_api", "2.0", "differential: api", sub { HexChat::print("perl_api unloading") });
HexChat::hook_command("PAINFO", sub {
    for my $id (qw(channel network server nick away topic version charset modes)) {
        HexChat::print("info $id=" . (HexChat::get_info($id) // 'undef'));
    }
    for my $p (qw(irc_nick1 gui_slist_skip irc_conf_mode completion_amount no_such_pref)) {
        HexChat::print("pref $p=[" . (HexChat::get_prefs($p) // 'undef') . "]");
    }
    HexChat::print("nickcmp " . (HexChat::nickcmp("Alice", "alice") == 0 ? "equal" : "differ"));
    HexChat::print("strip [" . HexChat::strip_code("\cBbold\cB \cC04red\cC plain") . "]");
    my $text = "\cC03green";
    HexChat::strip_code($text);
    HexChat::print("strip in place [$text]");
    return HexChat::EAT_ALL;
});
HexChat::hook_command("PALIST", sub {
    my @users = sort { $a->{nick} cmp $b->{nick} } HexChat::get_list("users");
    HexChat::print("user $_->{nick} prefix=[$_->{prefix}]") for @users;
    HexChat::print("count " . scalar(HexChat::get_list("users")));
    for my $c (sort { $a->{channel} cmp $b->{channel} } HexChat::get_list("channels")) {
        HexChat::print("chan $c->{channel} type=$c->{type} users=$c->{users} network=$c->{network}");
    }
    my $me = HexChat::user_info();
    HexChat::print("me $me->{nick} prefix=[$me->{prefix}]");
    my $alice = HexChat::user_info("alice");
    HexChat::print("alice " . ($alice ? $alice->{nick} : "missing"));
    my $ci = HexChat::context_info();
    HexChat::print("context_info channel=$ci->{channel} network=$ci->{network} type=$ci->{type}");
    return HexChat::EAT_ALL;
});
HexChat::hook_command("PACTX", sub {
    my $here = HexChat::get_context();
    my $server = HexChat::find_context(undef, "irc.scripted.test") // HexChat::find_context("ScriptedNet");
    HexChat::print("found server tab: " . ($server ? "yes" : "no"));
    HexChat::print("to the server tab", undef, "ScriptedNet");
    HexChat::print("to #test by name", "#test");
    HexChat::print("nowhere gives " . HexChat::print("x", "#nosuchchannel"));
    HexChat::set_context("#test");
    HexChat::print("set_context by name: " . HexChat::get_info("channel"));
    HexChat::print("set_context bogus: " . HexChat::set_context("#nosuch"));
    HexChat::print("back home: " . (HexChat::get_context() == $here ? "yes" : "no"));
    HexChat::command("echo command in #test");
    HexChat::printf("printf %s %03d", "works", 7);
    HexChat::commandf("echo commandf %d", 42);
    my $ok = HexChat::emit_print("Channel Message", "carol", "emitted text", "@");
    HexChat::print("emit_print=$ok unknown=" . HexChat::emit_print("No Such Event"));
    return HexChat::EAT_ALL;
});
'''

TIMERS_PREFS = r'''
use strict; use warnings;
HexChat::register("perl_timers", "3.0", "differential: timers and prefs", sub {
    my $prefs = HexChat::plugin_pref_list();
    HexChat::print("shutdown: prefs " . join(",", map { "$_=$prefs->{$_}" } sort keys %$prefs));
});
my $n = 0;
# Each timer starts the next, so the order cannot depend on machine load.
sub keep_timer {
    HexChat::hook_timer(30, sub {
        $n++;
        HexChat::print("keep timer $n");
        return $n < 3 ? HexChat::KEEP : HexChat::REMOVE;
    });
}
HexChat::hook_command("PTSTART", sub {
    HexChat::hook_timer(10, sub {
        HexChat::print("one-shot timer data=$_[0]");
        HexChat::hook_timer(10, sub { HexChat::print("dying timer ran"); keep_timer(); die "timer dies\n" });
        return 0;
    }, { data => "td" });
    return HexChat::EAT_ALL;
});
HexChat::hook_command("PPREFS", sub {
    HexChat::print("set " . HexChat::plugin_pref_set("colour", "blue"));
    HexChat::print("set " . HexChat::plugin_pref_set("count", 42));
    HexChat::print("set " . HexChat::plugin_pref_set("Colour2", "with spaces  and \\ slash"));
    HexChat::print("get colour=" . HexChat::plugin_pref_get("colour") . " count=" . HexChat::plugin_pref_get("count"));
    HexChat::print("get missing=" . (HexChat::plugin_pref_get("missing") // 'undef'));
    HexChat::print("get case=" . (HexChat::plugin_pref_get("COLOUR") // 'undef'));
    HexChat::print("delete " . HexChat::plugin_pref_delete("count"));
    my $list = HexChat::plugin_pref_list();
    HexChat::print("list " . join(",", map { "$_=$list->{$_}" } sort keys %$list));
    HexChat::print("set undef " . HexChat::plugin_pref_set("x", undef));
    return HexChat::EAT_ALL;
});
HexChat::hook_print("Channel Message", sub {
    HexChat::print("after event: $_[0][1]");
    return HexChat::EAT_NONE;
}, { run_after_event => 1 });
'''


def perl_corpus() -> List[PerlScenario]:
    return [
        PerlScenario("perl_hooks", "perl_hooks.pl", HOOKS, [
            _msg("alice", "hello"),
            _msg("alice", "please swallow this"),
            _msg("bob", "stopme now"),
            _msg("alice", "eatme too"),
            {"server": ":irc.scripted.test NOTICE #test :a notice"},
            _cmd("PH one two  three"),
            _cmd("PHNAME x y"),
            _cmd("PHDIE"),
            _cmd("PHNEST"),
            _cmd("PHGONE"),
            _cmd("PHX"),
        ]),
        PerlScenario("perl_api", "perl_api.pl", API, [
            _cmd("PAINFO"),
            _cmd("PALIST"),
            _cmd("PACTX"),
            _cmd("unload perl_api.pl"),
            # Sandboxed, the shutdown callback runs in the worker after /unload returns.
            {"advance": 10, "until": "perl_api unloading"},
        ]),
        PerlScenario("perl_timers", "perl_timers.pl", TIMERS_PREFS, [
            _cmd("PPREFS"),
            _cmd("PTSTART"),
            {"advance": 200, "until": "keep timer 3"},
            _msg("alice", "an event"),
            {"advance": 10, "until": "after event: an event"},
            _cmd("unload perl_timers.pl"),
            {"advance": 10, "until": "shutdown: prefs"},
        ]),
    ]
