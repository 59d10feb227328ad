"""The Adam scenario's training loop against a bare PyTorch loop of the same model, batch and
optimiser, in one process, interleaved, both on the CPU, timed in CPU seconds of this process (so
another process on a shared machine does not tilt the ratio; with one torch thread CPU time is
the loop's time). The scenario runs as a user runs it: driver, event stream and run-folder
writer included (instruments off: they have their own benches). Prints steps/s of each, the
median ratio (target >= 0.95), and where the scenario loop's time goes: the training step,
the evaluation, the logging (the logged step's extra measurements, the events and the writer),
the instruments and the rest (data, the loop itself, the driver), as fractions of its time.

    .venv/bin/python bench/bench_adam_step_loop.py [--steps 3000] [--repeats 5] [--instruments]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn.functional as F

from plastilab.core.events import Scalars
from plastilab.core.scenario_file import load_scenario
from plastilab.data.datasets import load_images
from plastilab.runtime.launcher import launch

QUICK = Path(__file__).resolve().parents[1] / "scenarios" / "adam-quick.toml"
N_IMAGES, BATCH, HIDDEN = 500, 64, 128


def scenario_overrides(steps: int, instruments: bool = False) -> list[str]:
    return [
        "device=cpu",
        "seeds=1",  # one network, as the bare loop: the same model and data as the bare loop
        f"model.hidden=[{HIDDEN}, {HIDDEN}]",
        f"data.n_images={N_IMAGES}",
        f"training.batch_size={BATCH}",
        "training.n_tasks=1",
        f"training.steps_per_task={steps}",
        "variants={adam-default = {optimizer = 'adam'}}",
        # the training loop alone; instruments have their own benches (--instruments: the quick file's)
        *([] if instruments else ["instruments={}"]),
    ]


def bare_loop(steps: int, lr: float) -> float:
    """Steps per second of the plainest loop: index a batch, forward, backward, Adam step."""
    images, _ = load_images("mnist-5k", N_IMAGES, seed=0)
    x = images.flatten(1)
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 10)
    )
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 10, (N_IMAGES,), generator=g)
    start = time.process_time()
    for _ in range(steps):
        idx = torch.randint(0, N_IMAGES, (BATCH,), generator=g)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return steps / (time.process_time() - start)


class StepClock:
    """Times the scenario's loop between its first and last logged step (setup excluded); with
    ``timers`` it also keeps their totals at those two marks."""

    def __init__(self, timers: dict[str, float] | None = None) -> None:
        self.marks: list[tuple[float, int, dict[str, float]]] = []
        self.timers = timers

    def handle(self, event) -> None:
        if isinstance(event, Scalars):
            self.marks.append((time.process_time(), event.step, dict(self.timers or {})))

    def rate(self) -> float:
        (t0, s0, _), (t1, s1, _) = self.marks[0], self.marks[-1]
        return (s1 - s0) / (t1 - t0)


def scenario_loop(steps: int, out: Path, threads: int) -> float:
    scenario = load_scenario(QUICK, scenario_overrides(steps))
    clock = StepClock()
    launch(scenario, out, consumers=[clock], threads=threads)  # as `plastilab run` starts it
    return clock.rate()


# -- where the scenario loop's time goes -------------------------------------------------------
def _timed_methods():
    """(class, method, part) of everything the breakdown attributes; the rest is the loop."""
    from plastilab.instruments.suite import InstrumentSuite
    from plastilab.rundir.writer import RunFolderWriter
    from plastilab.scenarios.adam_instability.learner import SeparateSeeds
    from plastilab.scenarios.adam_instability.stacked import StackedSeeds

    methods = []
    for group in (SeparateSeeds, StackedSeeds):
        methods += [(group, "train_step", "train_step"), (group, "logged_step", "logged_step"), (group, "evaluate", "evaluation")]
    methods += [(InstrumentSuite, name, "instruments") for name in ("start", "before_step", "measure")]
    methods += [(RunFolderWriter, "handle", "writer")]
    return methods


@contextmanager
def timing(timers: dict[str, float]):
    """Wraps the methods of ``_timed_methods`` to add their CPU time to ``timers[part]`` and
    their calls to ``timers[part + "#calls"]``."""
    originals = []
    for cls, name, part in _timed_methods():
        original = getattr(cls, name)
        originals.append((cls, name, original))

        def timed(*args, _original=original, _part=part, **kwargs):
            start = time.process_time()
            try:
                return _original(*args, **kwargs)
            finally:
                timers[_part] += time.process_time() - start
                timers[_part + "#calls"] += 1

        setattr(cls, name, timed)
    try:
        yield
    finally:
        for cls, name, original in originals:
            setattr(cls, name, original)


def breakdown(steps: int, out: Path, threads: int, instruments: bool) -> dict[str, float]:
    """Fractions of the scenario loop's time (between its first and last logged step)."""
    timers: dict[str, float] = defaultdict(float)
    clock = StepClock(timers)
    with timing(timers):
        launch(load_scenario(QUICK, scenario_overrides(steps, instruments)), out, consumers=[clock], threads=threads)
    (t0, _, first), (t1, _, last) = clock.marks[0], clock.marks[-1]
    spent = defaultdict(float, {part: last[part] - first.get(part, 0.0) for part in last})
    total = t1 - t0
    # A logged step is a training step plus its measurements: its step's share is a plain
    # step's mean time, the rest of it is logging.
    plain_step = spent["train_step"] / max(1.0, spent["train_step#calls"])
    step_share = min(spent["logged_step"], plain_step * spent["logged_step#calls"])
    train = spent["train_step"]
    logged = spent["logged_step"]
    parts = {
        "training step": train + step_share,
        "evaluation": spent["evaluation"],
        "logging (measurements, events, writer)": logged - step_share + spent["writer"],
        "instruments": spent["instruments"],
    }
    parts["loop, data, driver"] = total - sum(parts.values())
    return {name: seconds / total for name, seconds in parts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--instruments", action="store_true", help="the breakdown with the quick file's instruments on")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    lr = load_scenario(QUICK, scenario_overrides(10)).config.variants["adam-default"].lr
    out = Path(tempfile.mkdtemp(prefix="plastilab-bench-"))
    bare_loop(200, lr)  # warm-up: allocator, kernels, imports
    scenario_loop(200, out, args.threads)
    ratios, bares, ours_all = [], [], []
    for i in range(args.repeats):
        # Interleaved, in alternating order, so a drift in the machine's load tilts neither.
        if i % 2:
            ours = scenario_loop(args.steps, out, args.threads)
            bare = bare_loop(args.steps, lr)
        else:
            bare = bare_loop(args.steps, lr)
            ours = scenario_loop(args.steps, out, args.threads)
        ratios.append(ours / bare)
        bares.append(bare)
        ours_all.append(ours)
        print(f"repeat {i + 1}: bare {bare:7.0f} steps/s   scenario {ours:7.0f} steps/s   ratio {ours / bare:.3f}")
    print(f"median ratio scenario/bare: {statistics.median(ratios):.3f} (target >= 0.95)")
    # On a shared machine the fastest repeat of each is the least disturbed measurement.
    print(f"best-of ratio scenario/bare: {max(ours_all) / max(bares):.3f}")
    fractions = breakdown(args.steps, out, args.threads, args.instruments)
    what = "the quick file's instruments on" if args.instruments else "instruments off, as above"
    print(f"where the scenario loop's time goes (one more run, methods timed; {what}):")
    for name, fraction in fractions.items():
        print(f"  {name:40s} {100 * fraction:5.1f}%")
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
