"""The engine never imports a face: textual and rich stay out of everything but the UI."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "plastilab"
FACES = {"tui", "headless"}
FACE_FILES = {"cli.py", "__main__.py"}
FORBIDDEN = ("textual", "rich", "textual_plotext", "textual_serve")


def engine_files():
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in FACES or str(rel) in FACE_FILES:
            continue
        yield path


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_engine_sources_do_not_import_ui_libraries():
    files = list(engine_files())
    assert any(p.parent.name == "core" for p in files)
    offenders = {str(p.relative_to(PACKAGE)): sorted(imported_roots(p) & set(FORBIDDEN)) for p in files}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_running_a_scenario_loads_no_ui_module():
    # Import the whole engine path a run takes, then look at sys.modules in a clean interpreter.
    code = (
        "import sys\n"
        "from plastilab.core.scenario_file import load_scenario\n"
        "from plastilab.core.driver import drive\n"
        "from plastilab.rundir.writer import RunFolderWriter\n"
        "import plastilab.scenarios.adam_instability.runner\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
