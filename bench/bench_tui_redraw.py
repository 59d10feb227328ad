"""The time of one full dashboard redraw with 10,000-point histories. Target: <= 50 ms.

A run state is filled as a long adam-quick run would fill it: five series, thirteen scalar
tags, 10,000 points in every history, a task boundary every 1,000 points, and the arrays the
instruments send (a 100-bin eigenvalue histogram, a 200-point probe curve and its 8 targets'
curves at each of 64 checkpoints, and a 64x64 covariance matrix per series). Two figures per terminal size:

  panes   ``DashboardScreen.redraw()`` plus a forced render of every chart and of the heat
          map, hidden tabs included (more than one redraw ever costs), timed directly;
  screen  ``redraw()``, then Textual handles the messages it sent, lays out, renders what
          changed and composites the screen (what a person waits for; only the final write to
          the terminal is left out, as the benchmark runs headless).

Histories are timed twice: with the app's default bounded history (capacity 2048 buckets, so
10,000 points are kept as at most 4,096) and with a capacity that keeps all 10,000 points.
Then the probe and Hessian panes over checkpoints (``t``: 64 checkpoints of a 100-bin density and
of 8 targets' 200-step probe curves per series) against the latest-only panes, in the same run.
With ``--population``, then a population's run: 128 series (4 variants x 32 seeds,
``<variant>/s<seed>``), each curve drawn (key a) and grouped per variant (mean, min-max over
seeds: the dashboard's default past 8 series), 2,000 points a history. Measured (CPU time of the
UI thread, medians of 20): grouped 24 ms at 80x24 and 36 ms at 160x50 against 88 and 80 ms for
the code before the probe and Hessian panes grouped too and unchanged series stopped being
recomputed, in one run at load 1.5; five runs at load 1.5-11 gave 24-39 and 36-67 ms (the 67
under contention, the others <= 47). Each drawn: 107-149 and 236-390 ms (over budget: plotext
draws 128 lines in every pane; not the default past 8 series).

    .venv/bin/python bench/bench_tui_redraw.py [--repeats 20] [--population | --population-only] [--cpu]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

import numpy as np

from plastilab.core.events import Curve, Histogram, Log, Matrix, RunStarted, Scalars, TaskBoundary
from plastilab.tui.app import PlastilabApp
from plastilab.runtime.run_state import RunState
from plastilab.runtime.session import Session

SERIES = ("adam-default", "adam-beta2", "adam-eps", "adam-beta2-eps", "sgd")
TAGS = (
    "train/loss", "train/accuracy", "train/full_loss", "train/batch_accuracy", "task/final_loss",
    "task/final_accuracy", "units/dead_fraction", "grads/norm", "updates/norm", "updates/ratio",
    "weights/norm", "optim/second_moment_mean", "optim/second_moment_geomean",
)  # fmt: skip
POINTS = 10_000
CHECKPOINTS = 64  # probe and Hessian checkpoints a series (as many as the run state keeps)


class Finished:
    """A source with nothing more to say (the state is filled by hand)."""

    live = False
    follows = False
    done = True

    def poll(self, timeout: float) -> list:
        return []


POPULATION = tuple(f"{variant}/s{seed}" for variant in SERIES[:4] for seed in range(32))  # 128 series
POPULATION_POINTS = 2_000  # a history each (a 15,000-step block-MDP run logging every 100 steps has 150)


def filled_state(capacity: int, series: tuple[str, ...] = SERIES, points: int = POINTS) -> RunState:
    state = RunState(history_capacity=capacity)
    state.apply(RunStarted("adam-quick", "adam_instability", series, POINTS * 50, "cpu", 0, "runs/adam-quick/bench"))
    rng = np.random.default_rng(0)
    for i in range(points):
        step = i * 50
        if i % 1000 == 0:
            state.apply(TaskBoundary(step, i // 1000))
        for k, name in enumerate(series):
            loss = 2.3 * np.exp(-(i % 1000) / (100 + 50 * (k % 5))) + 0.05 * rng.random()
            values = {tag: float(loss * (j + 1) / 7) for j, tag in enumerate(TAGS)}
            state.apply(Scalars(step, name, values, 1000.0 + step / 200))
    for k, name in enumerate(series):
        for checkpoint in range(CHECKPOINTS):  # the arrays the over-time views draw, kept by step
            step = (checkpoint + 1) * POINTS * 50 // CHECKPOINTS
            edges = np.append(np.linspace(-2, 40 + k + checkpoint / 10, 100), 400.0)  # and an outlier bin
            state.apply(Histogram(step, name, "hessian/density", rng.random(100) * 50, edges))
            x = np.arange(200, dtype=float)
            targets = 2.3 * np.exp(-x / (10 + 10 * k + checkpoint)) * (1 + 0.1 * rng.random((8, 1)))
            state.apply(Curve(step, name, "probe/curve", x, targets.mean(axis=0)))
            state.apply(Matrix(step, name, "probe/target_curves", targets, None))
        a = rng.standard_normal((64, 64))
        state.apply(Matrix(POINTS * 50, name, "gradients/covariance", np.corrcoef(a), None))
    for i in range(200):
        state.apply(Log("warning" if i % 10 == 0 else "info", f"message {i}", i))
    return state


async def measure(
    capacity: int, size: tuple[int, int], repeats: int, clock, over_time: bool = False, series: tuple[str, ...] = SERIES, over_seeds: bool = False, points: int = POINTS
) -> tuple[list[float], list[float], int]:
    from plastilab.tui.screens.dashboard import DashboardScreen
    from plastilab.tui.widgets.covariance_heatmap import CovarianceHeatmap
    from plastilab.tui.widgets.eigenvalue_histogram import EigenvalueHistogram
    from plastilab.tui.widgets.learning_curves import LearningCurves
    from plastilab.tui.widgets.plasticity_curve import PlasticityCurve

    state = filled_state(capacity, series, points)
    points = max(len(h.points()[0]) for s in state.scalars.values() for h in s.values())
    app = PlastilabApp(scenarios_dirs=[], runs_root="runs")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app._open(Session(Finished(), state, title="bench"))
        await pilot.pause(0.5)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        screen.over_time = over_time  # the probe and Hessian panes over checkpoints (key t)
        screen.over_seeds = over_seeds  # each variant's mean and min-max over its seeds (key a)
        screen._seeds_chosen = True  # as if key a was pressed: not the many-series default
        charts = [screen.query_one(t) for t in (LearningCurves, PlasticityCurve, EigenvalueHistogram)]
        heatmap = screen.query_one(CovarianceHeatmap)
        width, height = screen.query_one(LearningCurves).size  # hidden panes drawn as large
        panes, full = [], []
        for _ in range(repeats):
            state.version += 1
            start = clock()
            screen.redraw()
            for chart in charts:
                chart._build(width, height)  # plotext builds the figure; its cells become strips
            heatmap._draw(width, height)
            panes.append(clock() - start)
        for _ in range(repeats):
            await pilot.pause(0.05)
            state.version += 1
            start = clock()
            screen.redraw()
            await pilot._wait_for_screen()  # the messages the redraw sent are handled
            screen._on_timer_update()  # Textual lays out, renders what changed and composites
            full.append(clock() - start)
        await pilot.press("q")
    return panes, full, points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--cpu", action="store_true", help="time CPU seconds of this thread, not wall seconds (for a shared machine)")
    parser.add_argument("--population", action="store_true", help="also time a population's 128 series, each drawn and grouped")
    parser.add_argument("--population-only", action="store_true", help="time only the population's 128 series")
    args = parser.parse_args()
    args.population |= args.population_only
    clock = time.thread_time if args.cpu else time.perf_counter
    print(f"timing {'CPU time of the UI thread' if args.cpu else 'wall time'}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    worst = {}
    for capacity in () if args.population_only else (2048, 16384):
        for size in ((80, 24), (160, 50)):
            panes, full, points = asyncio.run(measure(capacity, size, args.repeats, clock))
            p, f = statistics.median(panes) * 1e3, statistics.median(full) * 1e3
            worst[size] = max(worst.get(size, 0.0), f)
            print(
                f"capacity {capacity:5d} ({points:5d} points a history kept), {size[0]}x{size[1]}: "
                f"screen {f:5.1f} ms (max {max(full) * 1e3:5.1f})   all panes, hidden too {p:5.1f} ms (max {max(panes) * 1e3:5.1f})"
            )
    for size in () if args.population_only else ((80, 24), (160, 50)):  # the probe and Hessian panes over checkpoints (key t)
        base = asyncio.run(measure(2048, size, args.repeats, clock))[0]
        over = asyncio.run(measure(2048, size, args.repeats, clock, over_time=True))
        p, f, b = statistics.median(over[0]) * 1e3, statistics.median(over[1]) * 1e3, statistics.median(base) * 1e3
        worst[size] = max(worst[size], f)
        print(
            f"over time (t), {CHECKPOINTS} checkpoints, {size[0]}x{size[1]}: screen {f:5.1f} ms   "
            f"all panes, hidden too {p:5.1f} ms (latest only, same run: {b:5.1f} ms; ratio {p / b:.2f})"
        )
    for size in ((80, 24), (160, 50)) if args.population else ():  # 128 series, each drawn, then grouped
        for over_seeds in (False, True):
            panes, full, _ = asyncio.run(measure(2048, size, args.repeats, clock, series=POPULATION, over_seeds=over_seeds, points=POPULATION_POINTS))
            f = statistics.median(full) * 1e3
            worst[size] = max(worst.get(size, 0.0), f)
            print(
                f"{len(POPULATION)} series ({'grouped: mean, min-max over 32 seeds' if over_seeds else 'each drawn'}), {size[0]}x{size[1]}: "
                f"screen {f:5.1f} ms (max {max(full) * 1e3:5.1f})   all panes, hidden too {statistics.median(panes) * 1e3:5.1f} ms"
            )
    for size, ms in worst.items():
        print(f"full redraw at {size[0]}x{size[1]}: {ms:.1f} ms (median, worst capacity; target <= 50 ms)")


if __name__ == "__main__":
    main()
