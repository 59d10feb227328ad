"""Interventions against loss of plasticity, one small unit a file.

At a task change: ``reset_last_layer``, ``reset_optimizer_state``, ``shrink_and_perturb``.
During training: ``apply_weight_decay`` (decoupled), ``L2Init`` (a penalty toward the initial
weights), ``recycle_dormant_units`` (ReDo). In the model: ``apply_spectral_norm``, and layer
normalisation, which is the ``layer_norm`` option of ``plastilab.models.factory.build_model``.
In the loss: ``TwoHot``, a categorical output over fixed bins for a scalar target.
"""
