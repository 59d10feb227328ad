"""Gradient covariance against an explicit loop of one backward pass per example."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from plastilab.instruments.gradient_covariance import gradient_covariance, per_example_gradients
from plastilab.models.mlp import MLP


def looped_gradients(model, inputs, labels):
    rows = []
    for i in range(len(inputs)):
        model.zero_grad()
        F.cross_entropy(model(inputs[i : i + 1]), labels[i : i + 1]).backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]))
    model.zero_grad()
    return torch.stack(rows)


@pytest.mark.parametrize("layer_norm", [False, True])
def test_matrix_matches_a_per_example_loop_and_is_ordered_by_label(layer_norm):
    torch.manual_seed(0)
    model = MLP(5, [8], 3, layer_norm=layer_norm).double()
    inputs, labels = torch.randn(12, 5, dtype=torch.float64), torch.randint(0, 3, (12,))
    result = gradient_covariance(model, F.cross_entropy, (inputs, labels), labels)

    order = np.argsort(labels.numpy(), kind="stable")
    g = looped_gradients(model, inputs[order], labels[order])
    g = g / g.norm(dim=1, keepdim=True)
    expected = (g @ g.T).numpy()
    np.testing.assert_allclose(result.matrix, expected, atol=1e-12)
    assert list(result.labels) == sorted(labels.tolist())

    same = result.labels[:, None] == result.labels[None, :]
    off = ~np.eye(12, dtype=bool)
    assert result.mean_similarity == pytest.approx(expected[off].mean())
    assert result.within_class_similarity == pytest.approx(expected[same & off].mean())
    assert result.across_class_similarity == pytest.approx(expected[~same].mean())


def test_hand_made_gradients_give_known_similarities():
    # A linear model with squared error: the gradient of example i is (w.x_i - y_i) x_i, so
    # orthogonal inputs give orthogonal gradients and a repeated input gives similarity 1.
    model = nn.Linear(2, 1, bias=False).double()
    nn.init.zeros_(model.weight)
    inputs = torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    targets = torch.tensor([[1.0], [1.0], [1.0]], dtype=torch.float64)
    result = gradient_covariance(model, F.mse_loss, (inputs, targets), labels=[0, 0, 1])
    np.testing.assert_allclose(result.matrix, [[1, 1, 0], [1, 1, 0], [0, 0, 1]], atol=1e-12)
    assert result.within_class_similarity == pytest.approx(1.0)
    assert result.across_class_similarity == pytest.approx(0.0)
    assert result.mean_similarity == pytest.approx(1 / 3)


def test_tuple_targets_and_no_labels():
    torch.manual_seed(0)
    model = MLP(4, [5], 3).double()
    inputs = torch.randn(6, 4, dtype=torch.float64)
    batch = (inputs, (torch.randint(0, 3, (6,)), torch.randn(6, dtype=torch.float64)))

    def td_loss(q, targets):
        return ((q.gather(1, targets[0].unsqueeze(1)).squeeze(1) - targets[1]) ** 2).mean()

    grads = per_example_gradients(model, td_loss, batch)
    assert grads.shape == (6, sum(p.numel() for p in model.parameters()))
    result = gradient_covariance(model, td_loss, batch)
    assert result.labels is None and result.within_class_similarity is None
    np.testing.assert_allclose(np.diag(result.matrix), 1.0)


def test_train_mode_batch_norm_gives_each_examples_gradient_within_the_batch():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2)).double()
    inputs, labels = torch.randn(5, 3, dtype=torch.float64), torch.tensor([0, 1, 0, 1, 1])
    running = model[1].running_mean.clone()
    grads = per_example_gradients(model, F.cross_entropy, (inputs, labels))
    assert torch.equal(model[1].running_mean, running)
    for i in range(5):  # example i's loss, with the batch statistics of all five
        model.zero_grad()
        losses = F.cross_entropy(model(inputs), labels, reduction="none")
        losses[i].backward()
        expected = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
        torch.testing.assert_close(grads[i], expected, rtol=1e-9, atol=1e-12)
