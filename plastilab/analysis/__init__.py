"""Runs and studies out of the terminal: pandas tables, TensorBoard/CSV/Parquet export, figures,
and plain-python summaries over what runs wrote (``ranking``: series grouped over seeds, ranked by
their mean final loss over the last iterations).

pandas, tensorboard and matplotlib are optional extras (``plastilab[analysis]``,
``plastilab[tensorboard]``, ``plastilab[figures]``); each is imported only by the function that
needs it, and a missing one is a one-line error naming the extra.
"""

from plastilab.analysis.errors import AnalysisError
from plastilab.analysis.runs import Run, load_arrays, load_run, parse_series
from plastilab.analysis.studies import Study, load_study

__all__ = ["AnalysisError", "Run", "Study", "load_arrays", "load_run", "load_study", "parse_series"]
