"""``plastilab watch``: the dashboard follows a run folder that another process is writing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from plastilab.tui.app import PlastilabApp
from plastilab.tui.screens.dashboard import DashboardScreen
from tui.tui_helpers import run_async, wait_until

# Another process: a real RunFolderWriter fed steps when the test says so on stdin.
WRITER = textwrap.dedent(
    """
    import sys
    from plastilab.core.events import RunFinished, RunStarted, Scalars, TaskBoundary
    from plastilab.core.scenario_file import load_scenario
    from plastilab.rundir.writer import RunFolderWriter

    run_dir, scenario_path = sys.argv[1], sys.argv[2]
    writer = RunFolderWriter(run_dir, load_scenario(scenario_path), command=["writer"])
    writer.handle(RunStarted("adam-tiny", "adam_instability", ("adam-default", "sgd"), 100, "cpu", 0, run_dir))
    writer.handle(TaskBoundary(0, 0))
    step = 0

    def steps(n):
        global step
        for _ in range(n):
            step += 10
            for i, name in enumerate(("adam-default", "sgd")):
                writer.handle(Scalars(step, name, {"train/loss": 2.0 / step + i}, 1000.0 + step))

    steps(2)
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "more":
            writer.handle(TaskBoundary(step, 1))
            steps(3)
            print("ok", flush=True)
        elif line.strip() == "end":
            writer.handle(RunFinished(step))
            print("ok", flush=True)
            break
    """
)


@run_async
async def test_watch_follows_lines_another_process_appends(tmp_path, test_scenarios):
    run_dir = tmp_path / "runs" / "adam-tiny" / "20250101-000000-aaaaaa"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(run_dir), str(test_scenarios / "adam-tiny.toml")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "ready"
        app = PlastilabApp(watch_dir=run_dir, runs_root=tmp_path / "runs")
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
            screen = app.screen
            state = screen.session.state
            await wait_until(pilot, lambda: state.step() == 20)
            assert state.state == "running" and state.live
            assert not screen.check_action("stop", ()) and not screen.check_action("pause", ())  # not ours to stop

            writer.stdin.write("more\n")
            writer.stdin.flush()
            assert writer.stdout.readline().strip() == "ok"
            await wait_until(pilot, lambda: state.step() == 50)
            assert state.boundaries == [20]
            assert state.latest["sgd"]["train/loss"] == 2.0 / 50 + 1
            await wait_until(pilot, lambda: screen._drawn_version == state.version)
            assert "50 / 100" in screen.query_one("#status").plain

            writer.stdin.write("end\n")
            writer.stdin.flush()
            assert writer.stdout.readline().strip() == "ok"
            await wait_until(pilot, lambda: state.state == "finished")
            await pilot.press("q")
    finally:
        writer.kill()
        writer.wait()
