"""Differential tests for Perl (issue 10): HexChat's own Perl plugin in
process vs hexsandbox's Perl worker in HexChat, same script, same traffic.

One Perl-only rule on top of docs/differential.md's: the script lives in
``diffscripts/`` in process and in ``sandbox/`` sandboxed, and Perl puts the
file name in die messages ("at <configdir>/sandbox/x.pl line 3."), so both
folder names are replaced by one placeholder. The Perl plugin's store
(``addon_perl.conf``) is shown by the scenarios themselves (they print
plugin_pref_list), and compared file to file in tests/e2e/test_perl_hexchat.py.
"""

import pytest

from .normalise import assert_same
from .perl_scenarios import perl_corpus

SCENARIOS = perl_corpus()


def _same_folder(transcript):
    def fix(line):
        return line.replace("/diffscripts/", "/<scripts>/").replace("/sandbox/", "/<scripts>/")
    return dict(transcript, lines={tab: [fix(l) for l in lines]
                                   for tab, lines in transcript["lines"].items()})


@pytest.mark.parametrize("scn", [pytest.param(s, id=s.name) for s in SCENARIOS])
def test_sandboxed_perl_matches_in_process(scn, play):
    reference = _same_folder(play(scn, "inproc"))
    sandboxed = _same_folder(play(scn, "sandbox"))
    assert reference["lines"], "the in-process run printed nothing: the scenario is broken"
    assert_same(reference, sandboxed, "hexchat-perl-in-process", "hexchat-perl-sandboxed", scn.name)
