"""plastilab export: TensorBoard event files read back by TensorBoard's own reader, and tables."""

import sys

import pandas as pd
import pytest
from analysis_folders import CHECKPOINTS, write_run, write_study
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2
from typer.testing import CliRunner

import plastilab
from plastilab.analysis import AnalysisError
from plastilab.analysis.export import export
from plastilab.analysis.export_tensorboard import histogram_raw_args, matrix_image
from plastilab.cli import app

EVERYTHING = {"scalars": 0, "histograms": 0, "images": 0, "tensors": 0}


def read_events(log_dir):
    events = EventAccumulator(str(log_dir), size_guidance=EVERYTHING)
    events.Reload()
    return events


def hparams_of(events) -> dict:
    content = events.summary_metadata["_hparams_/session_start_info"].plugin_data.content
    info = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    return {k: (v.string_value or v.number_value) for k, v in info.hparams.items()}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return write_run(tmp_path_factory.mktemp("run") / "run")


def test_tensorboard_reader_finds_scalars_histograms_images_text_and_hparams(run_dir, tmp_path):
    written = export(run_dir, "tensorboard", tmp_path)
    run = plastilab.load_run(run_dir)
    assert sorted(written) == sorted(tmp_path / s for s in run.series)  # adam-default/s0 nests as a folder
    events = read_events(tmp_path / "adam-default" / "s1")
    tags = events.Tags()
    expected = run.scalars[run.scalars["series"] == "adam-default/s1"]
    for tag in ("train/loss", "task/final_loss", "probe/plasticity_loss", "weights/norm", "task/index"):
        assert tag in tags["scalars"]
        values = expected[expected["tag"] == tag]
        read = events.Scalars(tag)
        assert [e.step for e in read] == list(values["step"])
        assert [e.value for e in read] == pytest.approx(list(values["value"]))
    assert tags["histograms"] == ["hessian/density"]
    histograms = events.Histograms("hessian/density")
    assert [h.step for h in histograms] == list(CHECKPOINTS)
    first = histograms[0].histogram_value
    assert list(first.bucket) == [0.0, 1, 4, 9, 4, 1, 0, 2] and first.min == -1.0 and first.num == 21
    assert tags["images"] == ["gradients/covariance"]
    images = events.Images("gradients/covariance")
    assert [i.step for i in images] == list(CHECKPOINTS) and images[0].width >= 128
    assert "probe/curve/at_step_20" in tags["scalars"]
    # the spread across the probe's targets: two curves, not an image (analysis_folders: 0.8x and 1.2x the mean)
    mean = [e.value for e in events.Scalars("probe/curve/at_step_20")]
    assert [e.value for e in events.Scalars("probe/target_curves/at_step_20/min")] == pytest.approx([0.8 * v for v in mean])
    assert [e.value for e in events.Scalars("probe/target_curves/at_step_20/max")] == pytest.approx([1.2 * v for v in mean])
    assert [e.step for e in events.Scalars("probe/target_curves/at_step_20/max")] == [1, 2, 3, 4, 5]
    text = events.Tensors("scenario/text_summary")[0].tensor_proto.string_val[0].decode()
    assert 'name = "adam-tiny"' in text and "steps_per_task = 20" in text
    hparams = hparams_of(events)
    assert hparams["variant"] == "adam-default" and hparams["seed"] == 1
    assert hparams["training.steps_per_task"] == 20 and hparams["model.hidden"] == "[32, 32]"
    assert hparams["variant.optimizer"] == "adam"


def test_a_study_exports_each_trial_as_a_run_with_its_axes_as_hparams(tmp_path):
    study = write_study(tmp_path / "study")
    written = export(study, "tensorboard", tmp_path / "tb")
    assert written == [tmp_path / "tb" / "t0", tmp_path / "tb" / "t1"]  # t2 failed without a run folder
    events = read_events(tmp_path / "tb" / "t1")
    assert hparams_of(events) == {"model.hidden": "[64, 64]", "seed": 0, "variant": "adam-default"}
    assert events.Scalars("probe/plasticity_loss")[-1].value == pytest.approx(0.5)


def test_histogram_and_image_conversions():
    args = histogram_raw_args([1.0, 3.0], [0.0, 1.0, 2.0])
    assert args == {"min": 0.0, "max": 2.0, "num": 4.0, "sum": 5.0, "sum_squares": 7.0, "bucket_limits": [1.0, 2.0], "bucket_counts": [1.0, 3.0]}
    image = matrix_image([[1.0, -1.0], [0.0, 0.5]])
    assert image.shape == (128, 128, 3) and image.dtype.name == "uint8"
    assert tuple(image[0, 0]) == (178, 23, 43) and tuple(image[0, 127]) == (33, 102, 171) and tuple(image[127, 0]) == (255, 255, 255)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_tables_read_back_equal_the_loaded_frames(run_dir, tmp_path, fmt):
    written = export(run_dir, fmt, tmp_path)
    assert written == [tmp_path / f"scalars.{fmt}", tmp_path / f"per_task.{fmt}"]
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    run = plastilab.load_run(run_dir)
    scalars = read(written[0])
    assert list(scalars.columns) == list(run.scalars.columns) and len(scalars) == len(run.scalars)
    assert list(scalars["value"]) == pytest.approx(list(run.scalars["value"]), nan_ok=True)
    assert list(scalars["seed"]) == list(run.scalars["seed"])
    assert read(written[1])["value"].tolist() == pytest.approx(run.per_task()["value"].tolist())


def test_a_study_exports_its_trial_table_and_all_scalars(tmp_path):
    study = write_study(tmp_path / "study")
    trials_csv, scalars_csv = export(study, "csv", tmp_path / "csv")
    trials = pd.read_csv(trials_csv)
    assert list(trials["trial"]) == ["t0", "t1", "t2"] and list(trials["model.hidden"]) == ["[32, 32]", "[64, 64]", "[128, 128]"]
    scalars = pd.read_csv(scalars_csv)
    assert set(scalars["trial"]) == {"t0", "t1"} and {"model.hidden", "seed"} <= set(scalars.columns)


def test_parquet_without_pyarrow_is_one_line_naming_the_extra(run_dir, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    with pytest.raises(AnalysisError, match=r"needs the pyarrow package: pip install 'plastilab\[parquet\]'"):
        export(run_dir, "parquet", tmp_path)
    assert not list(tmp_path.iterdir())


def test_cli_export_errors_are_one_line_with_exit_2(run_dir, tmp_path):
    runner = CliRunner()
    cases = [
        (["export", str(tmp_path / "missing"), "--to", "csv", str(tmp_path / "o")], "no such folder"),
        (["export", str(tmp_path), "--to", "csv", str(tmp_path / "o")], "not a run folder or a study folder"),
        (["export", str(run_dir), "--to", "excel", str(tmp_path / "o")], "--to excel: unknown format; allowed: tensorboard, csv, parquet"),
    ]
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.output
    result = runner.invoke(app, ["export", str(run_dir), "--to", "csv", str(tmp_path / "o")])
    assert result.exit_code == 0 and (tmp_path / "o" / "scalars.csv").is_file()
