"""The cost of an idle ``plastilab watch`` (and ``serve --watch``) over a big folder of runs.

Makes RUNS finished run folders (the small files a list reads, plus an arrays/ tree below each,
as instruments leave), then times, in CPU seconds of this process, one poll of the runs list:
the way it was (every folder's files reread and the whole tree globbed, each poll) against the
cached list (``rundir.listing_cache``: one stat per folder while nothing changed). A watch polls
every POLL_S seconds, so a poll's CPU time over POLL_S is the share of a core an idle viewer
costs. Each ``serve --watch`` viewer runs its own lab process (its own cache), so VIEWERS cost
that many times one. Then one run changes and the next poll's cost is shown too.

    .venv/bin/python bench/bench_watch_idle.py [--runs 3000] [--polls 10] [--viewers 20]

Goals (issue #31): an idle watch over 3,000 runs at most 5% of a core; 20 viewers at most 1 core.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from plastilab.rundir import layout, listing_cache
from plastilab.studies.listing import list_runs, read_run

POLL_S = 2.0


def make_runs(root: Path, count: int) -> None:
    for i in range(count):
        run = root / f"scenario-{i % 30}" / f"20260101-{i:06d}-abcdef"
        (run / "arrays" / "adam" / "hessian_density").mkdir(parents=True)
        for step in range(3):
            (run / "arrays" / "adam" / "hessian_density" / f"{step:09d}.npz").write_bytes(b"x")
        (run / layout.STATUS).write_text(json.dumps({"state": "finished", "last_step": 450}))
        (run / layout.META).write_text(json.dumps({"scenario": f"scenario-{i % 30}", "kind": "adam_instability"}))
        (run / layout.SUMMARY).write_text(json.dumps({"series": {"adam": {"final": {"train/loss": 0.1}, "per_task": {"task/final_loss": [0.3, 0.2]}}}}))
        (run / layout.SCENARIO).write_text('kind = "adam_instability"\nname = "x"\n')
        (run / layout.METRICS).write_text("")


def the_old_way(root: Path) -> int:
    """What every poll did before: glob the whole tree, reread every run's files."""
    return len([read_run(path) for path in layout.find_run_dirs(root)])


def cpu_of(poll, polls: int) -> float:
    times = []
    for _ in range(polls):
        started = time.process_time()
        poll()
        times.append(time.process_time() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3000)
    parser.add_argument("--polls", type=int, default=10)
    parser.add_argument("--viewers", type=int, default=20)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    try:
        make_runs(root, args.runs)
        listing_cache.forget()
        assert len(list_runs(root)) == args.runs  # warms the cache, as a viewer's first poll does
        old = cpu_of(lambda: the_old_way(root), max(2, args.polls // 3))
        cached = cpu_of(lambda: list_runs(root), args.polls)
        changed = root / "scenario-0" / "20260101-000000-abcdef"

        def one_change() -> None:
            (changed / (layout.STATUS + ".tmp")).write_text(json.dumps({"state": "finished", "last_step": 451}))
            (changed / (layout.STATUS + ".tmp")).replace(changed / layout.STATUS)
            list_runs(root)

        after_change = cpu_of(one_change, args.polls)
        share = cached / POLL_S
        print(f"{args.runs} runs, one poll every {POLL_S:.0f} s, CPU seconds per poll (median):")
        print(f"  before (reread all):   {old * 1000:8.1f} ms = {old / POLL_S:6.1%} of a core")
        print(f"  cached, idle:          {cached * 1000:8.1f} ms = {share:6.1%} of a core (goal <= 5%)")
        print(f"  cached, one run changed: {after_change * 1000:6.1f} ms")
        print(f"  ratio before / cached: {old / cached:.0f}x")
        print(f"  {args.viewers} serve --watch viewers (one process each): {args.viewers * share:.2f} cores (goal <= 1)")
    finally:
        shutil.rmtree(root, ignore_errors=True)
        listing_cache.forget()


if __name__ == "__main__":
    main()
