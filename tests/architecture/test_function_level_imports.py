"""An import inside a function stays only where it defers a heavy library (torch, ray,
matplotlib, textual, ...) or a plastilab module that pulls one in at import time, and says so
in a comment on its line or the line above. Anything else belongs at the top of the file: a
function-level import must never hide an import cycle (tests/architecture/test_import_cycles.py)."""

from pathlib import Path

from import_graph import PACKAGE_DIR, module_files, resolve, written_imports

# Libraries whose import costs a noticeable part of a second, or that are optional extras.
HEAVY = {
    "torch",
    "torchvision",
    "ray",
    "matplotlib",
    "textual",
    "textual_plotext",
    "textual_serve",
    "asyncssh",
    "pyarrow",
    "tensorboard",
    "ale_py",
    "gymnasium",
    "playwright",
    "plotext",
    "pandas",
    "PIL",
    "cv2",
    "scipy",
    "rliable",
}


# The root package's lazy doorway: every ``import plastilab.<anything>`` runs plastilab/__init__.py,
# so it defers the library API (``plastilab.load_run``...) to first use, heavy or not (PEP 562).
DOORWAY = ("plastilab/__init__.py", "plastilab.analysis")


def heavy_pulls(package_dir: Path) -> dict[str, set[str]]:
    """Per module: the heavy libraries importing it loads, through its top-level imports and
    theirs (a module's parent packages run too)."""
    known = module_files(package_dir)
    root = package_dir.name
    direct: dict[str, set[str]] = {}
    deps: dict[str, set[str]] = {}
    for module, path in known.items():
        direct[module], deps[module] = set(), set()
        for name, _line, in_function in written_imports(module, path):
            if in_function:
                continue
            if name.split(".")[0] != root:
                if name.split(".")[0] in HEAVY:
                    direct[module].add(name.split(".")[0])
                continue
            target = resolve(name, known)
            while target:  # the target and the packages above it all run
                if target != module:
                    deps[module].add(target)
                target = target.rpartition(".")[0]
    pulls: dict[str, set[str]] = {}
    for module in known:
        seen, stack, found = {module}, [module], set()
        while stack:
            current = stack.pop()
            found |= direct[current]
            for dep in deps[current] - seen:
                seen.add(dep)
                stack.append(dep)
        pulls[module] = found
    return pulls


def has_comment(lines: list[str], line: int) -> bool:
    here = lines[line - 1]
    above = lines[line - 2].strip() if line >= 2 else ""
    return "#" in here or above.startswith("#")


def offenders(package_dir: Path) -> list[str]:
    """Each function-level import that defers nothing heavy or says nothing, as
    'file:line  imported name  (why it is refused)'."""
    known = module_files(package_dir)
    root = package_dir.name
    pulls = heavy_pulls(package_dir)
    found: dict[tuple[str, int], str] = {}  # one entry a line (``from x import a, b`` is one import)
    for module, path in known.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        where = path.relative_to(package_dir.parent).as_posix()
        for name, line, in_function in written_imports(module, path):
            if not in_function:
                continue
            top = name.split(".")[0]
            if top == root:
                target = resolve(name, known) or name
                heavy = pulls.get(target, set())
                shown = target
            else:
                heavy = {top} & HEAVY
                written = lines[line - 1].split()
                shown = written[1] if written[:1] == ["from"] and len(written) > 1 else name
            if (where, line) in found or (where, shown) == DOORWAY:
                continue
            if not heavy:
                found[where, line] = f"{where}:{line}  {shown}  (defers nothing heavy: import it at the top)"
            elif not has_comment(lines, line):
                found[where, line] = f"{where}:{line}  {shown}  (no comment saying it defers {', '.join(sorted(heavy))})"
    return list(found.values())


def test_function_level_imports_only_defer_heavy_libraries_and_say_so():
    found = offenders(PACKAGE_DIR)
    assert not found, f"{len(found)} function-level import(s) to lift or explain:\n" + "\n".join(found)


def test_the_check_refuses_a_light_or_silent_function_level_import(tmp_path):
    toy = tmp_path / "toy"
    toy.mkdir()
    for name, text in {
        "__init__.py": "",
        "light.py": "import json\n",
        "engine.py": "import torch\n",
        "door.py": "from toy.engine import *\n",  # heavy through another module
        "user.py": (
            "def a():\n    import json\n"  # light: refused
            "def b():\n    from toy import light\n"  # light plastilab module: refused
            "def c():\n    import torch  # deferred: torch\n"  # fine
            "def d():\n    # deferred: pulls in torch\n    from toy.door import x\n"  # fine
            "def e():\n    from . import engine\n"  # heavy but silent: refused
        ),
    }.items():
        (toy / name).write_text(text, encoding="utf-8")
    assert offenders(toy) == [
        "toy/user.py:2  json  (defers nothing heavy: import it at the top)",
        "toy/user.py:4  toy.light  (defers nothing heavy: import it at the top)",
        "toy/user.py:11  toy.engine  (no comment saying it defers torch)",
    ]
