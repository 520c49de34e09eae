"""The demo's last step says what its figure means for a user (issue 9.9)."""

import re

from hexsandbox.demo_run import run_demo, what_it_means


def test_the_figure_as_messages_a_second():
    assert what_it_means(200.0, 450.0) == (
        "With it, HexChat can still take about 5,000 messages a second (each waits 0.2 ms for "
        "the script, 1 in 100 up to 0.45 ms); a busy channel brings a few a second, a netsplit "
        "a few hundred at once.")
    assert "about 33,000 messages a second" in what_it_means(30.0, 90.0)
    assert "about 1,000,000 messages a second" in what_it_means(0.2, 1.0), "never divides by zero"


def test_the_demo_ends_on_it(capsys):
    assert run_demo() == 0
    out = capsys.readouterr().out.splitlines()
    step = next(i for i, line in enumerate(out) if line.startswith("7. "))
    assert out[step] == ("7. What a sandboxed script costs HexChat: bench hooks every channel message, "
                         "and HexChat waits for its answer each time.")
    match = re.fullmatch(r"   With it, HexChat can still take about ([\d,]+) messages a second \(each waits "
                         r"([\d.e-]+) ms for the script, 1 in 100 up to ([\d.e-]+) ms\); .*", out[step + 1])
    assert match, out[step + 1]
    rate, median_ms, p99_ms = int(match[1].replace(",", "")), float(match[2]), float(match[3])
    assert median_ms <= p99_ms
    # The rate has 2 significant digits, the median 3: they agree within 6 %.
    assert abs(rate - 1 / (median_ms / 1000)) <= 0.06 * rate, "the rate is what the median allows"
