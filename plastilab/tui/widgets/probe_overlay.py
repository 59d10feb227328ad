"""The probe's learning curves at successive checkpoints, overlaid (paper §3.3).

A network that is still plastic fits the probe's fresh targets fast; later checkpoints fit them
slower, and the targets' losses spread apart. One series is drawn at a time: its mean curve at
each of a few checkpoints (an even pick, first and latest always in), coloured from early (sky
blue) to late (vermillion), with the lowest and highest target's curve faint in the same colour
(the spread across targets; from ``probe/target_curves`` when the run logged it). The key line
gives each checkpoint's final loss as mean ± s.d. across targets. A pane too short for a chart
(80×24) gets one row a checkpoint instead: its curve as a sparkline, its final loss and spread.
``probe_overlay`` computes the numbers (tested by value); the pane draws them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.text import Text

from plastilab.core.events import Curve, Matrix
from plastilab.tui.widgets.chart import short_number
from plastilab.tui.widgets.density_strip import even_pick

# Early to late: sky blue, blue, reddish purple, vermillion (the series palette's, so readable
# on light and dark backgrounds alike).
RAMP = ((86, 180, 233), (0, 114, 178), (204, 121, 167), (213, 94, 0))
MAX_CURVES = 5  # more lines than this on a pane a few rows high are one blur


@dataclass(frozen=True)
class CheckpointCurve:
    step: int
    x: np.ndarray  # probe steps
    mean: np.ndarray  # the mean over targets (probe/curve)
    low: np.ndarray | None  # the lowest target's loss at each probe step (None: not logged)
    high: np.ndarray | None
    final_sd: float | None  # s.d. across targets of the last probe step's loss

    @property
    def final(self) -> float:
        return float(self.mean[-1])


def probe_overlay(curves: list[Curve], by_target: list[Matrix], count: int = MAX_CURVES) -> list[CheckpointCurve]:
    """Up to ``count`` checkpoints of one series (``curves`` in step order), with their spread."""
    targets = {m.step: np.asarray(m.values, dtype=float) for m in by_target}
    usable = [c for c in curves if len(c.y) and len(c.x) == len(c.y)]
    out = []
    for i in even_pick(len(usable), count):
        curve = usable[i]
        x, mean = np.asarray(curve.x, dtype=float), np.asarray(curve.y, dtype=float)
        values = targets.get(curve.step)
        if values is not None and values.ndim == 2 and values.shape[1] == len(mean) and values.shape[0] > 0:
            low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
            sd = float(np.nanstd(values[:, -1])) if values.shape[0] > 1 else 0.0
        else:
            low = high = None
            sd = None
        out.append(CheckpointCurve(curve.step, x, mean, low, high, sd))
    return out


def ramp_rgb(index: int, count: int) -> tuple[int, int, int]:
    """The colour of the ``index``-th of ``count`` checkpoints, early to late."""
    if count <= 1:
        return RAMP[-1]
    where = index / (count - 1) * (len(RAMP) - 1)
    left = min(int(where), len(RAMP) - 2)
    t = where - left
    a, b = np.array(RAMP[left], dtype=float), np.array(RAMP[left + 1], dtype=float)
    r, g, bl = np.round(a + (b - a) * t).astype(int)
    return int(r), int(g), int(bl)


SPARKS = "▁▂▃▄▅▆▇█"


def faded(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """Half way to grey: the spread's lines, behind the mean's."""
    return tuple(int(round((c + 140) / 2)) for c in rgb)  # type: ignore[return-value]


def final_text(checkpoint: CheckpointCurve) -> str:
    """'0.338 ±0.05 (0.21–0.52)': the last probe step's mean, s.d. and range over targets."""
    text = f"{checkpoint.final:.3g}"
    if checkpoint.final_sd is not None:
        text += f" ±{checkpoint.final_sd:.2g}"
    if checkpoint.low is not None:
        text += f" ({checkpoint.low[-1]:.2g}–{checkpoint.high[-1]:.2g})"
    return text


def sparkline_lines(overlay: list[CheckpointCurve], width: int, log_y: bool = False) -> list[Text]:
    """One row a checkpoint for a short pane: step, the mean curve as a sparkline on one scale
    for all rows (so a slower fit reads as a taller, later-falling line), and the final loss
    with its spread over targets."""
    labels = [short_number(c.step) for c in overlay]
    finals = [final_text(c) for c in overlay]
    label_width, final_width = max(map(len, labels)), max(map(len, finals))
    columns = max(4, width - label_width - final_width - 4)

    def scaled(y: np.ndarray) -> np.ndarray:
        return np.log10(np.maximum(y, 1e-12)) if log_y else y

    values = [scaled(np.asarray(c.mean, dtype=float)) for c in overlay]
    finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.empty(0)
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    lines = []
    for i, (label, final, y) in enumerate(zip(labels, finals, values)):
        picks = np.linspace(0, len(y) - 1, min(columns, len(y))).round().astype(int)
        cells = "".join(
            " " if not np.isfinite(v) else SPARKS[min(len(SPARKS) - 1, int((v - low) / (high - low or 1.0) * len(SPARKS)))]
            for v in y[picks]
        )
        r, g, b = ramp_rgb(i, len(overlay))
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{label:>{label_width}} │", style="dim")
        line.append(cells.ljust(columns), style=f"rgb({r},{g},{b})")
        line.append("│ ", style="dim")
        line.append(final, style=f"bold rgb({r},{g},{b})")
        lines.append(line)
    return lines
