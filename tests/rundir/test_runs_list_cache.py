"""The runs list behind watch, serve --watch and the lab's g: cached per folder, so an idle poll
over many runs costs a stat per folder (bench/bench_watch_idle.py measures it), yet never stale:
a run that changed, a new run, and a running run whose writer died all show at the next poll."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from plastilab.rundir import layout, listing_cache
from plastilab.studies.listing import list_runs, read_run


def _run(root, name, state="finished", pid=None, age_s=60):
    run = root / "scn" / name
    (run / "arrays" / "a").mkdir(parents=True)
    status = {"state": state, "last_step": 10}
    if pid is not None:
        status["pid"] = pid
    (run / layout.STATUS).write_text(json.dumps(status))
    (run / layout.META).write_text(json.dumps({"scenario": "scn", "kind": "adam_instability"}))
    old = time.time() - age_s  # settled: as the folders of past runs are
    for path in (run, run.parent, root):
        os.utime(path, (old, old))
    return run


def test_the_cached_list_is_the_list_read_afresh_and_follows_every_change(tmp_path):
    listing_cache.forget()
    runs = [_run(tmp_path, f"20260101-00000{i}-abcdef") for i in range(5)]
    first = list_runs(tmp_path)
    assert [r.path for r in first] == sorted(runs, key=lambda p: p.name, reverse=True)
    assert [(r.state, r.last_step) for r in first] == [(read_run(p).state, read_run(p).last_step) for p in sorted(runs, reverse=True)]
    # A status rewritten as the writer does (a rename: the folder's time moves) shows at once.
    changed = runs[2]
    (changed / (layout.STATUS + ".tmp")).write_text(json.dumps({"state": "failed", "last_step": 7, "error": "x"}))
    (changed / (layout.STATUS + ".tmp")).replace(changed / layout.STATUS)
    line = {r.path: r for r in list_runs(tmp_path)}[changed]
    assert (line.state, line.last_step) == ("failed", 7)
    # A new run appears.
    new = _run(tmp_path, "20260102-000000-abcdef")
    assert new in {r.path for r in list_runs(tmp_path)}


def test_a_cached_running_line_turns_abandoned_when_its_writer_dies(tmp_path):
    listing_cache.forget()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        run = _run(tmp_path, "20260101-000000-abcdef", state="running", pid=child.pid)
        assert list_runs(tmp_path)[0].state == "running"
        assert list_runs(tmp_path)[0].state == "running"  # from the cache now
    finally:
        child.kill()
        child.wait()
    assert list_runs(tmp_path)[0].state == "abandoned"  # no file changed; the writer is gone
    assert run.is_dir()


def test_an_idle_poll_reads_no_run_file(tmp_path, monkeypatch):
    listing_cache.forget()
    for i in range(20):
        _run(tmp_path, f"20260101-0000{i:02d}-abcdef")
    list_runs(tmp_path)
    from plastilab.studies import listing

    def must_not_read(path):
        raise AssertionError(f"{path} read again though nothing changed")

    monkeypatch.setattr(listing, "read_run", must_not_read)
    assert len(list_runs(tmp_path)) == 20
