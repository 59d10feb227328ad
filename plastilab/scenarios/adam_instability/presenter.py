"""What the faces show of an Adam-instability run: each variant's loss, its dead units, and the
instruments' headline numbers when they were on."""

from plastilab.core.presentation import DEAD_UNITS, PLASTICITY_LOSS, TOP_EIGENVALUE, Presentation

PRESENTATION = Presentation(
    headlines=(PLASTICITY_LOSS, TOP_EIGENVALUE, DEAD_UNITS),
    main_curve="train/loss",
    dashboard_metric="train/loss",
    progress_tags=("train/loss", "train/full_loss"),
)
