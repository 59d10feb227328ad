"""plastilab: a terminal laboratory for loss of plasticity in neural networks."""

__version__ = "0.1.0"
