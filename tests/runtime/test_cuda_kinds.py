"""Every scenario kind runs its smoke run with ``--device cuda`` (data on the device, the
instruments included) and its numbers agree with the same seed on the CPU over the first logged
steps. Skipped, with the reason, where no CUDA GPU is visible."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
import torch

from plastilab.core.registry import SCENARIO_KINDS
from plastilab.core.smoke import smoke_scenario
from plastilab.runtime.launcher import launch

from paths import REPO

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU visible (torch.cuda.is_available() is False)")


LOSSES = ("train/loss", "td/loss", "task/final_loss")


def first_losses(run_dir, n_steps: int) -> dict[tuple[str, str, int], float]:
    """(series, tag, step) -> value of the losses of the first ``n_steps`` steps that log one."""
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line]
    rows = [r for r in rows if r["tag"] in LOSSES and r["value"] is not None]
    steps = sorted({r["step"] for r in rows})[:n_steps]
    return {(r["series"], r["tag"], r["step"]): r["value"] for r in rows if r["step"] in steps}


@needs_cuda
@pytest.mark.parametrize("kind", sorted(SCENARIO_KINDS))
def test_kind_runs_on_cuda_and_agrees_with_cpu(kind, tmp_path):
    runs = {}
    for device in ("cuda", "cpu"):
        launched = launch(smoke_scenario(SCENARIO_KINDS[kind], [f"device={device}"]), tmp_path / device)
        assert launched.state == "finished", getattr(launched.end, "error", launched.end)
        runs[device] = launched.run_dir
    meta = json.loads((runs["cuda"] / "meta.json").read_text())
    assert "cuda" in json.dumps(meta)  # the run says where it ran
    gpu, cpu = first_losses(runs["cuda"], 2), first_losses(runs["cpu"], 2)
    # The data streams are drawn on CPU generators, so both devices see the same batches; the
    # first losses differ only by the rounding of different kernels (cuDNN convolutions may use
    # TF32, about 1e-3 relative: hence the tolerance).
    assert cpu, f"no loss logged by {kind}"
    for key in cpu:
        assert key in gpu, f"{key} logged on the CPU but not on CUDA"
        assert math.isclose(gpu[key], cpu[key], rel_tol=1e-2, abs_tol=1e-4), (key, gpu[key], cpu[key])


@pytest.mark.timeout(600)  # the subprocess's own limit: every kind's smoke run and five benches on a busy machine
def test_gpu_suite_runs_in_its_cpu_quick_mode():
    """The prepared GPU script, run as a check of itself: every kind's row and agreement, and
    each bench's summary (tiny sizes on the CPU; it measures nothing here)."""
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "gpu_suite.py"), "--device", "cpu", "--quick"],
        capture_output=True, text=True, timeout=600, cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [" ".join(line.split()) for line in done.stdout.splitlines()]  # padding squeezed
    for kind in SCENARIO_KINDS:
        assert any(row.startswith(f"{kind}: steps/s") for row in rows), done.stdout
        assert any(row.startswith(f"{kind}: first losses: ok") for row in rows), done.stdout
    table = done.stdout
    assert "failed" not in table and "ran out" not in table, table
