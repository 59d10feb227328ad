"""The classroom in real browsers (issues 11 and 14): `plastilab serve --watch RUNS_DIR` opened by
two pages at once; both follow the teacher's live run, a viewer's keys start, pause, stop and rerun
nothing (the keys are not offered, and pressing them changes no file), and one closing its tab
leaves the other following the run to its end.

The teacher's run is a real run-folder writer in another process, fed steps when the test says.
"""

from __future__ import annotations

import re

import pytest

from browser_helpers import ServedLab, WatchedPage, headless_chromium
from plastilab.rundir.state import read_state
from tui.test_classroom import start_writer, tell

RUN_NAME = "20250101-000000-aaaaaa"


@pytest.fixture(scope="module")
def browser():
    with headless_chromium() as browser:
        yield browser


def shows_step(step: int, state: str):
    return lambda s: re.search(rf"state\s+● {state}", s) and re.search(rf"step\s+{step} / 100\b", s)


def footer(screen: str) -> str:
    """The bottom line: the keys the screen offers."""
    return screen.rstrip().splitlines()[-1] if screen.strip() else ""


def test_two_browsers_watch_the_same_live_run_and_cannot_steer_it(tmp_path, browser, tiny_scenario_path):
    runs = tmp_path / "runs"
    run_dir = runs / "adam-tiny" / RUN_NAME
    writer = start_writer(run_dir, tiny_scenario_path)
    try:
        with ServedLab(tmp_path, ("--watch", str(runs))) as lab:
            viewers = [WatchedPage(browser.new_page(), lab.origin) for _ in range(2)]
            try:
                for viewer in viewers:  # two sessions at once, each its own read-only lab
                    viewer.open(lab.url)
                for viewer in viewers:
                    viewer.wait_for(lambda s: "read-only" in s and RUN_NAME[:8] in s, "the runs list with the teacher's run")
                    viewer.keyboard_to_terminal()
                    viewer.press("Enter")
                for viewer in viewers:
                    screen = viewer.wait_for(lambda s: shows_step(20, "running")(s) and "Quit" in footer(s), "the live run at step 20")
                    # A viewer is offered no key that steers the run.
                    assert not {"Pause", "Stop", "Rerun"} & set(footer(screen).split()), footer(screen)

                for key in ("p", "s", "r", "Control+r"):  # pause, stop, rerun, launch: all refused
                    viewers[0].press(key)
                tell(writer, "more")  # the teacher's run goes on: both viewers see it
                for viewer in viewers:
                    viewer.wait_for(shows_step(50, "running"), "the live run at step 50")
                assert read_state(run_dir) == "running" and writer.poll() is None
                assert [p.name for p in (runs / "adam-tiny").iterdir()] == [RUN_NAME]  # nothing was launched

                leaving, staying = viewers
                leaving.page.close()  # a student closing the tab stops nothing
                tell(writer, "end")
                staying.wait_for(shows_step(50, "finished"), "the run's end")
                assert leaving.problems == [] and staying.problems == []
            finally:
                for viewer in viewers:  # before the server stops: each session ends as a tab closing
                    if not viewer.page.is_closed():
                        viewer.page.close()
    finally:
        writer.kill()
        writer.wait()
