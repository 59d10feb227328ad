"""The scenarios and studies the lab's picker offers, each as a form of its main parameters,
and the form's check. (A study entry reads its study file, so this sits in the studies layer.)

A form's fields become ``key.path=value`` overrides and go through ``load_scenario``, the same
path ``plastilab run --set`` takes, so the picker shows exactly the CLI's one-line messages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from plastilab.core.catalog import format_rough_duration
from plastilab.core.errors import PlastilabError
from plastilab.core.safe_text import shown
from plastilab.core.scenario_file import Scenario, load_scenario
from plastilab.core.value_text import show_value
from plastilab.studies.study_file import is_study_file, load_study_plan

DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass
class ScenarioForm:
    """A validated scenario file as the picker shows it: its main parameters as form fields."""

    path: Path
    name: str
    description: str = ""
    watch_for: str = ""
    estimated_cpu_seconds: int | None = None
    device: str = "auto"
    parameters: list[tuple[str, str]] = field(default_factory=list)  # (key.path, value as TOML text)
    error: str | None = None  # the file itself does not validate
    kind: str = "scenario"  # or "study": many runs, started as `plastilab run STUDY.toml` is
    details: str = ""  # a study: its trials, axes, seeds and analysis, in a few lines

    @property
    def ok(self) -> bool:
        return self.error is None


def discover(dirs: list[Path]) -> list[ScenarioForm]:
    """Every ``*.toml`` in ``dirs`` (in order, duplicates by path skipped), each validated."""
    entries: list[ScenarioForm] = []
    seen: set[Path] = set()
    for folder in dirs:
        folder = Path(folder)
        paths = sorted(folder.glob("*.toml")) if folder.is_dir() else ([folder] if folder.is_file() else [])
        for path in paths:
            key = path.resolve()
            if key in seen:
                continue
            seen.add(key)
            entries.append(read_study_entry(_relative(path)) if is_study_file(path) else read_entry(_relative(path)))
    return entries


def _relative(path: Path) -> Path:
    """``scenarios/adam-quick.toml`` rather than a long absolute path, when under the cwd."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def read_entry(path: Path) -> ScenarioForm:
    try:
        scenario = load_scenario(path)
    except PlastilabError as exc:
        return ScenarioForm(path=path, name=shown(path.stem, 80), error=str(exc))
    return entry_from(scenario, path)


def read_study_entry(path: Path) -> ScenarioForm:
    """A study file as the picker shows it: no form (a study is run as written), its layout."""
    try:
        study = load_study_plan(path)
    except PlastilabError as exc:
        return ScenarioForm(path=path, name=shown(path.stem, 80), kind="study", error=str(exc))
    config = study.config
    axes = config.axes or {key: [] for t in (config.trials or []) for key in t}
    lines = [f"{len(study.trials)} trials of its {study.base.get('kind', '?')} base scenario; analysis: {config.analysis.kind}"]
    for key, values in axes.items():
        lines.append(f"  {key}: " + (", ".join(show_value(v) for v in values) if values else "(per trial)"))
    seeds = config.seeds if isinstance(config.seeds, int) else len(config.seeds)
    lines.append(f"  seeds: {seeds}")
    return ScenarioForm(
        path=path,
        name=config.name,
        description=shown(config.description, 2000, one_line=False),
        watch_for=shown(config.watch_for or leading_comment(path), 4000, one_line=False),
        estimated_cpu_seconds=config.estimated_cpu_seconds,
        kind="study",
        details=shown("\n".join(lines), 2000, one_line=False),
    )


def leading_comment(path: Path) -> str:
    """The comment a file opens with, its lines joined into paragraphs (the shipped studies say
    there what the paper found and what a run of the file shows)."""
    try:
        with open(path, encoding="utf-8") as f:
            head = f.read(20_000)
    except (OSError, UnicodeDecodeError):
        return ""
    paragraphs, current = [], []
    for line in head.splitlines():
        if not line.startswith("#"):
            break
        text = line.lstrip("#").strip()
        if text:
            current.append(text)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def entry_from(scenario: Scenario, path: Path) -> ScenarioForm:
    config = scenario.config
    data = config.model_dump(mode="json")
    parameters = []
    for key in type(config).main_parameters:
        found, value = lookup(data, key)
        if found:
            parameters.append((key, toml_text(value)))
    return ScenarioForm(
        path=path,
        name=config.name,
        description=shown(config.description, 2000, one_line=False),  # a file cannot clear the screen
        watch_for=shown(config.watch_for, 2000, one_line=False) if config.watch_for else config.watch_for,
        estimated_cpu_seconds=config.estimated_cpu_seconds,
        device=config.device,
        parameters=parameters,
    )


def lookup(data: Any, key: str) -> tuple[bool, Any]:
    node = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def toml_text(value: Any) -> str:
    """A value as it would be typed after ``--set key=``, on one line (a form field)."""
    if isinstance(value, str):
        return value
    return _inline_toml(value)


def _inline_toml(value: Any) -> str:
    # tomli_w writes some arrays over several lines; a form field needs one.
    if isinstance(value, list):
        return "[" + ", ".join(_inline_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    return tomli_w.dumps({"v": value}).strip()[len("v = ") :]


@dataclass
class FormCheck:
    overrides: list[str]
    error: str | None = None
    key: str | None = None  # the field the error is about, when it names one

    @property
    def ok(self) -> bool:
        return self.error is None


def check_form(entry: ScenarioForm, values: dict[str, str], device: str) -> FormCheck:
    """Validate the form: changed fields become overrides, checked by the scenario's schema."""
    original = dict(entry.parameters)
    overrides = []
    for key, text in values.items():
        text = text.strip()
        if text == original.get(key):
            continue
        if not text:
            return FormCheck([], f"{entry.path}: {key}: found nothing; type a value", key)
        overrides.append(f"{key}={text}")
    try:
        load_scenario(entry.path, overrides, device=device)
    except PlastilabError as exc:
        message = str(exc)
        return FormCheck(overrides, message, _key_named(message, entry.path, values))
    return FormCheck(overrides)


def _key_named(message: str, path: Path, keys: dict[str, str]) -> str | None:
    rest = message[len(str(path)) + 2 :] if message.startswith(str(path)) else message
    named = rest.split(":", 1)[0].strip()
    if named.startswith("--set "):
        named = named[len("--set ") :].split("=")[0].strip(" '\"")
    for key in keys:
        if named == key or named.startswith(key + ".") or key.startswith(named + "."):
            return key
    return None


def format_estimate(seconds: int | None) -> str:
    """The CLI's ``plastilab list`` wording, marked as approximate."""
    return "?" if seconds is None else "~" + format_rough_duration(seconds)
