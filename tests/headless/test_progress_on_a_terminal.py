"""The headless progress display: rich bars when stderr is a terminal (a Console forced to act as
one here), plain lines otherwise, each checked on the numbers it prints."""

from __future__ import annotations

import io
import re

from rich.console import Console

from plastilab.core.events import Log, RunStarted, Scalars
from plastilab.headless import progress as progress_module
from plastilab.headless.progress import PlainProgress, RichProgress, make_progress

STARTED = RunStarted("adam-[tiny]", "adam_instability", ("adam", "sgd"), 100, "cpu", 3, "runs/x")


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=140, color_system=None), out


def test_rich_bars_show_each_series_step_total_and_loss():
    console, out = terminal()
    display = RichProgress(console)
    display.handle(STARTED)
    display.handle(Scalars(40, "adam", {"train/loss": 0.123456}, 1.0))
    display.handle(Scalars(60, "sgd", {"train/full_loss": 2.5}, 1.0))  # the kind's second progress tag
    display.handle(Scalars(70, "sgd", {"other": 9.0}, 1.0))  # no loss: the last one stays
    display.handle(Scalars(80, "unknown-series", {"train/loss": 7.0}, 1.0))  # ignored
    display.handle(Log("warning", "loss [spiked]"))
    display.close()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())  # cursor moves between redraws
    assert "adam-[tiny] on cpu, seed 3 -> runs/x" in text  # brackets are not markup
    assert "warning: loss [spiked]" in text
    final = {}
    for line in text.replace("\r", "\n").splitlines():  # the last drawing of each bar wins
        match = re.match(r"\s*(\S+)\s.*?(\d+)/100 .*loss (\S+)", line)
        if match:
            final[match[1]] = (int(match[2]), match[3])
    assert final == {"adam": (40, "0.1235"), "sgd": (70, "2.5000")}
    assert "7.0000" not in text


def test_plain_lines_count_the_steps_of_every_series(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    stream = io.StringIO()
    display = PlainProgress(stream, period=5.0)
    display.handle(STARTED)
    display.handle(Scalars(20, "adam", {"train/loss": 0.5}, 1.0))  # within the period: no line
    clock[0] += 10.0
    display.handle(Scalars(30, "sgd", {"train/loss": 1.25}, 1.0))
    display.handle(Log("info", "hello"))
    lines = stream.getvalue().splitlines()
    assert lines[0] == "adam-[tiny]: 2 series x 100 steps on cpu -> runs/x"
    # 50 of 200 steps in 10 s: 5 steps/s, 150 left: 30 s
    assert lines[1] == "[adam-[tiny]] 50/200 steps (25%) 5 steps/s ETA 30s | loss adam=0.5000 sgd=1.2500"
    assert lines[2] == "info: hello"
    assert len(lines) == 3


def test_the_display_follows_what_stderr_is(monkeypatch):
    class Stderr(io.StringIO):
        def __init__(self, tty: bool) -> None:
            super().__init__()
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

    assert make_progress(quiet=True) is None
    monkeypatch.setattr(progress_module.sys, "stderr", Stderr(True))
    assert isinstance(make_progress(quiet=False), RichProgress)
    monkeypatch.setattr(progress_module.sys, "stderr", Stderr(False))
    assert isinstance(make_progress(quiet=False), PlainProgress)


SEEDED = RunStarted("adam-quick", "adam_instability", ("adam/s0", "adam/s1", "adam/s2", "sgd"), 100, "cpu", 0, "runs/y")


def test_seeds_of_a_variant_share_one_bar_with_their_mean_loss():
    console, out = terminal()
    display = RichProgress(console)
    display.handle(SEEDED)
    for seed, (step, loss) in enumerate([(40, 1.0), (50, 2.0), (60, 6.0)]):
        display.handle(Scalars(step, f"adam/s{seed}", {"train/loss": loss}, 1.0))
    display.handle(Scalars(10, "sgd", {"train/loss": 0.5}, 1.0))
    display.close()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    final = {}
    for line in text.replace("\r", "\n").splitlines():
        match = re.match(r"\s*(\S+(?: ×\d+)?)\s.*?(\d+)/(\d+) .*loss (\S+)", line)
        if match:
            final[match[1]] = (int(match[2]), int(match[3]), match[4])
    # three seeds: 40 + 50 + 60 of 3 x 100 steps; mean loss (1 + 2 + 6) / 3 = 3
    assert final == {"adam ×3": (150, 300, "3.0000"), "sgd": (10, 100, "0.5000")}


def test_plain_line_gives_each_variant_once_with_its_seeds_mean():
    stream = io.StringIO()
    display = PlainProgress(stream, period=0.0)
    display.handle(SEEDED)
    display.handle(Scalars(50, "adam/s0", {"train/loss": 1.0}, 0.0))
    display.handle(Scalars(50, "adam/s1", {"train/loss": 4.0}, 0.0))
    display.handle(Scalars(100, "sgd", {"train/loss": 0.25}, 0.0))
    line = stream.getvalue().splitlines()[-1]
    assert "200/400 steps (50%)" in line
    assert line.endswith("| loss adam=mean 2.5000 sgd=0.2500"), line
    assert "adam/s0" not in line
