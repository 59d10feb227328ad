"""Text from files is shown as text in the lab (issue 11, findings 5 and 8): no control
sequence reaches the terminal, no markup is obeyed, and a damaged folder opens without a crash."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from plastilab.tui.app import PlastilabApp
from plastilab.tui.screens.dashboard import DashboardScreen
from plastilab.tui.screens.picker import PickerScreen
from plastilab.tui.screens.runs import RunsScreen
from plastilab.tui.widgets.log_pane import LogPane
from plastilab.tui.widgets.runs_table import RunsTable
from plastilab.tui.widgets.status_panel import StatusPanel
from tui.tui_helpers import run_async, wait_until

ESCAPE = "\x1b[2J\x1b]0;pwned\x07"
MARKUP = "[reverse]lit[/reverse]"


def hostile_run(root: Path) -> Path:
    """A failed run whose every string carries an escape and markup, and whose metrics and
    arrays are damaged the ways the issue found."""
    run = root / "demo" / "20260101-000000-abcdef"
    (run / "arrays").mkdir(parents=True)
    lines = [
        {"step": 0, "series": "a", "tag": "task/index", "value": 0.0, "wall_time": 1.0},
        {"step": 10, "series": "a", "tag": "train/loss", "value": 1.0, "wall_time": "x"},
        {"step": 10, "series": "a", "tag": "task/index", "value": None, "nonfinite": "nan"},
        {"step": 20, "series": "a", "tag": "train/loss", "value": None, "nonfinite": "banana"},
        {"step": 30, "series": "a", "tag": "train/loss", "value": 1e308, "wall_time": 3.0},
        {"step": 40, "series": "a", "tag": "train/loss", "value": 0.5, "wall_time": 4.0},
    ]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    np.savez_compressed(root / "outside.npz", counts=np.array([1]), edges=np.array([0.0, 1.0]))
    arrays = [{"step": 1, "series": "a", "tag": "h", "kind": "histogram", "file": f} for f in (5, str(root / "outside.npz"), "../../outside.npz")]
    (run / "arrays.jsonl").write_text("".join(json.dumps(r) + "\n" for r in arrays))
    (run / "meta.json").write_text(json.dumps({"scenario": f"demo{ESCAPE}{MARKUP}", "kind": "adam_instability", "series": ["a"], "device": f"cpu{MARKUP}"}))
    (run / "status.json").write_text(json.dumps({"state": "failed", "last_step": "x", "pid": 0, "error": f"boom{ESCAPE}{MARKUP}"}))
    (run / "log.jsonl").write_text(json.dumps({"level": "warning", "message": f"careful{ESCAPE}{MARKUP}", "step": "s"}) + "\n")
    (run / "summary.json").write_text(json.dumps({"series": {f"a{MARKUP}": {"final": {"train/loss": "low"}, "per_task": {}}}}))
    return run


def plain(renderable) -> str:
    return getattr(renderable, "plain", str(renderable))


@run_async
async def test_watch_opens_a_damaged_folder_and_shows_its_text_as_text(tmp_path):
    run = hostile_run(tmp_path)
    app = PlastilabApp(watch_dir=run, runs_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen) and "failed" in app.screen.query_one(StatusPanel).plain)
        panel = app.screen.query_one(StatusPanel).plain
        assert "\x1b" not in panel and "\\x1b[2J" in panel and MARKUP in panel
        pane = app.screen.query_one(LogPane)

        def log() -> str:
            return "\n".join(line.text for line in pane.lines)

        await wait_until(pilot, lambda: "malformed" in log())
        log = log()
        assert "\x1b" not in log and "careful" in log and "malformed" in log
        assert app.is_running


@run_async
async def test_the_runs_list_shows_names_and_errors_as_text(test_scenarios, tmp_path):
    hostile_run(tmp_path)
    app = PlastilabApp(scenarios_dirs=[test_scenarios], runs_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.query_one(RunsTable).runs)
        table = app.screen.query_one(RunsTable)
        cells = [plain(cell) for cell in table.get_row_at(0)]
        assert any(MARKUP in cell and "\\x1b[2J" in cell for cell in cells), cells
        assert not any("\x1b" in cell for cell in cells)


@run_async
async def test_the_picker_shows_a_description_as_text(test_scenarios, tmp_path):
    source = (test_scenarios / "adam-tiny.toml").read_text()
    (tmp_path / "esc.toml").write_text(_with_description(source, "\\u001b[2J" + MARKUP))
    # Files that crashed the lab at start (issue 11, finding 4): they are listed as invalid.
    (tmp_path / "deep.toml").write_text('kind = "adam_instability"\nname = "d"\nx = ' + "[" * 100_000 + "]" * 100_000 + "\n")
    (tmp_path / "kind-table.toml").write_text('kind = {a = 1}\nname = "t"\n')
    os.mkfifo(tmp_path / "pipe.toml")
    app = PlastilabApp(scenarios_dirs=[tmp_path], runs_root=tmp_path / "runs")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen) and app.screen.entry is not None)
        app.screen.show_entry(next(e for e in app.screen.entries if e.path.name == "esc.toml"))
        await pilot.pause()
        about = plain(app.screen.query_one("#scenario-about").render())
        assert "\x1b" not in about and "\\x1b[2J" in about and MARKUP in about
        invalid = {e.path.name for e in app.screen.entries if not e.ok}
        assert {"deep.toml", "kind-table.toml", "pipe.toml"} <= invalid and app.is_running


def _with_description(source: str, description: str) -> str:
    lines = [line for line in source.splitlines() if not line.startswith("description")]
    return "\n".join([lines[0], f'description = "{description}"', *lines[1:]]) + "\n"
