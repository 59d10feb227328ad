"""Populations: N networks of one shape trained as one stack in one process.

``Population(models)`` (``stack.py``) stacks N same-shape ``nn.Module``s:
    pop.flat                 [N, P] every agent's parameters, row i = agent i's, back to back
    pop.params               {name: nn.Parameter [N, *shape]}, views into ``flat``
    pop.buffers              {name: [N, *shape]} stacked buffers (where the model has any)
    pop.models[i]            agent i's own nn.Module; its parameters are views into row i
                             (edit in place, never reassign ``.data``: that would cut the view)
    pop(x) / pop.forward(x)  x [N, B, ...] -> [N, B, ...]: for a plain MLP the direct form
                             (``direct.py``: one baddbmm a layer, nn.Linear's backward products,
                             each agent's numbers its lone network's), else vmap over functional_call
    pop.direct               the direct form's callable, or None (vmap); pop.call_vmapped(params, x)
    pop.call(params, x)      the same forward with other stacked parameters: a dict like
                             ``pop.params`` or a flat [N, P] tensor (a target network's)
    pop.clone_flat(), pop.copy_params(), pop.unflatten(flat), pop.agent_params(i)
    pop.share_gradients()    each agent's module gets its slice of the stack's .grad
    pop.zero_grad(), pop.parameters(), pop.train(mode)
    pop.state_dict() / pop.load_state_dict(state)   plain tensors, restored in place
    per_agent_norm(tensors)  [N]: the L2 norm over all tensors, per agent

Stacked optimisers (``optim.py``), over any list of tensors with a leading agent axis (usually
``pop.parameters()``); each hyperparameter a float or one value per agent (a list or ``[N]``
tensor); a step equals each agent's own ``torch.optim`` step (single-tensor op order):
    StackedAdam(params, lr=, beta1=, beta2=, eps=, weight_decay=, fused=False)
                             fused=True: torch's fused kernel (one pass, ~3x faster on a CPU
                             stack), equal to torch.optim.Adam(fused=True) per agent
    StackedRMSprop(params, lr=, alpha=, eps=, momentum= (one value), weight_decay=)   centred
    StackedSGD(params, lr=, momentum=, weight_decay=)
    make_stacked_optimizer(kind, params, hyper, fused=False)   kind: adam | rmsprop | sgd
    opt.step(), opt.zero_grad(), opt.set_hyper(name, value), opt.moments("exp_avg_sq")
    opt.state_dict() / load_state_dict()             all agents (weights_only-loadable)
    opt.agent_state(i) / load_agent_state(i, s) / reset_agent(i)   one agent
    opt.state[k][name][i]    agent i's state for parameter k (e.g. to reset a unit's moments)
"""

from plastilab.population.optim import (
    StackedAdam,
    StackedRMSprop,
    StackedSGD,
    make_stacked_optimizer,
)
from plastilab.population.optim_base import StackedOptimizer
from plastilab.population.stack import Population, per_agent_norm

__all__ = [
    "Population",
    "StackedAdam",
    "StackedOptimizer",
    "StackedRMSprop",
    "StackedSGD",
    "make_stacked_optimizer",
    "per_agent_norm",
]
