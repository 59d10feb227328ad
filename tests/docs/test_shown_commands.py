"""Every command shown in README.md, CONTRIBUTING.md, bench/README.md and docs/**/*.md is tested,
so the docs cannot rot.

The convention (CONTRIBUTING.md, "Commands in the docs"): in a ```sh / ```bash / ```shell block
every line is one command (a trailing backslash continues it, ``#`` starts a comment); in a
```console block only lines starting with ``$ `` are commands. ``RUN_DIR`` and ``STUDY_DIR``
stand for a run and a study folder: here, the demo and the falsification study recorded in
docs/figures/runs (unpacked into a scratch folder, so nothing in the checkout changes).

Each command is matched against RULES (command prefix -> its check); PARSED_ONLY is the table
of commands that are parsed rather than run, each with its reason. A cheap command runs for real, in a scratch folder holding links to the checkout's scenarios/,
tests/, docs/ and bench/, and must exit 0. A command that would train for minutes, wait for keys,
serve until stopped, install packages or run the suite is parsed instead: by the real CLI (the
same typer app: its arguments and options must exist and take the values shown) with its files
checked (they exist, and a scenario resolves with the command's own overrides), or, for a tool
that is not plastilab, against what it refers to (a make target, a pip extra, a bench script's
options). A command that no rule recognises fails, so a page cannot show an untested command.

Python blocks that read recorded folders (they name RUN_DIR, STUDY_DIR or tests/data) run here;
the rest are the library examples that test_library_examples.py runs and checks by hand.
A ```toml block with a top-level ``kind`` is a whole scenario or study file: it must validate.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tarfile
import tomllib
from pathlib import Path

import pytest

from docs_checks import (
    ENV_WORD, PARSED_ONLY, PLACEHOLDERS, RAN, RULES, check_make, check_pip, check_plastilab, check_script, must_succeed, rule_for,
)
from docs_pages import PAGES, REPO, Shown, python_blocks, shown_commands, toml_files

RECORDED = REPO / "docs" / "figures" / "runs"
LINKED = ("scenarios", "tests", "docs", "bench")  # what the commands name, linked into the scratch folder


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("shown")
    for name in LINKED:
        (work / name).symlink_to(REPO / name)
    recorded = work / "recorded"
    recorded.mkdir()
    for archive in sorted(RECORDED.glob("*.tar.xz")):
        if archive.name.removesuffix(".tar.xz") in {Path(p).name for p in PLACEHOLDERS.values()}:
            with tarfile.open(archive, "r:xz") as tar:
                tar.extractall(recorded, filter="data")
    return work


SHOWN = shown_commands()


def test_the_pages_show_commands():
    pages = {shown.page for shown in SHOWN}
    assert {"README.md", "CONTRIBUTING.md", "bench/README.md", "docs/cli.md", "docs/studies.md"} <= pages
    assert len(SHOWN) >= 60


def test_every_shown_command_is_recognised():
    unknown = [f"{shown.id}: {shown.text}" for shown in SHOWN if rule_for(shown.words())[0] is None]
    assert unknown == [], "commands no rule of RULES checks: add a row for each kind"


def test_one_command_a_line():
    joined = [f"{shown.id}: {shown.text}" for shown in SHOWN if {"&&", "||", "|", ";"} & set(shown.words())]
    assert joined == [], "one command a line, so each is checked on its own"


def distinct(shown: list[Shown]) -> list[Shown]:
    """One of each command (the same words shown on several pages, or with other comments, run once)."""
    first: dict[tuple[str, ...], Shown] = {}
    for each in shown:
        first.setdefault(tuple(each.words()), each)
    return list(first.values())


@pytest.mark.parametrize("shown", distinct(SHOWN), ids=lambda s: s.id)
def test_shown_command(shown, workdir):
    prefix, words = rule_for(shown.words())
    if prefix is None:
        pytest.fail(f"{shown.id}: no rule checks {shown.text!r}")
    outcome = RULES[prefix](words, workdir)
    assert outcome is RAN or outcome in PARSED_ONLY


def test_a_wrong_option_or_target_is_caught(workdir):
    """The checks can fail: an option the CLI lacks, a missing target, extra or file."""
    with pytest.raises(Exception):
        check_plastilab(["plastilab", "report", "RUN_DIR", "--no-such-option"], workdir)
    with pytest.raises(AssertionError):
        check_make(["make", "no-such-target"], workdir)
    with pytest.raises(AssertionError):
        check_pip(["pip", "install", "plastilab[no-such-extra]"], workdir)
    with pytest.raises(AssertionError):
        check_script(["python", "bench/bench_adam_step_loop.py", "--no-such-option"], workdir)
    with pytest.raises(AssertionError):
        check_plastilab(["plastilab", "run", "scenarios/no-such-file.toml"], workdir)
    with pytest.raises(Exception):
        check_plastilab(["plastilab", "run", "scenarios/adam-quick.toml", "--set", "training.lrr=1"], workdir)


def test_environment_variables_exist():
    """A variable set in front of a shown command is one the code or the tests read."""
    sources = "".join(path.read_text(encoding="utf-8") for path in [*REPO.glob("plastilab/**/*.py"), *REPO.glob("tests/**/*.py"), REPO / "Makefile"])
    names = {word.split("=", 1)[0] for shown in SHOWN for word in shown.words() if re.fullmatch(ENV_WORD, word)}
    assert names and [name for name in sorted(names) if name not in sources] == []


def test_every_python_block_is_run():
    """Each is run here (it reads a recorded folder) or is a library example that
    test_library_examples.py runs and checks by hand."""
    neither = [f"{page}:{line}" for page, line, code, example in python_blocks() if not example and not re.search(r"RUN_DIR|STUDY_DIR|tests/data", code)]
    assert neither == []


RUN_HERE = [block[:3] for block in python_blocks() if not block[3]]


@pytest.mark.parametrize("page,line,code", RUN_HERE, ids=[f"{page}:{line}" for page, line, _ in RUN_HERE])
def test_python_blocks(page, line, code, workdir):
    for placeholder, folder in PLACEHOLDERS.items():
        code = code.replace(placeholder, str(workdir / folder))
    namespace: dict = {"__name__": f"docs_block_{line}"}
    cwd = Path.cwd()
    try:
        os.chdir(REPO)  # the blocks name tests/data relative to the checkout
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(code, f"{page}:{line}", "exec"), namespace)
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("page,line,text", toml_files(), ids=[f"{page}:{line}" for page, line, _ in toml_files()])
def test_toml_blocks(page, line, text, tmp_path):
    data = tomllib.loads(text)  # every block is TOML
    if "kind" not in data:
        return  # a fragment of a file (one table), shown beside the page's own explanation
    # A whole file: validated beside the shipped scenarios, so a study's relative base resolves.
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for scenario in (REPO / "scenarios").glob("*.toml"):
        (folder / scenario.name).symlink_to(scenario)
    file = folder / f"shown-{line}.toml"
    file.write_text(text, encoding="utf-8")
    must_succeed(["validate", str(file)], tmp_path)


def test_the_readme_fits_a_screen_and_shows_the_lab():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert "docs/figures/lab.svg" in pictures and all((REPO / picture).is_file() for picture in pictures)
    assert "make demo" in readme and "make test" in readme  # .ci/run runs the README's test command


def test_the_files_the_pages_name_exist():
    """A path the pages name in backticks (a test, a bench, a module, a scenario file) exists, so a
    moved or renamed file shows up here rather than in a reader's shell."""
    named = set()
    for page in PAGES:
        for path in re.findall(r"`((?:tests|bench|plastilab|scenarios|docs)/[\w/.-]+\.(?:py|toml|md|svg|png))`", page.read_text(encoding="utf-8")):
            named.add((str(page.relative_to(REPO)), path))
        # Tests are named by file name alone (unique across tests/), wherever their folder is.
        for test in re.findall(r"`(test_\w+\.py)`", page.read_text(encoding="utf-8")):
            named.add((str(page.relative_to(REPO)), test))
    tests = {path.name for path in (REPO / "tests").rglob("test_*.py")}
    assert {path for _, path in named if path.startswith("test_")} - tests == set()
    named = {(page, path) for page, path in named if not path.startswith("test_")}
    assert len(named) >= 20
    # A module may be named from inside the package (`scenarios/interventions/plan.py`).
    missing = [(page, path) for page, path in named if not (REPO / path).exists() and not (REPO / "plastilab" / path).exists()]
    assert sorted(missing) == []
