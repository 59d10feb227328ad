"""Draws docs/figures/lab.svg, the README's picture: the lab's dashboard at 100x30 on the demo's
recorded run (docs/figures/runs/adam-quick.tar.xz, five seeds), as `plastilab watch RUN_DIR` shows it.

    .venv/bin/python docs/lab_screenshot.py [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import tarfile
import tempfile
import time
from pathlib import Path

from plastilab.tui.app import PlastilabApp
from plastilab.tui.screens.dashboard import DashboardScreen

REPO = Path(__file__).resolve().parents[1]
RECORDED = REPO / "docs" / "figures" / "runs" / "adam-quick.tar.xz"
OUT = REPO / "docs" / "figures" / "lab.svg"
SIZE = (100, 30)
WAIT_S = 120  # reading five seeds' metrics.jsonl on a busy machine takes a while: wait on the state


async def capture(run_dir: Path, out: Path) -> None:
    app = PlastilabApp(watch_dir=run_dir, runs_root=run_dir.parent.parent, theme="textual-dark")
    async with app.run_test(size=SIZE) as pilot:
        deadline = time.monotonic() + WAIT_S

        def drawn() -> bool:
            screen = app.screen
            return isinstance(screen, DashboardScreen) and screen.session.state.ended and screen._drawn_version == screen.session.state.version

        while not drawn():
            if time.monotonic() > deadline:
                raise SystemExit(f"the dashboard did not finish reading {run_dir} in {WAIT_S} s")
            await pilot.pause(0.2)
        await pilot.pause(0.5)
        app.save_screenshot(filename=out.name, path=str(out.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        with tarfile.open(RECORDED, "r:xz") as tar:
            tar.extractall(folder, filter="data")
        # The header names the run by its last two folders: runs/<scenario>/<name>, as a real one.
        run_dir = Path(folder) / "runs" / "adam-quick" / "recorded-demo"
        run_dir.parent.mkdir(parents=True)
        (Path(folder) / "adam-quick").rename(run_dir)
        asyncio.run(capture(run_dir, args.out.resolve()))
    print(args.out)


if __name__ == "__main__":
    main()
