"""Where scenario files are found, and which device `auto` picks (with the hardware patched)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from plastilab.core import catalog
from plastilab.core.catalog import builtin_scenario_dir, format_rough_duration, list_scenarios
from plastilab.core.device import resolve_device
from plastilab.core.errors import ScenarioError

CHECKOUT_SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def test_the_checkout_scenarios_folder_is_the_default(monkeypatch):
    monkeypatch.delenv("PLASTILAB_SCENARIOS", raising=False)
    assert builtin_scenario_dir() == CHECKOUT_SCENARIOS


def test_the_environment_overrides_the_scenarios_folder(monkeypatch, tmp_path):
    (tmp_path / "one.toml").write_text('name = "one"\nkind = "adam_instability"\nestimated_cpu_seconds = 120\n')
    monkeypatch.setenv("PLASTILAB_SCENARIOS", str(tmp_path))
    assert builtin_scenario_dir() == tmp_path
    (entry,) = list_scenarios()
    assert (entry.name, entry.kind, entry.estimated_cpu_seconds) == ("one", "adam_instability", 120)


def test_an_installed_copy_is_found_under_share_when_there_is_no_checkout(monkeypatch, tmp_path):
    monkeypatch.delenv("PLASTILAB_SCENARIOS", raising=False)
    monkeypatch.setattr(catalog, "PACKAGE_ROOT", tmp_path / "site-packages")  # no scenarios/ beside it
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    assert builtin_scenario_dir() == tmp_path / "prefix" / "share" / "plastilab" / "scenarios"


def test_unreadable_files_are_skipped_and_extra_folders_are_listed(monkeypatch, tmp_path):
    builtin, extra = tmp_path / "builtin", tmp_path / "extra"
    builtin.mkdir(), extra.mkdir()
    (builtin / "broken.toml").write_text("name = = 1\n")
    (builtin / "plain.toml").write_text('kind = "x"\nestimated_cpu_seconds = "soon"\n')
    (extra / "mine.toml").write_text('name = "mine"\ndescription = "d"\n')
    monkeypatch.setenv("PLASTILAB_SCENARIOS", str(builtin))
    entries = list_scenarios([extra])
    assert [(e.name, e.kind, e.description, e.estimated_cpu_seconds) for e in entries] == [
        ("plain", "x", "", None),
        ("mine", "?", "d", None),
    ]


@pytest.mark.parametrize(
    "seconds, text", [(None, "?"), (45, "45 s"), (89.9, "89 s"), (90, "2 min"), (5399, "90 min"), (5400, "1.5 h"), (9000, "2.5 h")]
)
def test_rough_durations(seconds, text):
    assert format_rough_duration(seconds) == text


class FakeMPS:
    def __init__(self, available: bool) -> None:
        self.available = available

    def is_available(self) -> bool:
        return self.available


@pytest.mark.parametrize(
    "cuda, mps, picked", [(True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu")]
)
def test_auto_takes_cuda_then_mps_then_the_cpu(monkeypatch, cuda, mps, picked):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends, "mps", FakeMPS(mps))
    assert resolve_device("auto") == picked


def test_auto_without_an_mps_backend_at_all_takes_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delattr(torch.backends, "mps")
    assert resolve_device("auto") == "cpu"


def test_asking_for_missing_hardware_names_the_source_and_the_fix(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends, "mps", FakeMPS(False))
    with pytest.raises(ScenarioError, match=r"^run.toml: device: found 'cuda' .* use --device auto or cpu$"):
        resolve_device("cuda", "run.toml")
    with pytest.raises(ScenarioError, match=r"^scenario: device: found 'mps' .* use --device auto or cpu$"):
        resolve_device("mps")
    assert resolve_device("cpu") == "cpu"


def test_present_hardware_is_taken_as_asked(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends, "mps", FakeMPS(True))
    assert resolve_device("cuda") == "cuda"
    assert resolve_device("mps") == "mps"
