"""What the faces show of an Atari run: the evaluation score first (raw and human-normalised),
the training return and TD loss, then what the instruments say about plasticity."""

from plastilab.core.presentation import DEAD_UNITS, PLASTICITY_LOSS, TOP_EIGENVALUE, Headline, Presentation

PRESENTATION = Presentation(
    headlines=(
        Headline("eval/return", "eval return", "{:.1f}"),
        Headline("eval/human_normalized", "human-norm.", "{:.3f}"),
        Headline("episode/return", "train return", "{:.1f}"),
        Headline("td/loss", "TD loss", "{:.4f}"),
        PLASTICITY_LOSS,
        Headline("gradients/mean_similarity", "grad. sim.", "{:.3f}"),
        TOP_EIGENVALUE,
        DEAD_UNITS,
    ),
    main_curve="eval/return",  # the score papers report: one point per evaluation
    dashboard_metric="episode/return",
    progress_tags=("td/loss",),
)
