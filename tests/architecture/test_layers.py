"""Every module imports only from its own layer or below. The layers are listed in one place, the
``layers`` block of docs/architecture.md (the diagram that page draws); imports count at any
depth of a file, inside functions too."""

import re
from pathlib import Path

from import_graph import PACKAGE_DIR, module_files, package_imports

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
LAYER_LINE = re.compile(r"^\s*(\d+)\s+[^:]+:\s*(.+)$")


def read_layers(text: str) -> dict[str, int]:
    """{package or top-level module name: layer} from the one ```layers block of ``text``.
    Lines that are not ``N title: name · name`` (the arrows between layers) are drawing."""
    blocks = re.findall(r"^```layers\n(.*?)^```", text, flags=re.S | re.M)
    assert len(blocks) == 1, f"expected one ```layers block, found {len(blocks)}"
    layers: dict[str, int] = {}
    for line in blocks[0].splitlines():
        match = LAYER_LINE.match(line)
        if match is None:
            continue
        for name in re.split(r"[\s·,]+", match.group(2).strip()):
            assert name not in layers, f"{name} is placed twice in the layers block"
            layers[name] = int(match.group(1))
    return layers


def layer_of(module: str, layers: dict[str, int]) -> int | None:
    """The layer of ``root.pkg.mod``: its first name below the root (``pkg``); the root package
    itself by its own name."""
    parts = module.split(".")
    return layers.get(parts[1] if len(parts) > 1 else parts[0])


def unplaced(package_dir: Path, layers: dict[str, int]) -> list[str]:
    return sorted(m for m in module_files(package_dir) if layer_of(m, layers) is None)


def upward_imports(package_dir: Path, layers: dict[str, int]) -> list[str]:
    """Each import of a module from a higher layer, as 'importer (layer) -> target (layer)  at file:line'."""
    files = module_files(package_dir)
    found = set()
    for edge in package_imports(package_dir):
        low, high = layer_of(edge.importer, layers), layer_of(edge.target, layers)
        if low is not None and high is not None and high > low:
            where = files[edge.importer].relative_to(package_dir.parent).as_posix()
            found.add(f"{edge.importer} ({low}) -> {edge.target} ({high})  at {where}:{edge.line}")
    return sorted(found)


def test_the_layers_block_places_every_module():
    layers = read_layers(ARCHITECTURE.read_text(encoding="utf-8"))
    assert unplaced(PACKAGE_DIR, layers) == [], "add these packages to the layers block of docs/architecture.md"


def test_no_module_imports_from_a_layer_above():
    layers = read_layers(ARCHITECTURE.read_text(encoding="utf-8"))
    found = upward_imports(PACKAGE_DIR, layers)
    assert not found, f"{len(found)} upward import(s):\n" + "\n".join(found)


def test_an_upward_import_and_an_unplaced_package_are_caught(tmp_path):
    toy = tmp_path / "toy"
    for name, text in {
        "__init__.py": "",
        "low/__init__.py": "",
        "low/base.py": "def f():\n    from toy.high import face  # hidden in a function\n",
        "high/__init__.py": "",
        "high/face.py": "from ..low import base\n",  # downward: fine
        "stray/__init__.py": "",
    }.items():
        (toy / name).parent.mkdir(parents=True, exist_ok=True)
        (toy / name).write_text(text, encoding="utf-8")
    layers = read_layers("```layers\n2 top: high · toy\n   ↓\n1 bottom: low\n```\n")
    assert layers == {"high": 2, "toy": 2, "low": 1}
    assert upward_imports(toy, layers) == ["toy.low.base (1) -> toy.high.face (2)  at toy/low/base.py:2"]
    assert unplaced(toy, layers) == ["toy.stray"]
