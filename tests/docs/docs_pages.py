"""The Markdown pages whose shown commands are tested, and what they show: the commands of their
shell blocks, their Python blocks and their TOML blocks (the convention: CONTRIBUTING.md,
"Commands in the docs"; tests/docs/test_shown_commands.py checks them)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", REPO / "CONTRIBUTING.md", REPO / "bench" / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
SHELL_BLOCKS = {"sh", "bash", "shell"}
LIBRARY_EXAMPLES = "## Measure your own model"  # run and checked by test_library_examples.py


@dataclass(frozen=True)
class Shown:
    page: str
    line: int
    text: str

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"

    def words(self) -> list[str]:
        return shlex.split(self.text, comments=True)


def fenced_blocks(path: Path):
    """(language, first line number, lines) of each fenced block of a Markdown page."""
    language, start, lines = None, 0, []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("```"):
            if language is None:
                language, start, lines = line[3:].strip() or "text", number + 1, []
            else:
                yield language, start, lines
                language = None
        elif language is not None:
            lines.append(line)


def shown_commands() -> list[Shown]:
    shown = []
    for path in PAGES:
        page = str(path.relative_to(REPO))
        for language, start, lines in fenced_blocks(path):
            pending, first = "", 0
            for offset, line in enumerate(lines):
                if language == "console":
                    if not line.startswith("$ "):
                        continue
                    line = line[2:]
                elif language not in SHELL_BLOCKS:
                    break
                if not pending:
                    first = start + offset
                if line.rstrip().endswith("\\"):
                    pending += line.rstrip()[:-1] + " "
                    continue
                text = (pending + line).strip()
                pending = ""
                if text and not text.startswith("#"):
                    shown.append(Shown(page, first, text))
    return shown


def python_blocks() -> list[tuple[str, int, str]]:
    blocks = []
    for path in PAGES:
        text = path.read_text(encoding="utf-8")
        examples = text.split(LIBRARY_EXAMPLES, 1)[1].split("\n## ", 1)[0] if LIBRARY_EXAMPLES in text else ""
        for language, start, lines in fenced_blocks(path):
            if language == "python":
                code = "\n".join(lines) + "\n"
                blocks.append((str(path.relative_to(REPO)), start, code, code in examples))
    return blocks


def toml_files() -> list[tuple[str, int, str]]:
    found = []
    for path in PAGES:
        for language, start, lines in fenced_blocks(path):
            if language == "toml":
                found.append((str(path.relative_to(REPO)), start, "\n".join(lines) + "\n"))
    return found
