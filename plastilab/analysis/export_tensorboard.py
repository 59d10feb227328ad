"""TensorBoard export with torch's own writer: one TensorBoard run per series.

Per run: every scalar under its slash tag (so TensorBoard groups ``train/``, ``units/``,
``probe/`` as the lab does), each Hessian density as a histogram (the histogram and distribution
views show how the spectrum moves), each gradient-covariance matrix as an image, each probe
learning curve as scalars under ``<tag>/at_step_<step>`` (and the spread across the probe's targets
under ``probe/target_curves/at_step_<step>/min`` and ``/max``), the resolved scenario as text, and
hparams (the scenario's settings, or a study's axes) with the headline tags as metrics.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from plastilab.analysis.errors import require
from plastilab.analysis.runs import Run, load_run, parse_series

TARGET_CURVES = "probe/target_curves"
from plastilab.analysis.studies import Study
from plastilab.core.events import Curve, Histogram, Matrix
from plastilab.rundir import layout, safe_files

HEADLINE_TAGS = ("task/final_loss", "task/final_accuracy", "probe/plasticity_loss", "train/loss")
IMAGE_MIN_SIDE = 128  # small matrices are enlarged, pixel for pixel, so a cell is visible


def export_run_tensorboard(run: Run, out: Path, axes: dict[str, Any] | None = None) -> list[Path]:
    """Write ``out/<series>/events...`` for every series of ``run``; returns the run folders.

    ``axes`` (a study's trial) become the hparams; without it the resolved scenario's settings do.
    """
    require("tensorboard", "tensorboard", "export --to tensorboard")
    from torch.utils.tensorboard import SummaryWriter  # deferred: torch, only for --to tensorboard

    scenario_text = _scenario_text(run)
    arrays = run.arrays()
    series_names = run.series
    written = []
    for series in series_names:
        log_dir = out if len(series_names) == 1 and axes is not None else out / _series_dir(series)
        writer = SummaryWriter(log_dir=str(log_dir))
        try:
            rows = run.scalars[run.scalars["series"] == series]
            for step, tag, value, wall_time in zip(rows["step"], rows["tag"], rows["value"], rows["wall_time"]):
                writer.add_scalar(tag, value, int(step), walltime=_walltime(wall_time))
            for event in arrays:
                if event.series == series:
                    _write_array(writer, event)
            writer.add_text("scenario", _as_markdown_code(scenario_text), 0)
            _write_hparams(writer, _hparams(run, series, axes), _metrics(rows))
        finally:
            writer.close()
        written.append(log_dir)
    return written


def export_study_tensorboard(study: Study, out: Path) -> list[Path]:
    """One TensorBoard run per trial (``out/<trial>``, or ``out/<trial>/<series>``), axes as hparams."""
    written = []
    for _, trial in study.trials.iterrows():
        run_dir = trial["run_dir"]
        if not isinstance(run_dir, str) or not layout.is_run_dir(Path(run_dir)):
            continue
        axes = {axis: trial[axis] for axis in study.axes}
        written += export_run_tensorboard(load_run(run_dir), out / layout.safe_name(str(trial["trial"])), axes)
    return written


def histogram_raw_args(counts: np.ndarray, edges: np.ndarray) -> dict[str, Any]:
    """A density over bins as ``add_histogram_raw``'s arguments (bucket i ends at edges[i + 1])."""
    counts = np.clip(np.asarray(counts, dtype=np.float64), 0.0, None)
    edges = np.asarray(edges, dtype=np.float64)
    centres = (edges[:-1] + edges[1:]) / 2
    return {
        "min": float(edges[0]),
        "max": float(edges[-1]),
        "num": float(counts.sum()),
        "sum": float((counts * centres).sum()),
        "sum_squares": float((counts * centres**2).sum()),
        "bucket_limits": edges[1:].tolist(),
        "bucket_counts": counts.tolist(),
    }


def matrix_image(values: np.ndarray) -> np.ndarray:
    """A matrix as an RGB image (H, W, 3; uint8): blue below zero, white at zero, red above."""
    values = np.nan_to_num(np.asarray(values, dtype=np.float64))
    scale = float(np.abs(values).max()) or 1.0
    v = np.clip(values / scale, -1.0, 1.0)[..., None]
    white, red, blue = np.ones(3), np.array([0.70, 0.09, 0.17]), np.array([0.13, 0.40, 0.67])
    rgb = np.where(v >= 0, white + v * (red - white), white - v * (blue - white))
    repeat = max(1, math.ceil(IMAGE_MIN_SIDE / max(values.shape)))
    rgb = rgb.repeat(repeat, axis=0).repeat(repeat, axis=1)
    return (rgb * 255).round().astype(np.uint8)


def _write_array(writer: Any, event: Histogram | Matrix | Curve) -> None:
    if isinstance(event, Histogram):
        writer.add_histogram_raw(event.tag, global_step=event.step, **histogram_raw_args(event.counts, event.edges))
    elif isinstance(event, Matrix) and event.tag == TARGET_CURVES:
        # One row a probe target: its spread (lowest and highest loss at each probe step) as two
        # curves beside probe/curve's mean, not as an image of K x steps.
        values = np.asarray(event.values, dtype=np.float64)
        for name, bound in (("min", values.min(axis=0)), ("max", values.max(axis=0))):
            for x, y in enumerate(bound, start=1):
                writer.add_scalar(f"{event.tag}/at_step_{event.step}/{name}", float(y), x)
    elif isinstance(event, Matrix):
        writer.add_image(event.tag, matrix_image(event.values), event.step, dataformats="HWC")
    else:
        tag = f"{event.tag}/at_step_{event.step}"
        for x, y in zip(np.asarray(event.x), np.asarray(event.y)):
            writer.add_scalar(tag, float(y), int(round(float(x))))


def _write_hparams(writer: Any, hparams: dict[str, Any], metrics: dict[str, float]) -> None:
    # Written into the series' own run (not add_hparams' extra sub-run), so the HParams
    # dashboard shows each run's own scalars as its metrics.
    from torch.utils.tensorboard.summary import hparams as hparams_summaries

    for summary in hparams_summaries(hparams, metrics):
        writer.file_writer.add_summary(summary)


def _hparams(run: Run, series: str, axes: dict[str, Any] | None) -> dict[str, Any]:
    variant, seed = parse_series(series)
    if axes is not None:
        settings = dict(axes)
    else:
        settings = {k: v for k, v in _flatten(run.scenario).items() if not k.startswith("variants.") and k != "description"}
        variant_table = run.scenario.get("variants", {}).get(variant, {})
        settings.update({f"variant.{k}": v for k, v in _flatten(variant_table).items()})
    settings["variant"] = variant
    if seed is not None:
        settings["seed"] = seed
    return {k: _hparam_value(v) for k, v in settings.items() if _hparam_value(v) is not None}


def _metrics(rows: Any) -> dict[str, float]:
    tags = list(dict.fromkeys(rows["tag"]))
    chosen = [t for t in HEADLINE_TAGS if t in tags] or [t for t in tags if t != "task/index"][:4]
    last = rows.groupby("tag")["value"].last()
    return {t: float(last[t]) for t in chosen}


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _hparam_value(value: Any) -> int | float | str | bool | None:
    """TensorBoard takes numbers, strings and booleans; a list (layer widths) becomes its text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value))
    return str(value)


def _series_dir(series: str) -> Path:
    """``adam-default/s3`` -> ``adam-default/s3``: TensorBoard names nested runs by their path."""
    return Path(*(layout.safe_name(part) for part in series.split("/")))


def _scenario_text(run: Run) -> str:
    # Not through a link (a symlinked scenario.toml would embed a file from elsewhere, e.g. a
    # system file, in every events file), never blocking on a FIFO, undecodable bytes replaced.
    return safe_files.read_text(run.path / layout.SCENARIO, 1 << 20) or ""


def _as_markdown_code(text: str) -> str:
    # TensorBoard's text plugin renders markdown; indented lines show as code, unwrapped.
    return "\n".join("    " + line for line in text.splitlines())


def _walltime(value: float) -> float | None:
    return None if math.isnan(value) else float(value)
