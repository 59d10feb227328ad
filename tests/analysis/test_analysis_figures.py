"""plastilab figures: valid PNG / SVG / PDF files for a run and a study, in one consistent style."""

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from analysis_folders import write_run, write_study
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex
from typer.testing import CliRunner

import plastilab
from plastilab.analysis.figure_style import COLUMN_WIDTH_IN, OKABE_ITO, styled
from plastilab.analysis.figures import draw_figures
from plastilab.analysis.run_figures import RUN_FIGURES, final_loss_by_task
from plastilab.cli import app

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_valid(path):
    data = path.read_bytes()
    if path.suffix == ".png":
        assert data.startswith(PNG_MAGIC)
        height, width, _ = matplotlib.image.imread(path).shape
        assert width >= 600 and height >= 300  # 300 dpi at a column's width
    elif path.suffix == ".svg":
        assert ET.fromstring(data).tag.endswith("svg")
    else:
        assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return write_run(tmp_path_factory.mktemp("run") / "run")


def test_every_run_figure_is_written_as_png_and_svg(run_dir, tmp_path):
    written = draw_figures(run_dir, tmp_path, ["png", "svg"])
    stems = [stem for stem in RUN_FIGURES if stem != "episode_returns"]  # an RL scenario's figure
    assert sorted(p.name for p in written) == sorted(f"{stem}.{fmt}" for stem in stems for fmt in ("png", "svg"))
    for path in written:
        assert_valid(path)


def test_figure_one_draws_each_variant_in_the_palette_with_a_seed_band(run_dir):
    with styled():
        fig = final_loss_by_task(plastilab.load_run(run_dir))
    ax = fig.axes[0]
    assert fig.get_size_inches()[0] == pytest.approx(COLUMN_WIDTH_IN)
    lines = {line.get_label(): to_hex(line.get_color()).upper() for line in ax.get_lines() if not line.get_label().startswith("_")}
    assert lines == {"adam-default": OKABE_ITO[0], "sgd": OKABE_ITO[1]}
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 2  # a band for each variant's two seeds
    assert "mean of 2 seeds" in ax.get_title()


def test_a_run_without_instruments_gets_only_the_figures_it_has_numbers_for(tmp_path):
    path = write_run(tmp_path / "run", seeds=(0,))
    (path / "arrays.jsonl").write_text("")
    names = {p.stem for p in draw_figures(path, tmp_path / "figures")}
    assert names == {"figure1_final_loss_by_task", "learning_curves", "plasticity_loss", "variant_comparison"}


def test_a_study_gets_the_falsification_grid_and_the_scaling_curve(tmp_path):
    study = write_study(tmp_path / "study")
    written = draw_figures(study, formats=["png", "svg"])
    assert sorted(p.name for p in written) == ["falsification_scatter.png", "falsification_scatter.svg", "scaling_curve.png", "scaling_curve.svg"]
    assert all(p.parent == study / "figures" for p in written)
    for path in written:
        assert_valid(path)
    svg = (study / "figures" / "falsification_scatter.svg").read_text()
    # the study's statistic, with Pearson r over the checkpoints after step 0 (the probe's own
    # baseline, left out as the study's correlations leave it out) and its Fisher-z interval:
    # the folder's correlations.csv has no interval to show
    assert "weights/norm" in svg and "r = +0.69 [-0.81, +0.99], n = 4" in svg and "Fisher-z" in svg


def test_cli_figures_as_pdf_and_its_errors(run_dir, tmp_path):
    runner = CliRunner()
    bare = write_run(tmp_path / "bare", seeds=(0,))
    (bare / "arrays.jsonl").write_text("")  # four figures, not eight: PDF is the slowest to write
    result = runner.invoke(app, ["figures", str(bare), "--out", str(tmp_path / "pdf"), "--format", "pdf", "--each-seed"])
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) == 4
    for path in (tmp_path / "pdf").iterdir():
        assert_valid(path)
    for args, message in (
        (["figures", str(run_dir), "--format", "png,gif"], "--format png,gif: allowed: a comma-separated list of png, svg, pdf"),
        (["figures", str(tmp_path / "missing")], "no such folder"),
    ):
        result = runner.invoke(app, args)
        lines = result.output.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("plastilab: ") and message in lines[0]
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "metrics.jsonl").write_text("")
    result = runner.invoke(app, ["figures", str(empty)])
    assert result.exit_code == 2 and "nothing to draw yet" in result.output


def test_the_readme_shows_committed_figures():
    repo = Path(__file__).resolve().parents[2]
    shown = re.findall(r"!\[[^\]]*\]\((docs/figures/[^)]+\.png)\)", (repo / "README.md").read_text(encoding="utf-8"))
    assert len(shown) >= 2
    for name in shown:
        assert_valid(repo / name)


def test_probe_curves_carry_the_spread_across_targets_at_each_checkpoint(run_dir):
    from plastilab.analysis.run_figures import probe_curves

    with styled():
        fig = probe_curves(plastilab.load_run(run_dir))
    ax = fig.axes[0]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 3  # one per checkpoint (steps 0, 20, 40)
    for band, step in zip(bands, (0, 20, 40)):
        mean = np.array([1.0, 0.5, 0.3, 0.2, 0.1]) * (1 + step / 40)
        ys = band.get_paths()[0].vertices[:, 1]
        assert ys.min() == pytest.approx(0.8 * mean.min()) and ys.max() == pytest.approx(1.2 * mean.max())
