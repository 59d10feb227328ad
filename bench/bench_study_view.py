"""The lab's study view over a 128-trial study: what one refresh costs.

Builds a study folder as the runner leaves it half-way: 128 trials (two optimisers × 64 seeds of
the tiny block-MDP scenario), 112 finished (each with 6 probe checkpoints of 8 statistics in
checkpoints/ and a run folder), 8 running (run folders whose writer is this process), 8 pending.
Times, best of 5:
  * ``StudyReader.read`` (the worker thread): the first read (the study file, every trial),
    a read with nothing changed, and a read after one more trial finished (the aggregate again,
    bootstrap intervals included);
  * the UI thread: the first ``show_snapshot`` (128 rows added), a refresh with one trial's state
    and the aggregate changed (cells updated, the scatter rebuilt), and the chart's own drawing.

    .venv/bin/python bench/bench_study_view.py
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from plastilab.rundir.layout import new_run_dir
from plastilab.rundir.state import write_end, write_running
from plastilab.studies import folder
from plastilab.studies.ledger import Ledger
from plastilab.studies.snapshot import StudyReader
from plastilab.studies.study_file import load_study_plan

REPO = Path(__file__).resolve().parents[1]
STATISTICS = [f"stat/{name}" for name in ("weight_norm", "distance", "grad_norm", "dead", "dormant", "effective_rank", "stable_rank", "hessian_top")]
STEPS = (0, 500, 1000, 1500, 2000, 2500)


def build(root: Path, n_seeds: int = 64, n_running: int = 8, n_pending: int = 8) -> tuple[Path, Ledger, list[str]]:
    source = root / "big.toml"
    source.write_text(
        f'kind = "study"\nname = "big"\nbase = "{REPO / "scenarios" / "block-mdp-tiny.toml"}"\nseeds = {n_seeds}\n'
        '[axes]\n"agents.mlp.optimizer" = ["adam", "rmsprop"]\n[analysis]\nkind = "falsification"\ncolor_by = "agents.mlp.optimizer"\n',
        encoding="utf-8",
    )
    study = load_study_plan(source)
    study_dir = folder.new_study_dir(study, root / "runs")
    ledger = Ledger(study_dir)
    rng = np.random.default_rng(0)
    ids = [t.id for t in study.trials]
    for trial in study.trials:
        ledger.record(trial.id, "pending", overrides=trial.overrides)
    finished = ids[: len(ids) - n_running - n_pending]
    for trial_id in finished + ids[len(finished) : len(finished) + n_running]:
        run_dir = new_run_dir(f"big.{trial_id}", study_dir / folder.TRIALS_DIR)
        ledger.record(trial_id, "running", started=time.time() - 30, run_dir=None)
        if trial_id in finished:
            finish(study_dir, ledger, trial_id, run_dir, rng)
        else:
            write_running(run_dir, 1200)
    return study_dir, ledger, ids[len(finished) + n_running :]


def finish(study_dir: Path, ledger: Ledger, trial_id: str, run_dir: Path, rng) -> None:
    write_end(run_dir, "finished", 300)
    checkpoints = [{"step": s, "values": {"probe/plasticity_loss": float(rng.normal(s / 5000, 0.1)), **{k: float(rng.normal()) for k in STATISTICS}}} for s in STEPS]
    data = {"trial": trial_id, "run_dir": str(run_dir), "target": "probe/plasticity_loss", "series": {"mlp": {"checkpoints": checkpoints, "final": checkpoints[-1]["values"]}}}
    (study_dir / folder.CHECKPOINTS_DIR).mkdir(exist_ok=True)
    (study_dir / folder.CHECKPOINTS_DIR / f"{trial_id}.json").write_text(json.dumps(data), encoding="utf-8")
    ledger.record(trial_id, "finished", seconds=40.0, run_dir=str(run_dir.relative_to(study_dir)))


def best(times: list[float]) -> str:
    return f"{min(times) * 1000:7.1f} ms"


async def ui(study_dir: Path, ledger: Ledger, pending: list[str]) -> None:
    from plastilab.tui.app import PlastilabApp
    from plastilab.tui.screens.study_view import StudyViewScreen

    app = PlastilabApp(runs_root=study_dir.parent.parent, read_only=True, study_dir=study_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        while not (isinstance(app.screen, StudyViewScreen) and app.screen.snapshot is not None):
            await pilot.pause(0.1)
        screen = app.screen
        reader = StudyReader(study_dir)
        fresh = StudyViewScreen(study_dir)
        await app.push_screen(fresh)
        first = reader.read()
        t0 = time.perf_counter()
        fresh.show_snapshot(first)
        first_show = time.perf_counter() - t0
        refresh, chart = [], []
        rng = np.random.default_rng(1)
        for trial_id in pending[:5]:
            run_dir = new_run_dir(f"big.{trial_id}", study_dir / folder.TRIALS_DIR)
            ledger.record(trial_id, "running", started=time.time(), run_dir=None)
            finish(study_dir, ledger, trial_id, run_dir, rng)
            snapshot = reader.read()
            t0 = time.perf_counter()
            fresh.show_snapshot(snapshot)
            refresh.append(time.perf_counter() - t0)
            widget = fresh.query_one("#study-chart")
            t0 = time.perf_counter()
            widget._build(widget.size.width, widget.size.height)
            chart.append(time.perf_counter() - t0)
            await pilot.pause(0.05)
        print(f"UI thread, first show (128 rows):          {first_show * 1000:7.1f} ms")
        print(f"UI thread, refresh after a trial finished:  {best(refresh)}")
        print(f"chart drawing (scatter, {widget.size.width}x{widget.size.height}):          {best(chart)}")
        assert screen is not None


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-study-view-"))
    try:
        study_dir, ledger, pending = build(root)
        cold, warm, changed = [], [], []
        for _ in range(5):
            t0 = time.perf_counter()
            reader = StudyReader(study_dir)
            reader.read()
            cold.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            reader.read()
            warm.append(time.perf_counter() - t0)
            reader._aggregate_key = None  # as if another trial had finished
            t0 = time.perf_counter()
            reader.read()
            changed.append(time.perf_counter() - t0)
        print("study view over 128 trials (112 finished x 6 checkpoints x 8 statistics, 8 running), best of 5")
        print(f"reader, first read (study file, every trial): {best(cold)}")
        print(f"reader, nothing changed:                      {best(warm)}")
        print(f"reader, a trial finished (aggregate again):   {best(changed)}")
        asyncio.run(ui(study_dir, ledger, pending))
        ledger.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
