"""A study picked in the lab runs through the CLI's runner in its own process, shows in the study
view as it runs, and a stop (after a question) leaves every trial's state truthful."""

from __future__ import annotations

import tomllib

import tomli_w
from textual.widgets import Button, DataTable

from plastilab.core.catalog import builtin_scenario_dir
from plastilab.studies.scenario_form import discover
from plastilab.studies.ledger import read_ledger
from plastilab.tui.app import PlastilabApp
from plastilab.tui.screens.confirm import ConfirmScreen
from plastilab.tui.screens.picker import PickerScreen
from plastilab.tui.screens.study_view import StudyViewScreen
from tui.study_folders import TINY
from tui.tui_helpers import pid_gone, run_async, wait_until

LONG_WAIT_S = 300.0  # spawned interpreters import torch: slow on a machine kept busy by others


def small_study(folder, steps: int = 20_000) -> None:  # long enough to be stopped half-way on an idle machine
    base = tomllib.loads(TINY.read_text(encoding="utf-8"))
    base["training"].update(total_steps=steps, brownian=False)
    base["instruments"]["probe"]["every"] = steps // 4
    base["instruments"]["stats"]["every"] = steps // 4
    base["instruments"]["hessian"]["every"] = 0
    base["instruments"]["covariance"]["every"] = 0
    study = {
        "kind": "study",
        "name": "lab-study",
        "description": "Three seeds of the tiny block MDP, one at a time",
        "watch_for": "The first trial runs while the other two wait.",
        "estimated_cpu_seconds": 30,
        "seeds": 3,
        "workers": 1,
        "population_size": 1,  # one trial at a time, so the others wait visibly
        "base": base,
        "analysis": {"kind": "falsification"},
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lab-study.toml").write_text(tomli_w.dumps(study), encoding="utf-8")


def test_the_picker_lists_the_shipped_studies_with_their_comment():
    entries = {e.name: e for e in discover([builtin_scenario_dir()])}
    study = entries["falsification-quick"]
    assert study.ok and study.kind == "study" and study.parameters == []
    assert "18 trials of its block_mdp base scenario; analysis: falsification" in study.details
    assert "env.rewards: [class_aligned], [image_random], [sparse]" in study.details
    assert "Lyle et al. (2023)" in study.watch_for  # the file's leading comment
    assert entries["scaling-quick"].kind == "study" and entries["adam-quick"].kind == "scenario"


@run_async
async def test_a_study_started_in_the_lab_runs_and_stops_truthfully(tmp_path):
    small_study(tmp_path / "scenarios")
    app = PlastilabApp(scenarios_dirs=[tmp_path / "scenarios"], runs_root=tmp_path / "runs")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen) and app.screen.entry is not None)
        assert app.screen.entry.kind == "study" and str(app.screen.query_one("#launch", Button).label).startswith("Start study")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, StudyViewScreen))
        screen = app.screen
        process = screen.process
        assert process is not None and app.study_processes == [process]

        def first_trial_steps() -> bool:
            if screen.snapshot is None:
                return False
            rows = {r.id: r for r in screen.snapshot.trials}
            return rows["t000"].state == "running" and (rows["t000"].step or 0) > 0

        await wait_until(pilot, first_trial_steps, timeout=LONG_WAIT_S)
        assert screen.study_dir.parent == tmp_path / "runs" / "lab-study"
        table = screen.query_one("#study-trials", DataTable)
        assert [str(table.get_cell(t, "state")) for t in ("t001", "t002")] == ["pending", "pending"]  # one worker
        await pilot.press("escape")  # the study goes on; `b` in the picker comes back to it
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        assert process.is_alive()
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, StudyViewScreen) and app.screen.process is process)
        screen = app.screen
        await wait_until(pilot, lambda: screen.snapshot is not None)
        table = screen.query_one("#study-trials", DataTable)
        assert screen.check_action("stop", ())
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: not process.is_alive(), timeout=LONG_WAIT_S)
        states = {t: e["state"] for t, e in read_ledger(screen.study_dir / "trials.jsonl").items()}
        # Truthful: what ran ended interrupted (or finished just before the stop); nothing still
        # "running" in the ledger; what never started is pending.
        assert set(states.values()) <= {"interrupted", "finished", "pending"} and "interrupted" in states.values()
        assert states["t000"] in ("interrupted", "finished") and states["t002"] == "pending"
        await wait_until(pilot, lambda: str(table.get_cell("t000", "state")) == states["t000"])
        assert not screen.check_action("stop", ())  # nothing left to stop
        pid = process.pid
    assert pid_gone(pid)


@run_async
async def test_a_study_whose_trial_does_not_validate_says_so_in_one_line(tmp_path):
    from plastilab.tui.study_sessions import start_study

    path = tmp_path / "bad.toml"
    path.write_text(f'kind = "study"\nname = "bad"\nbase = "{TINY}"\n[axes]\n"training.total_steps" = [100, -5]\n', encoding="utf-8")
    app = PlastilabApp(scenarios_dirs=[tmp_path / "none"], runs_root=tmp_path / "runs")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = start_study(app, path)
        await wait_until(pilot, lambda: screen._error is not None, timeout=LONG_WAIT_S)
        assert screen._error.startswith(f"{path}: trial t001 (training.total_steps=-5, seed=0): training.total_steps")
        assert "\n" not in screen._error and "Traceback" not in screen._error
        await wait_until(pilot, lambda: not screen.process.is_alive())
        assert not (tmp_path / "runs").exists()  # checked before any folder is made, as the CLI does
