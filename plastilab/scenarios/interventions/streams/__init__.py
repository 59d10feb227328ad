"""The field's continual supervised image streams (Dohare et al. 2024), as ``task.targets`` kinds
of the interventions scenario: each iteration's task is a set of inputs *and* labels drawn from the
scenario's images, not new targets for the same inputs.

One file a stream (``permuted_inputs.py``, ``class_incremental.py``, ``binary_pairs.py``), each a
class built from the images, their class labels and the series' task seed, with ``n_classes`` (the
network's outputs) and ``draw(iteration) -> (inputs, labels)``; ``registry.py`` names them and
``options.py`` holds their file options and checks (pydantic only, so ``plastilab validate``
imports no torch). This module imports nothing.
"""
