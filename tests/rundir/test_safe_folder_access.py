"""Every module that reads or writes run and study folders goes through ``rundir.safe_files``:
regular files only, inside the folder, never through a link, never blocking. This walks those
modules and fails on a plain ``open()``/``read_text()``/``write_text()`` (and the like) that is
not in the short list below, each with the reason it is not a folder's file."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "plastilab"
# The packages that touch run and study folders (the TUI reads them through rundir and studies).
FOLDER_PACKAGES = ("rundir", "runtime", "studies", "analysis", "headless")
PLAIN = {"open", "read_text", "read_bytes", "write_text", "write_bytes"}
# (file, the call's text starts with): why it is not a file in a run or study folder.
ALLOWED = {
    ("rundir/safe_files.py", "os.open("): "the safe way itself",
    ("rundir/safe_files.py", "read_text(path"): "the safe way itself (its own read_text)",
    ("rundir/state.py", "Path(f'/proc/"): "the kernel's process table, not a folder's file",
    ("runtime/checkpoint_save.py", "os.open(path, os.O_RDONLY)"): "fsync of the run folder itself (a directory)",
    ("rundir/claims.py", "os.open(folder / name,"): "a run's resume claim and a study's claim: O_CREAT | O_EXCL | O_NOFOLLOW, never follows or reuses",
    ("runtime/child_process.py", "os.open(path,"): "a spawned child's own log (the lab's training child, a background study), outside any run folder",
    ("runtime/child_process.py", "open(1,"): "the process's own stdout",
    ("runtime/child_process.py", "open(2,"): "the process's own stderr",
    ("runtime/child_process.py", "open(os.devnull"): "the null device",
    ("runtime/training_process.py", "Path(self.output_path)"): "the lab's own log of a training child, outside any run folder",
    ("studies/scenario_form.py", "open(path, encoding="): "the head of a scenario or study file the picker lists, not a file of a run or study folder",
    ("studies/background.py", "Path(self._log)"): "the lab's own log of a background study, outside the study folder",
}


@functools.cache
def _plain_calls() -> tuple[tuple[str, int, str], ...]:
    return tuple(_walk())


def _walk():
    for package in FOLDER_PACKAGES:
        for path in sorted((PACKAGE / package).rglob("*.py")):
            rel = path.relative_to(PACKAGE).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
                if name not in PLAIN:
                    continue
                if isinstance(func, ast.Attribute) and ast.unparse(func.value) in ("safe_files", "RunFolder", "self"):
                    continue  # the safe way, or a method of our own
                yield rel, node.lineno, ast.unparse(node)


def test_no_module_opens_a_folder_file_plainly():
    offending = [
        f"{rel}:{line}: {text[:90]}"
        for rel, line, text in _plain_calls()
        if not any(rel == file and text.startswith(start) for file, start in ALLOWED)
    ]
    assert not offending, "open these through plastilab.rundir.safe_files:\n" + "\n".join(offending)


@pytest.mark.parametrize(("file", "start"), sorted(ALLOWED))
def test_every_allowed_call_still_exists(file, start):
    """An allowance whose call is gone is removed, so the list never hides a new call."""
    assert any(rel == file and text.startswith(start) for rel, _, text in _plain_calls()), (file, start)
