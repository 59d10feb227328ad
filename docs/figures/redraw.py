"""Redraw every figure of docs/figures from the run and study folders recorded in
docs/figures/runs/ (no training): ``make figures``, or ``python docs/figures/redraw.py [--out DIR]``.

Each ``runs/<name>.tar.xz`` holds one run or study folder exactly as plastilab wrote it (made by
``docs/figures/record.sh``); it is unpacked into a temporary folder and drawn as PNG into
``<out>/<name>/`` with ``plastilab figures``' own code, so the committed figures never drift
from what the command draws.
"""

from __future__ import annotations

import argparse
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
RECORDED = HERE / "runs"
# What a recorded folder changed from its scenario file, written under each of its figures' titles.
NOTES = {
    "falsification-reduced": "Shortened for the docs: falsification-quick.toml with 4,000 steps (not 15,000) and 2 seeds (not 3)",
    "scaling-reduced": "Shortened for the docs: scaling-quick.toml with 4 tasks (not 8)",
}


def recorded() -> list[Path]:
    return sorted(RECORDED.glob("*.tar.xz"))


def unpack(archive: Path, into: Path) -> Path:
    """The archive's one top-level folder, unpacked under ``into``."""
    with tarfile.open(archive, "r:xz") as tar:
        tar.extractall(into, filter="data")  # plain files only: no links, nothing outside ``into``
    (folder,) = [p for p in into.iterdir() if p.is_dir()]
    return folder


def redraw(out: Path, formats: list[str]) -> list[Path]:
    from plastilab.analysis.figure_style import save, styled
    from plastilab.analysis.figures import build_figures

    written: list[Path] = []
    for archive in recorded():
        name = archive.name.removesuffix(".tar.xz")
        target = out / name
        for old in target.glob("*.png") if target.is_dir() else []:
            old.unlink()  # a figure the code no longer draws must not linger
        with tempfile.TemporaryDirectory() as tmp, styled():
            for stem, fig in build_figures(unpack(archive, Path(tmp))):
                if name in NOTES:
                    fig.suptitle(f"{fig.get_suptitle()}\n{NOTES[name]}".strip(), fontsize=8)
                written += save(fig, target, stem, formats)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder for the figures (default: docs/figures)")
    parser.add_argument("--format", default="png", help="comma-separated: png, svg, pdf")
    args = parser.parse_args(argv)
    if not recorded():
        print(f"redraw: no recorded runs in {RECORDED}; record them with docs/figures/record.sh", file=sys.stderr)
        return 2
    for path in redraw(args.out, args.format.split(",")):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
