"""The paper's figures checked on their data and their drawn artists, not on pixels: the Hessian
density (a probability density on one fixed grid, never a line across an empty stretch), the
gradient covariance (like with like, or a note), every title's seed or agent count, and the
``make figures`` command redrawing docs/figures from the recorded folders without training."""

import re
import subprocess
import sys
import tarfile
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from analysis_folders import SCENARIOS, write_run, write_study

import plastilab
from plastilab.analysis.covariance_figures import block_edges, covariance_heatmaps
from plastilab.analysis.figure_style import styled
from plastilab.analysis.figures import build_figures
from plastilab.analysis.spectrum_figures import POINTS_PER_WIDTH, density_curves, hessian_density
from plastilab.core.events import Histogram, Matrix, RunFinished, RunStarted, Scalars
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir.writer import RunFolderWriter

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "figures"
COUNT = re.compile(r"\b\d+ (seed|seeds|agent|agents)\b")


def write_arrays_run(path: Path, events_of, variants=("adam-default", "sgd"), seeds=(0, 1)) -> Path:
    """A finished run folder whose only arrays are ``events_of(step, series, variant, seed)``."""
    scenario = load_scenario(SCENARIOS / "adam-tiny.toml", [])
    names = {(v, s): f"{v}/s{s}" if len(seeds) > 1 else v for v in variants for s in seeds}
    writer = RunFolderWriter(path, scenario, command=["test"])
    writer.handle(RunStarted("adam-tiny", "adam_instability", tuple(names.values()), 20, "cpu", seeds[0], str(path)))
    for step in (10, 20):
        for (variant, seed), series in names.items():
            writer.handle(Scalars(step, series, {"train/loss": 1.0 / step}, 1000.0 + step))
            for event in events_of(step, series, variant, seed):
                writer.handle(event)
    writer.handle(RunFinished(20))
    return path


def quadrature(step, series, variant, seed):
    """Two Lanczos chains: a bulk in [0, 1] and, late in training, one eigenvalue far out at 40."""
    rng = np.random.default_rng(seed + 7 * step)
    nodes = np.sort(rng.uniform(0.0, 1.0, size=(2, 12)), axis=1)
    weights = rng.uniform(0.5, 1.0, size=(2, 12))
    if step == 20:
        nodes[:, -1] = 40.0 + seed
        weights[:, -1] = 1e-4
    weights /= weights.sum(axis=1, keepdims=True)
    rows = ("nodes 0", "nodes 1", "weights 0", "weights 1")
    return [Matrix(step, series, "hessian/quadrature", np.concatenate([nodes, weights]), rows)]


def test_the_density_is_a_probability_density_on_one_shared_grid(tmp_path):
    run = plastilab.load_run(write_arrays_run(tmp_path / "run", quadrature))
    data = density_curves(run)
    step = data.grid[1] - data.grid[0]
    np.testing.assert_allclose(np.diff(data.grid), step)  # one fixed grid ...
    assert step == pytest.approx(data.sigma / POINTS_PER_WIDTH)
    for steps in data.curves.values():
        assert sorted(steps) == [10, 20]
        for density in steps.values():
            assert len(density) == len(data.grid)  # ... shared by every curve compared
            assert np.isfinite(density).all() and (density >= 0).all()
            assert np.trapezoid(density, data.grid) == pytest.approx(1.0, abs=1e-4)
    # the far eigenvalue (one per seed, each chain's last node) is an outlier at step 20 only
    assert data.outliers["sgd"][10].size == 0
    np.testing.assert_allclose(np.unique(data.outliers["sgd"][20]), [40.0, 41.0])


def test_no_density_line_crosses_an_empty_stretch_and_outliers_are_marked_not_joined(tmp_path):
    run = plastilab.load_run(write_arrays_run(tmp_path / "run", quadrature))
    data = density_curves(run)
    grid_step = data.grid[1] - data.grid[0]
    with styled():
        fig = hessian_density(run)
    markers = 0
    for ax in fig.axes[:2]:
        assert ax.get_yscale() == "log" and ax.get_ylim()[0] == pytest.approx(data.floor)
        for line in ax.get_lines():
            x, y = (np.asarray(a, dtype=float) for a in line.get_data())
            if line.get_linestyle() in ("None", "none", ""):
                markers += 1
                assert (x >= 39.0).all()  # the outliers, where they lie
                continue
            drawn = np.isfinite(y)
            joined = drawn[1:] & drawn[:-1]  # a segment is drawn only between two finite points
            assert (np.diff(x)[joined] <= grid_step * (1 + 1e-9)).all()
            assert (y[drawn] >= data.floor).all()
            assert not drawn[np.searchsorted(x, 20.0)]  # nothing drawn between bulk and outlier
    assert markers == 2  # step 20 of each variant
    title = fig._suptitle.get_text()
    assert f"σ = {data.sigma:.3g}" in title and "2 seeds × 2 Lanczos starts" in title and "1e-06 × the peak" in title


def test_a_run_with_only_the_binned_density_is_broadened_from_its_bins(tmp_path):
    def binned(step, series, variant, seed):
        return [Histogram(step, series, "hessian/density", np.array([0.0, 0.5, 0.3, 0.2, 0.0]), np.linspace(-1.0, 4.0, 6))]

    data = density_curves(plastilab.load_run(write_arrays_run(tmp_path / "run", binned, seeds=(0,))))
    density = data.curves["sgd"][10]
    assert np.trapezoid(density, data.grid) == pytest.approx(1.0, abs=1e-4)
    assert data.grid[np.argmax(density)] == pytest.approx(0.5, abs=2 * data.sigma)  # the heaviest bin's centre


def covariance(sizes):
    def events(step, series, variant, seed):
        n = sizes[variant]
        labels = tuple(str(i * 3 // n) for i in range(n))  # three label blocks, sorted
        same = np.equal.outer(labels, labels)
        matrix = np.where(same, 0.6, -0.1) + 0.4 * np.eye(n) + 0.01 * seed
        return [Matrix(step, series, "gradients/covariance", matrix, labels)]

    return events


def test_covariance_panels_are_alike_with_labelled_blocks_or_say_why_not(tmp_path):
    alike = plastilab.load_run(write_arrays_run(tmp_path / "alike", covariance({"adam-default": 12, "sgd": 12})))
    with styled():
        fig = covariance_heatmaps(alike)
    images = [ax.images[0].get_array().shape for ax in fig.axes if ax.images]
    assert images == [(12, 12)] * 4  # two variants × two checkpoints, one size
    title = fig._suptitle.get_text()
    assert "seed 0 of 2 seeds shown" in title and "differ" not in title
    panel = fig.axes[0]
    assert [t.get_text() for t in panel.get_xticklabels()] == ["0", "1", "2"]  # each block named
    assert [t.get_text() for t in panel.get_yticklabels()] == ["0", "1", "2"]
    # within-label 0.6 + 0.01 · seed over the two seeds: mean 0.605
    assert "within +0.60 ± 0.06" in panel.get_title() or "within +0.61 ± 0.06" in panel.get_title()
    unlike = plastilab.load_run(write_arrays_run(tmp_path / "unlike", covariance({"adam-default": 12, "sgd": 6})))
    with styled():
        title = covariance_heatmaps(unlike)._suptitle.get_text()
    assert "sizes differ" in title and "adam-default 12" in title and "sgd 6" in title


def test_block_edges_follow_runs_of_equal_labels():
    assert block_edges(("a", "a", "b", "c", "c", "c")) == [("a", 0, 2), ("b", 2, 3), ("c", 3, 6)]


def titles(fig):
    texts = [fig._suptitle.get_text()] if fig._suptitle else []
    return " ".join(texts + [ax.get_title() for ax in fig.axes])


def test_every_figure_of_a_run_and_a_study_states_its_seed_or_agent_count(tmp_path):
    sources = [write_run(tmp_path / "run"), write_run(tmp_path / "one", seeds=(0,)), write_study(tmp_path / "study")]
    sources.append(write_arrays_run(tmp_path / "arrays", lambda *a: quadrature(*a[:4]) + covariance({"adam-default": 6, "sgd": 6})(*a)))
    drawn = 0
    with styled():
        for source in sources:
            for stem, fig in build_figures(source, each_seed=True):
                assert COUNT.search(titles(fig)), f"{source.name}/{stem}: {titles(fig)!r}"
                drawn += 1
    assert drawn >= 17


def recorded_names():
    return sorted(p.name.removesuffix(".tar.xz") for p in (DOCS / "runs").glob("*.tar.xz"))


def test_make_figures_redraws_docs_figures_from_the_recorded_folders_without_training(tmp_path):
    names = recorded_names()
    assert {"adam-quick", "adam-instruments", "falsification-reduced", "scaling-reduced", "interventions-quick"} <= set(names)
    assert "docs/figures/redraw.py" in (REPO / "Makefile").read_text()
    # a folder with no scenario files and no write access to the repo: only the archives are read
    result = subprocess.run([sys.executable, str(DOCS / "redraw.py"), "--out", str(tmp_path)], capture_output=True, text=True, cwd=tmp_path, timeout=None)
    assert result.returncode == 0, result.stderr
    for name in names:
        drawn = sorted(p.name for p in (tmp_path / name).glob("*.png"))
        assert drawn and drawn == sorted(p.name for p in (DOCS / name).glob("*.png")), name  # the committed set, no stale one
        for png in drawn:
            height, width, _ = matplotlib.image.imread(tmp_path / name / png).shape
            assert width >= 900  # 300 dpi at one column's 3.4 in, or wider
    assert not list(tmp_path.glob("**/metrics.jsonl"))  # nothing unpacked or trained is left behind
    assert not (tmp_path / "runs").exists()  # a training run would have made its runs/ folder here
    study_figures = {p.name for p in (tmp_path / "falsification-reduced").glob("*.png")}
    assert {"falsification_scatter.png", "axis_comparison.png"} <= study_figures
    assert "scaling_curve.png" in {p.name for p in (tmp_path / "scaling-reduced").glob("*.png")}


def test_the_falsification_grid_shows_the_study_s_r_with_its_interval_coloured_by_its_axis(tmp_path):
    with tarfile.open(DOCS / "runs" / "falsification-reduced.tar.xz") as tar:
        tar.extractall(tmp_path, filter="data")
    study = plastilab.load_study(tmp_path / "falsification-reduced")
    correlations = study.correlations.set_index("statistic")
    from plastilab.analysis.study_figures import falsification_grid

    with styled():
        fig = falsification_grid(study)
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert len(panels) >= 6
    for ax in panels:
        tag, numbers = ax.get_title().split("\n")
        row = correlations.loc[tag]
        assert numbers == f"r = {row['pearson']:+.2f} [{row['pearson_low']:+.2f}, {row['pearson_high']:+.2f}], n = {int(row['n'])}"
    assert fig.legends[0].get_title().get_text() == "colour: env.rewards"
    assert "12 agents" in fig._suptitle.get_text() and "bootstrap" in fig._suptitle.get_text()


def test_vector_files_keep_their_text_as_text_and_embed_their_font(tmp_path):
    from plastilab.analysis.figures import draw_figures

    run = write_run(tmp_path / "run", seeds=(0,))
    (run / "arrays.jsonl").write_text("")
    svg, pdf = draw_figures(run, tmp_path / "out", ["svg", "pdf"])[:2]
    text = svg.read_text()
    assert "<text" in text and "final loss of each task" in text  # searchable, editable text
    data = pdf.read_bytes()
    assert b"/FontFile2" in data and b"DejaVuSans" in data  # TrueType embedded, not Type 3 glyphs
