"""One sanitising helper: text from files is shown, never obeyed (issue 11, finding 8)."""

from __future__ import annotations

import io
import json

from rich.console import Console

from hostile_helpers import run_cli
from plastilab.core.errors import ScenarioError
from plastilab.core.safe_text import is_plain, shown
from plastilab.headless.report import print_report
from plastilab.studies.listing import read_run
from plastilab.runtime.run_state import RunState
from plastilab.core.events import Log, RunFailed, RunStarted


def test_control_characters_become_visible_escapes():
    assert shown("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert shown("bell\x07 del\x7f c1\x9b") == "bell\\x07 del\\x7f c1\\x9b"
    assert shown("rtl\u202eevil") == "rtl\\u202eevil"
    assert shown("lone \ud800 surrogate") == "lone \\ud800 surrogate"
    assert shown("two\nlines\tand a tab") == "two\\nlines and a tab"
    assert shown("two\nlines", one_line=False) == "two\nlines"


def test_plain_text_is_left_alone():
    for text in ("adam-beta2-eps", "β₂ = 0.9, ε = 1e-3", "日本語", "emoji 🧪", "[bold]markup is text[/bold]"):
        assert shown(text) == text and is_plain(text)
    assert not is_plain("a\x1bb") and not is_plain("a\nb")


def test_shown_cuts_to_a_limit():
    assert shown("x" * 100, 10) == "x" * 9 + "…"
    assert shown(12345) == "12345"


def test_error_messages_are_one_printable_line():
    assert str(ScenarioError("file\x1b[2J.toml: bad\nvalue")) == "file\\x1b[2J.toml: bad\\nvalue"


def test_list_prints_a_description_as_text(capsys, tmp_path, tiny_scenario_path):
    source = tiny_scenario_path.read_text().replace('name = "adam-tiny"', 'name = "esc"')
    lines = [line for line in source.splitlines() if not line.startswith("description")]
    (tmp_path / "esc.toml").write_text("\n".join([lines[0], 'description = "\\u001b[2Jcleared\\nline two"', *lines[1:]]) + "\n")
    code, out, _ = run_cli(capsys, "list", "--scenarios", str(tmp_path))
    row = next(line for line in out.splitlines() if line.startswith("esc.toml"))
    assert code == 0 and "\x1b" not in out and "\\x1b[2Jcleared\\nline two" in row


def test_report_and_runs_list_show_file_text_as_text(tmp_path):
    run = tmp_path / "demo" / "20260101-000000-abcdef"
    run.mkdir(parents=True)
    (run / "metrics.jsonl").write_text(json.dumps({"step": 1, "series": "a", "tag": "train/loss", "value": 1.0}) + "\n")
    (run / "meta.json").write_text(json.dumps({"scenario": "demo\x1b]0;title\x07[blink]x[/blink]"}))
    (run / "status.json").write_text(json.dumps({"state": "failed\x1b[31m", "error": "\x1b[2Jboom [red]r[/red]"}))
    console = Console(file=io.StringIO(), width=100, force_terminal=False)
    print_report(run, console)
    text = console.file.getvalue()
    assert "\x1b" not in text and "\x07" not in text and "[red]r[/red]" in text and "[blink]x[/" in text
    info = read_run(run)
    assert "\x1b" not in info.scenario + info.state + (info.error or "")


def test_the_dashboard_state_holds_only_printable_text():
    state = RunState()
    state.apply(RunStarted("demo\x1b[2J", "kind", ("a",), 10, "cpu\x1b", 0))
    state.apply(Log("warning\x1b", "careful\x1b[2J\nsecond line"))
    state.apply(RunFailed(3, "boom\x1b[2J"))
    texts = [state.scenario, state.device, state.error or "", *(line.message + line.level for line in state.logs)]
    assert not any("\x1b" in t for t in texts)
    assert state.logs[0].message == "careful\\x1b[2J\nsecond line"
