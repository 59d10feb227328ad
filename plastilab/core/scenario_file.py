"""Load a scenario TOML file, apply ``--set`` overrides, validate, and explain what is wrong.

Every failure becomes a ``ScenarioError`` whose message is one line:
``FILE: KEY.PATH: found VALUE; allowed: WHAT``.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from plastilab.core.errors import ScenarioError
from plastilab.core.registry import SCENARIO_KINDS
from plastilab.core.safe_text import is_plain, shown
from plastilab.core.scenario_toml import MAX_DEPTH, check_depth, read_scenario_toml
from plastilab.core.schema import ScenarioConfig


@dataclass(frozen=True)
class Scenario:
    path: Path | None
    config: ScenarioConfig

    @property
    def name(self) -> str:
        return self.config.name


def load_scenario(path: str | Path, overrides: list[str] | None = None, **fields: Any) -> Scenario:
    """Read ``path``, apply ``key.path=value`` overrides and top-level ``fields``, validate."""
    path = Path(path)
    raw = read_scenario_toml(path)
    for text in overrides or []:
        apply_override(raw, text, path)
    for key, value in fields.items():
        if value is not None:
            raw[key] = value
    return Scenario(path, validate_scenario(raw, str(path)))


def validate_scenario(raw: dict[str, Any], source: str) -> ScenarioConfig:
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in SCENARIO_KINDS:
        allowed = ", ".join(sorted(SCENARIO_KINDS))
        found = "nothing" if kind is None else _show(kind)
        raise ScenarioError(f"{source}: kind: found {found}; allowed: {allowed}")
    schema = SCENARIO_KINDS[kind].load_schema()
    try:
        return schema.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(describe_validation_error(exc, schema, source)) from None
    except RecursionError:
        raise ScenarioError(f"{source}: nested too deeply to check; a scenario nests at most {MAX_DEPTH} levels") from None


def apply_override(raw: dict[str, Any], text: str, source: Path | str) -> None:
    """Apply one ``key.path=value`` to ``raw``; the value is read as a TOML value, else a string."""
    if any(ch in text for ch in "\n\r\x00"):
        # A TOML value cannot span lines here: "lr=3\n[x]\ny=1" would slip in a table.
        raise ScenarioError(f"{source}: --set {text!r}: one line only; found a line break or NUL")
    key, sep, value_text = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError(f"{source}: --set {text!r}: expected KEY.PATH=VALUE, e.g. --set training.lr=3e-4")
    parts = [part.strip() for part in key.split(".")]
    if not all(parts) or not all(is_plain(part) for part in parts):
        raise ScenarioError(f"{source}: --set {key!r}: an empty key between dots, or control characters; expected KEY.PATH=VALUE, e.g. training.lr=3e-4")
    value = parse_value(value_text.strip(), f"{source}: --set {key}")
    check_depth(value, str(source), key)
    node: Any = raw
    for i, part in enumerate(parts[:-1]):
        child = node.get(part) if isinstance(node, dict) else None
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            where = ".".join(parts[: i + 1])
            raise ScenarioError(f"{source}: --set {key}: {where} is a {type(child).__name__}, not a table")
        node = child
    node[parts[-1]] = value


def parse_value(text: str, source: str = "--set") -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word such as cpu or mnist-5k
    except RecursionError:
        raise ScenarioError(f"{source}: nested too deeply; a value nests at most {MAX_DEPTH} levels") from None


def describe_validation_error(exc: ValidationError, schema: type[BaseModel], source: str) -> str:
    """The first error of ``exc`` as one line; a count of the rest, if any."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = [shown(part, 40) for part in first["loc"]]
    key = ".".join(loc) or "(top level)"
    kind = first["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(schema, first["loc"][:-1])
        text = f"{source}: {key}: unknown key; allowed here: {allowed}"
    elif kind == "missing":
        text = f"{source}: {key}: missing; add it to the file or with --set {key}=..."
    else:
        found = first.get("input")
        allowed = _allowed_text(first)
        text = f"{source}: {key}: found {_show(found)}; allowed: {allowed}"
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more)"
    return text


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list) and len(value) > 8:
        return f"a list of {len(value)} values"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _allowed_text(error: dict[str, Any]) -> str:
    ctx = error.get("ctx") or {}
    kind = error["type"]
    if kind == "literal_error":
        return ctx.get("expected", error["msg"])
    bounds = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
    if kind in bounds:
        return f"a number {bounds[kind]} {next(iter(ctx.values()))}"
    msg = error["msg"]
    # pydantic's wording around our validators' own sentences ("Value error, ...") and its own
    for prefix in ("Input should be ", "Value error, "):
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg


def _allowed_keys(schema: type[BaseModel], loc: tuple) -> str:
    model: Any = schema
    annotation: Any = schema
    for part in loc:
        if _is_dict(annotation):
            annotation = annotation.__args__[1]  # a table keyed by name: skip the name
            model = _model_in(annotation)
            continue
        field = model.model_fields.get(part) if model is not None else None
        if field is None:
            return "(see the scenario's documentation)"
        annotation = field.annotation
        model = _model_in(annotation)
    if model is None:
        return "(see the scenario's documentation)"
    return ", ".join(model.model_fields)


def _is_dict(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is dict


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside an annotation such as ``Model`` or ``Model | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if _is_dict(annotation):
        return None
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def resolved_dict(config: ScenarioConfig) -> dict[str, Any]:
    """The validated scenario as plain data, every default filled in (for scenario.toml)."""
    return copy.deepcopy(config.model_dump(mode="json", exclude_none=True))
