"""The engine never imports a face: textual stays in tui/, rich in the faces, and no engine
module reaches into a face."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "plastilab"
FACES = {"tui", "headless", "commands"}  # commands: the command line's commands, doors to both faces
FACE_FILES = {"cli.py", "__main__.py"}  # the command line: the door to both faces
TEXTUAL = ("textual", "textual_plotext", "textual_serve")  # the lab's libraries: tui/ only
FACE_LIBRARIES = ("rich", "plotext")  # drawing in a terminal: the faces only


def package_files():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, path.relative_to(PACKAGE)


def is_face(rel: Path) -> bool:
    return rel.parts[0] in FACES or str(rel) in FACE_FILES


def imports(path: Path, rel: Path | None = None) -> set[str]:
    """Every module ``path`` (at ``rel`` in the package) imports, absolute or relative
    (resolved), at any depth in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = rel if rel is not None else path.relative_to(PACKAGE)
    package = ".".join(("plastilab", *rel.parent.parts))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def roots(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_only_tui_imports_textual():
    offenders = {
        str(rel): sorted(roots(imports(path)) & set(TEXTUAL))
        for path, rel in package_files()
        if rel.parts[0] != "tui"
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_faces_import_rich_or_plotext():
    files = list(package_files())
    assert any(rel.parts[0] == "core" for _, rel in files) and any(rel.parts[0] == "runtime" for _, rel in files)
    offenders = {str(rel): sorted(roots(imports(path)) & set(FACE_LIBRARIES)) for path, rel in files if not is_face(rel)}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_engine_module_imports_a_face():
    faces = tuple(f"plastilab.{face}" for face in FACES) + ("plastilab.cli",)
    offenders = {}
    for path, rel in package_files():
        if is_face(rel):
            continue
        bad = sorted(m for m in imports(path) if m in faces or m.startswith(tuple(f + "." for f in faces)))
        if bad:
            offenders[str(rel)] = bad
    assert offenders == {}


def test_the_import_check_sees_relative_and_nested_imports(tmp_path):
    # The checks above are only as good as ``imports``: it must see a relative import of a face.
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from ..tui import app\n    import rich.text\n", encoding="utf-8")
    found = imports(probe, Path("runtime") / "probe.py")
    assert "plastilab.tui.app" in found and "rich.text" in found


def test_running_a_scenario_loads_no_ui_module():
    # Import the whole engine path a run takes (the CLI's and the lab's child's), then look at
    # sys.modules in a clean interpreter.
    code = (
        "import sys\n"
        "from plastilab.core.scenario_file import load_scenario\n"
        "from plastilab.runtime.launcher import launch\n"
        "import plastilab.runtime.training_process, plastilab.runtime.live_source, plastilab.runtime.replay_sources, plastilab.runtime.session\n"
        "import plastilab.studies.listing, plastilab.studies.scenario_form\n"
        "import plastilab.scenarios.adam_instability.runner\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'plotext')]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_faces_never_name_a_scenario_kind():
    # A kind presents itself (its presenter.py); the faces ask core.presentation, so a new kind
    # needs no edit here. Kind names, in code or prose, and imports of a kind's modules are out.
    from plastilab.core.registry import SCENARIO_KINDS

    words = set()
    for kind in SCENARIO_KINDS:
        words |= {kind, kind.replace("_", "-"), kind.replace("_", " ")}
    readers = [*(PACKAGE / "headless").rglob("*.py"), *(PACKAGE / "tui" / "screens").rglob("*.py"), PACKAGE / "studies" / "listing.py"]
    offenders = {}
    for path in readers:
        text = path.read_text(encoding="utf-8").lower()
        found = sorted(w for w in words if w in text)
        if "plastilab.scenarios" in text:
            found.append("plastilab.scenarios")
        if found:
            offenders[str(path.relative_to(PACKAGE))] = found
    for path in (PACKAGE / "tui").rglob("*.py"):
        if "plastilab.scenarios" in path.read_text(encoding="utf-8"):
            offenders[str(path.relative_to(PACKAGE))] = ["plastilab.scenarios"]
    assert offenders == {}


def test_asking_a_kind_what_to_show_loads_no_torch():
    # The report's table, the runs list and the picker must not pay for torch to ask.
    code = (
        "import sys\n"
        "from plastilab.core.presentation import presentation_for\n"
        "from plastilab.core.registry import SCENARIO_KINDS\n"
        "import plastilab.studies.listing\n"
        "[presentation_for(kind) for kind in SCENARIO_KINDS]\n"
        "print(','.join(m for m in sys.modules if m.split('.')[0] in ('torch', 'textual', 'rich')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
