"""Instruments: measurements of a network's plasticity that any scenario can run.

One idea a file; import from the file (this package imports nothing, so the torch-free
``schema`` stays cheap to load):

* ``schema`` - the ``[instruments]`` table (``InstrumentsConfig`` and its sub-tables);
* ``suite`` - ``InstrumentSuite``: runs what is due at a step and returns events;
* ``plasticity_probe`` - ``PlasticityProbe`` and ``ProbeResult``;
* ``unit_stats`` - dead, dormant, saturated units and pre-activations, via forward hooks;
* ``rank`` - effective rank and srank of a feature matrix;
* ``weight_stats`` - weight norm, distance from init, gradient norm, update ratio;
* ``hessian_spectrum`` - ``HessianSpectrum``: HVPs, top eigenvalues, trace, SLQ density;
* ``gradient_covariance`` - per-example gradients and their cosine-similarity matrix;
* ``functional`` - the helpers they share (private randomness, flat vectors).
"""
