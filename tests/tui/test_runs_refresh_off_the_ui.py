"""g re-reads the runs folder in a worker: the key returns at once, the lab keeps answering keys
while the read is on the disk, and the table updates when it is done."""

from __future__ import annotations

import threading

from plastilab.studies import listing
from plastilab.tui.app import PlastilabApp
from plastilab.tui.screens import runs as runs_screen
from plastilab.tui.screens.runs import RunsScreen
from tui.tui_helpers import run_async, wait_until


def reading(app) -> bool:
    return any(w.group == "runs-refresh" and not w.is_finished for w in app.workers)


@run_async
async def test_g_reads_the_runs_in_a_worker_while_keys_go_on(test_scenarios, recorded_runs_root, monkeypatch):
    app = PlastilabApp(scenarios_dirs=[test_scenarios], runs_root=recorded_runs_root)
    release = threading.Event()
    reads: list[str] = []  # the thread of each read g asked for

    def held_listing(root):
        reads.append(threading.current_thread().name)
        if threading.current_thread() is not threading.main_thread():  # held on the UI thread, the test could not go on
            release.wait(300)  # a slow disk: the read ends when the test says so
        return listing.list_runs(root)

    async with app.run_test(size=(80, 24)) as pilot:
        try:
            await pilot.press("o")
            await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen))
            table = app.screen.query_one("#runs-table")
            assert table.row_count == 2 and table.cursor_row == 0
            monkeypatch.setattr(runs_screen, "list_runs", held_listing)
            await pilot.press("g")
            await wait_until(pilot, lambda: len(reads) == 1)  # the read has begun, and blocks ...
            assert reads[0] != threading.main_thread().name
            await pilot.press("down")  # ... yet the lab still answers a key
            await wait_until(pilot, lambda: table.cursor_row == 1)
            assert not release.is_set() and reading(app)  # the read is still held
        finally:
            release.set()
        await wait_until(pilot, lambda: not reading(app))
        assert table.row_count == 2 and table.cursor_row == 1  # reloaded, the cursor kept on its run
        await pilot.press("q")
