"""Every scenario kind's report, rebuilt from a small run folder made by running its smoke run:
the table shows what the kind's presenter declares, the chart its main curve, and extra tables
(the interventions ranking) come out exactly once in what `plastilab run` prints."""

from __future__ import annotations

import io
import json
import shutil

import pytest
from rich.console import Console

from plastilab.core.presentation import presentation_for
from plastilab.core.registry import SCENARIO_KINDS
from plastilab.core.smoke import smoke_scenario
from plastilab.headless.progress import PlainProgress
from plastilab.headless.report import print_report
from plastilab.rundir.reader import RunFolder
from plastilab.runtime.launcher import launch

# Every kind the registry knows, run through its own smoke run (a few seconds, an instrument due).
KINDS = sorted(SCENARIO_KINDS)


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """kind -> (run folder, what the progress display printed), each run through the launcher."""
    root = tmp_path_factory.mktemp("runs")
    runs = {}
    for kind in KINDS:
        progress_text = io.StringIO()
        launched = launch(smoke_scenario(SCENARIO_KINDS[kind], ["device=cpu"]), root, consumers=[PlainProgress(progress_text, period=0.0)])
        assert launched.state == "finished", getattr(launched.end, "error", launched.end)
        runs[kind] = (launched.run_dir, progress_text.getvalue())
    return runs


def squeezed(text: str) -> str:
    return "".join(text.split())


def report_text(run_dir) -> str:
    console = Console(file=io.StringIO(), width=120, force_terminal=False)
    print_report(run_dir, console)
    return console.file.getvalue()


@pytest.mark.parametrize("kind", KINDS)
def test_the_report_shows_what_the_kind_declares(kind, tiny_runs):
    run_dir, progress_text = tiny_runs[kind]
    text = report_text(run_dir)
    presentation = presentation_for(kind)
    run = RunFolder.open(run_dir)
    assert f"{run.meta['scenario']}:" in text and "(finished)" in text
    series = run.summary_or_rebuilt()["series"]
    for name in series:
        assert name in text
    logged = {tag for s in series.values() for tag in s["final"]}
    shown = [h for h in presentation.headlines if h.tag in logged]
    assert shown, f"{kind}: the tiny run logs none of its headline tags"
    for headline in shown:
        assert headline.heading in text
    assert f"{presentation.main_curve} by step" in text  # the chart of the kind's main curve
    for table in presentation.summary_tables(run.summary or {}, run.scenario):
        # once in the report, and nowhere in the progress lines (a title may wrap: compare without spaces)
        assert squeezed(text + progress_text).count(squeezed(table.title)) == 1
        for row in table.rows:
            assert row[1].text in text


def test_the_interventions_report_has_its_ranking(tiny_runs):
    run_dir, progress_text = tiny_runs["interventions"]
    assert "ranking" not in progress_text  # the runner logged it too, so `plastilab run` printed it twice
    run = RunFolder.open(run_dir)
    tables = presentation_for("interventions").summary_tables(run.summary or {}, run.scenario)
    assert len(tables) == 1 and tables[0].title.startswith("ranking: mean final loss over the last 1 iterations")
    assert {row[1].text for row in tables[0].rows} == {"mlp+none", "mlp+reset_last_layer"}
    assert presentation_for("adam_instability").summary_tables(run.summary or {}, run.scenario) == []


def test_a_kind_this_version_does_not_know_still_reports(tiny_runs, tmp_path):
    run_dir, _ = tiny_runs["adam_instability"]
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    meta = json.loads((copy / "meta.json").read_text())
    (copy / "meta.json").write_text(json.dumps({**meta, "kind": "from_the_future"}))
    text = report_text(copy)
    assert "train/loss by step" in text and "dead" in text


def table_cells(text: str, first_heading: str) -> tuple[list[str], dict[str, list[str]]]:
    """The headings and the rows (by their first cell) of the drawn table whose first heading is
    ``first_heading``; cells as printed, between the box's vertical bars."""
    headings: list[str] = []
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "│" not in line and "┃" not in line:
            if headings and line.strip().startswith("└"):
                break
            continue
        cells = [c.strip() for c in line.replace("┃", "│").strip().strip("│").split("│")]
        if not headings:
            if cells[0] == first_heading:
                headings = cells
        elif cells[0]:
            rows[cells[0]] = cells
    return headings, rows


@pytest.mark.parametrize("kind", KINDS)
def test_the_report_prints_the_numbers_of_the_run_folders_summary(kind, tiny_runs):
    run_dir, _ = tiny_runs[kind]
    summary = json.loads((run_dir / "summary.json").read_text())  # the file, not the reader
    headings, rows = table_cells(report_text(run_dir), "series")
    assert set(rows) == set(summary["series"])
    formats = {h.heading: h.format for h in presentation_for(kind).headlines}
    checked = 0
    for name, data in summary["series"].items():
        for heading, cell in zip(headings[1:], rows[name][1:]):
            if heading.startswith("task "):
                value = data["per_task"]["task/final_loss"][int(heading.split()[1]) - 1]
                expected = "nan" if value is None else f"{value:.2f}"
            else:
                tag = next(h.tag for h in presentation_for(kind).headlines if h.heading == heading)
                value = data["final"].get(tag)
                expected = "-" if value is None else formats[heading].format(value)
            assert cell == expected, f"{kind} {name} {heading}"
            checked += 1
    assert checked >= len(summary["series"])


def test_the_printed_ranking_is_the_mean_final_loss_worked_out_from_the_summary(tiny_runs):
    run_dir, _ = tiny_runs["interventions"]
    summary = json.loads((run_dir / "summary.json").read_text())
    # window 1: a combination's final loss is its seeds' mean loss on the last iteration
    by_combination: dict[str, list[float]] = {}
    for name, data in summary["series"].items():
        by_combination.setdefault(name.rsplit("/s", 1)[0], []).append(data["per_task"]["task/final_loss"][-1])
    expected = sorted((sum(v) / len(v), name) for name, v in by_combination.items())
    _, rows = table_cells(report_text(run_dir), "rank")
    printed = sorted(rows.values(), key=lambda cells: int(cells[0]))
    assert [(cells[0], cells[1]) for cells in printed] == [(str(i + 1), name) for i, (_, name) in enumerate(expected)]
    for cells, (mean, _) in zip(printed, expected):
        assert float(cells[2]) == pytest.approx(mean, abs=5e-4)
