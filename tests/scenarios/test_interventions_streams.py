"""The continual image streams of the interventions scenario (permuted inputs, class-incremental,
binary pairs): what each iteration's task holds, that it is reproducible, that bad options are
one line, and that a tiny grid of each runs end to end and logs accuracy per task."""

import json

import pytest
import torch

from plastilab.core.errors import DatasetError, ScenarioError
from plastilab.core.scenario_file import load_scenario
from plastilab.data.datasets import load_images
from plastilab.rundir import layout
from plastilab.rundir.reader import read_jsonl
from plastilab.scenarios.interventions.schema import TaskConfig
from plastilab.scenarios.interventions.streams.registry import make_stream
from plastilab.scenarios.interventions.tasks import make_task_stream

from interventions_helpers import run_to_folder, tiny

IMAGES, LABELS = load_images("mnist-5k", 400, 0)


def stream(targets, seed=7, **options):
    task = TaskConfig(targets=targets, **options)
    return make_task_stream(task, IMAGES, LABELS, seed, "mnist-5k")


def test_permuted_inputs_permute_the_pixels_of_the_same_images_and_keep_the_labels():
    s = stream("permuted_inputs")
    assert s.n_classes == 10
    first, second = s.draw(0), s.draw(1)
    for x, y in (first, second):
        assert torch.equal(y, LABELS)  # the true labels
        # each image's pixels are its own, reordered: the same multiset of values per image
        assert torch.equal(x.flatten(1).sort(1).values, IMAGES.flatten(1).sort(1).values)
    order = s.permutation(3)
    assert torch.equal(order.sort().values, torch.arange(28 * 28))  # a permutation
    assert torch.equal(s.draw(3)[0].flatten(2), IMAGES.flatten(2)[:, :, order])
    assert not torch.equal(first[0], second[0]) and not torch.equal(first[0], IMAGES)


def test_permutations_are_reproducible_from_the_seed_and_iteration_alone():
    assert torch.equal(stream("permuted_inputs").permutation(5), stream("permuted_inputs").permutation(5))
    assert not torch.equal(stream("permuted_inputs").permutation(5), stream("permuted_inputs", seed=8).permutation(5))


def test_class_incremental_adds_classes_on_schedule():
    s = stream("class_incremental", class_incremental={"initial_classes": 2, "classes_added": 3, "add_every": 4})
    assert s.n_classes == 10  # one output per class of the dataset from the start
    sizes = [len(s.classes(t)) for t in range(12)]
    assert sizes == [2] * 4 + [5] * 4 + [8] * 4
    assert torch.equal(s.classes(11)[:2], s.classes(0))  # the classes seen stay, in arrival order
    for t in (0, 5, 9):
        x, y = s.draw(t)
        assert set(y.tolist()) == set(s.classes(t).tolist())  # true labels, every seen class, no other
        assert len(x) == int(torch.isin(LABELS, s.classes(t)).sum())
    assert torch.equal(stream("class_incremental").order, stream("class_incremental").order)


def test_binary_pairs_hold_two_classes_labelled_0_and_1():
    s = stream("binary_pairs")
    assert s.n_classes == 2
    pairs = {s.pair(t) for t in range(20)}
    assert len(pairs) > 5  # a fresh pair most iterations
    for t in range(5):
        first, second = s.pair(t)
        x, y = s.draw(t)
        assert first != second and set(y.tolist()) == {0, 1}
        chosen = (LABELS == first) | (LABELS == second)
        assert torch.equal(x, IMAGES[chosen]) and torch.equal(y, (LABELS[chosen] == second).long())
    assert s.pair(4) == stream("binary_pairs").pair(4)


STREAM_FILE = """
[task.class_incremental]
initial_classes = 2
classes_added = 5
add_every = 1
"""


@pytest.mark.parametrize(
    "targets, extra, message",
    [
        ("class_incremental", STREAM_FILE, "task.class_incremental.classes_added: found 5; allowed: initial_classes + classes_added"),
        ("class_incremental", "[task.class_incremental]\ninitial_classes = 0\n", "task.class_incremental.initial_classes"),
        ("binary_pairs", '[grid]\ninterventions = ["two_hot"]\n', "two_hot needs task.targets"),
        ("permuted_inputs", "", None),
    ],
)
def test_options_that_cannot_fit_the_dataset_are_one_line(tmp_path, targets, extra, message):
    text = f'kind = "interventions"\nname = "x"\n[task]\ntargets = "{targets}"\nn_iterations = 3\n' + extra
    path = tmp_path / "bad.toml"
    path.write_text(text)
    if message is None:
        assert load_scenario(path).config.task.targets == targets
        return
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    assert message in str(error.value) and "\n" not in str(error.value) and str(path) in str(error.value)


def test_images_that_miss_a_class_a_stream_draws_from_are_one_line():
    images, labels = IMAGES[LABELS != 3], LABELS[LABELS != 3]
    with pytest.raises(DatasetError) as error:
        make_stream(TaskConfig(targets="binary_pairs"), images, labels, 0, "mnist-5k", source="x.toml")
    assert str(error.value).startswith("x.toml: data.n_images:") and "class 3" in str(error.value)


@pytest.mark.parametrize("targets", ["permuted_inputs", "class_incremental", "binary_pairs"])
def test_a_tiny_grid_of_each_stream_logs_accuracy_per_task(tmp_path, targets):
    extra = "[task.class_incremental]\ninitial_classes = 4\nclasses_added = 3\nadd_every = 1\n" if targets == "class_incremental" else ""
    scenario = tiny(tmp_path, targets=targets, architectures='["mlp"]', interventions='["none", "continual_backprop", "redo"]', extra=extra)
    scenario = load_scenario(scenario.path, ["data.n_images=200"])
    run_dir, end = run_to_folder(scenario, tmp_path)
    assert json.loads((run_dir / layout.STATUS).read_text())["state"] == "finished", getattr(end, "error", end)
    records = read_jsonl(run_dir / layout.METRICS)
    for series in scenario.config.series():
        for tag in ("task/final_loss", "task/final_accuracy", "task/online_accuracy"):
            values = [r["value"] for r in records if r["series"] == series and r["tag"] == tag]
            assert len(values) == 3 and all(0 <= v for v in values), (series, tag)


@pytest.mark.timeout(600)
def test_a_stream_resumed_mid_task_equals_the_uninterrupted_run(tmp_path):
    """The checkpoint holds the online accuracy's window; the task's inputs are drawn again."""
    from resume_helpers import assert_same_run
    from resume_helpers import run_twice

    overrides = [
        "checkpoint_every=30",
        "data.n_images=100",
        "task.targets='permuted_inputs'",
        "task.n_iterations=3",
        "task.steps_per_iteration=20",
        "training.log_every=10",
        "seeds=1",
        "models.mlp.hidden=[16, 16]",
        "grid.interventions=['none', 'continual_backprop']",
        "ranking.window=1",
    ]
    whole, resumed, saved = run_twice(tmp_path, "permuted-mnist-quick.toml", overrides, stop_step=35)
    assert saved["step"] == 30  # mid-task: the second task's steps 11-20 are made again
    assert_same_run(resumed, whole)
