"""`plastilab serve` in a real browser (issue 14): headless Chromium opens the lab with its token,
the picker launches the tiny scenario from the keyboard, and the run's own numbers appear on the
page, and quitting the lab ends the session on the page; the page has no console error, no failed
request and no request to another origin.
"""

from __future__ import annotations

import json
import re

import pytest

from browser_helpers import WAIT_S, ServedLab, WatchedPage, headless_chromium
from plastilab.rundir.state import read_state
from plastilab.runtime.run_state import format_value


@pytest.fixture(scope="module")
def browser():
    with headless_chromium() as browser:
        yield browser


def shown_scenario(screen: str) -> str | None:
    """The scenario the picker's details describe: its first line is "NAME   ~T of CPU time"."""
    found = re.search(r"│ (\S+)\s+~.* of CPU time", screen)
    return found.group(1) if found else None


def last_values(run_dir, tag: str) -> dict[str, float]:
    """The last value of ``tag`` in each series, read from the run's metrics.jsonl."""
    values = {}
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["tag"] == tag:
            values[row["series"]] = row["value"]
    return values


def last_step(run_dir) -> int:
    return max(json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines())


def test_a_browser_launches_the_tiny_scenario_and_sees_its_numbers(tmp_path, browser):
    with ServedLab(tmp_path) as lab:
        page = WatchedPage(browser.new_page(), lab.origin)
        try:
            page.open(lab.url)
            page.wait_for(lambda s: "choose a scenario" in s and shown_scenario(s), "the picker and a scenario's details")
            page.keyboard_to_terminal()
            # One key at a time through the list (the picker opens on a -quick scenario), each time
            # waiting for the details to name the newly highlighted scenario, until it is adam-tiny.
            for _ in range(40):
                current = shown_scenario(page.screen())
                if current == "adam-tiny":
                    break
                page.press("ArrowDown" if current < "adam-tiny" else "ArrowUp")
                page.wait_for(lambda s: shown_scenario(s) not in (current, None), f"the picker to move from {current}")
            page.wait_for(lambda s: shown_scenario(s) == "adam-tiny" and "training.steps_per_task" in s, "adam-tiny's form")
            page.press("Enter")  # launch the highlighted scenario

            runs = tmp_path / "runs" / "adam-tiny"
            page.wait_until(lambda: runs.is_dir() and any(runs.iterdir()), "the run folder")
            (run_dir,) = list(runs.iterdir())
            page.wait_until(lambda: read_state(run_dir) == "finished", f"the run to finish ({run_dir})")
            # The page shows the run's end and the numbers its files hold.
            step = f"{last_step(run_dir):,}"
            losses = [format_value(value) for value in last_values(run_dir, "train/loss").values()]  # series in column order
            loss_row = re.compile(r"train/loss\s+" + r"\s+".join(map(re.escape, losses)) + r"(?!\S)")
            page.wait_for(
                lambda s: re.search(r"state\s+● finished", s) and re.search(rf"step\s+{step} / {step}\b", s) and loss_row.search(s),
                f"the finished state, step {step} and the final losses {losses}",
            )
            # The terminal's font came from the server (no Google Fonts).
            assert page.page.evaluate("[...document.fonts].some(f => f.family.includes('Roboto Mono') && f.status === 'loaded')")
            # q quits the lab: the page says the session ended and offers a new one.
            page.press("q")
            page.page.get_by_text("Session ended.").wait_for(state="visible", timeout=WAIT_S * 1000)
            assert page.page.get_by_role("button", name="Start again").is_visible()
            assert page.problems == []
        finally:
            page.page.close()
