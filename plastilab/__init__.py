"""plastilab: a terminal laboratory for loss of plasticity in neural networks.

``plastilab.load_run``, ``load_arrays`` and ``load_study`` (from ``plastilab.analysis``) are
imported on first use, so ``import plastilab`` and ``plastilab --help`` stay cheap.
"""

from plastilab.core.version import __version__

_ANALYSIS = ("load_run", "load_arrays", "load_study")
__all__ = ["__version__", *_ANALYSIS]


def __getattr__(name: str):
    if name in _ANALYSIS:
        import plastilab.analysis  # deferred: every plastilab import runs this file; the API loads on use

        return getattr(plastilab.analysis, name)
    raise AttributeError(f"module 'plastilab' has no attribute {name!r}")
