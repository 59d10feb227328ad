"""The run folder: the truth about a run. Written by ``writer``, read back by ``reader``."""
