"""What the faces show of a block-MDP run: the return and the TD loss first, then what the
instruments say about plasticity."""

from plastilab.core.presentation import DEAD_UNITS, PLASTICITY_LOSS, TOP_EIGENVALUE, Headline, Presentation

PRESENTATION = Presentation(
    headlines=(
        Headline("episode/return", "return", "{:.1f}"),
        Headline("td/loss", "TD loss", "{:.4f}"),
        PLASTICITY_LOSS,
        TOP_EIGENVALUE,
        DEAD_UNITS,
    ),
    main_curve="td/loss",
    dashboard_metric="td/loss",
    progress_tags=("td/loss",),
)
