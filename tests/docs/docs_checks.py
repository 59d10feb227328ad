"""How each kind of shown command is checked: run for real in a scratch folder, or parsed (by the
real CLI, or against what it refers to) with the reason it cannot run here. PARSED_ONLY is the
table of those reasons; RULES maps a command's prefix to its check."""

from __future__ import annotations

import contextlib
import glob
import io
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import typer
from click import Context
from typer.testing import CliRunner

from docs_pages import REPO
from plastilab.cli import app
from plastilab.commands.run import parse_seeds
from plastilab.core.scenario_file import load_scenario

PLACEHOLDERS = {"RUN_DIR": "recorded/adam-quick", "STUDY_DIR": "recorded/falsification-reduced"}
# A `plastilab run FILE` runs for real when its file says it takes at most this much CPU (all its seeds).
CHEAP_RUN_CPU_SECONDS = 10
# A run of adam-tiny on a busy machine: generous, since a timeout here is not what is tested.
COMMAND_TIMEOUT_S = 600


def substituted(words: list[str], work: Path) -> list[str]:
    out = []
    for word in words:
        for placeholder, folder in PLACEHOLDERS.items():
            word = word.replace(placeholder, str(work / folder))
        matches = sorted(glob.glob(word, root_dir=work)) if "*" in word else []
        out.extend(matches or [word])
    return out


def run_plastilab(args: list[str], work: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]), "COLUMNS": "100"}
    return subprocess.run(
        [sys.executable, "-m", "plastilab", *args], cwd=work, env=env, capture_output=True, text=True,
        timeout=COMMAND_TIMEOUT_S,
    )


@contextlib.contextmanager
def working_in(folder: Path):
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def must_succeed(args: list[str], work: Path) -> None:
    """``plastilab ARGS`` in ``work`` exits 0. A training run starts its own process, as a user's
    does (it installs signal handlers and spawns workers); every other command is the same typer
    app called in this process, which saves an interpreter and a torch import per command."""
    if args and args[0] == "run":
        done = run_plastilab(args, work)
        code, output = done.returncode, done.stdout[-2000:] + done.stderr[-2000:]
    else:
        with working_in(work):
            result = CliRunner().invoke(app, args, env={"COLUMNS": "100"})
        code, output = result.exit_code, result.output[-3000:] + (repr(result.exception) if result.exception and code else "")
    assert code == 0, f"plastilab {shlex.join(args)} exited {code}:\n{output}"


# --- how each kind of command is checked ------------------------------------------------------


def parse_plastilab(args: list[str]) -> tuple[str | None, dict]:
    """The real CLI parses ``args`` (no command runs): its subcommand's name and parameters."""
    group = typer.main.get_command(app)
    with contextlib.redirect_stdout(io.StringIO()):
        ctx: Context = group.make_context("plastilab", list(args), resilient_parsing=False)
        # click keeps the subcommand's name apart from its arguments (renamed in click 8.2)
        protected = getattr(ctx, "_protected_args", None) or getattr(ctx, "protected_args", [])
        if not protected:
            return None, ctx.params
        name, *rest = [*protected, *ctx.args]
        command = group.get_command(ctx, name)
        assert command is not None, f"plastilab has no command {name!r}"
        sub = command.make_context(name, rest, parent=ctx, resilient_parsing=False)
    return name, sub.params


def check_run_files(params: dict, work: Path) -> None:
    """`plastilab run FILE ...`: the file exists and resolves with the command's own overrides."""
    if params.get("resume") is not None:
        return
    file = work / params["file"]
    assert file.is_file(), f"{params['file']} does not exist"
    if tomllib.loads(file.read_text(encoding="utf-8")).get("kind") == "study":
        must_succeed(["validate", str(file)], work)
    else:
        load_scenario(
            file, params.get("set_") or [], seed=params.get("seed"), seeds=parse_seeds(params.get("seeds"), file),
            device=params.get("device"), threads=params.get("threads"),
        )


def estimated_cpu_seconds(file: Path) -> float:
    return float(tomllib.loads(file.read_text(encoding="utf-8")).get("estimated_cpu_seconds", float("inf")))


def check_plastilab(words: list[str], work: Path) -> str:
    args = substituted(words[1:], work)
    if "--help" in args:
        must_succeed(args, work)
        return RAN
    command, params = parse_plastilab(args)
    if command is None:
        return ("plastilab",)
    if command in ("watch", "serve"):
        return ("plastilab", command)
    if command == "run":
        check_run_files(params, work)
        if params.get("resume") is not None:
            return ("plastilab", "run", "--resume")
        if params.get("out") and Path(params["out"]).is_absolute():
            return ("plastilab", "run", "--out /absolute")
        file = work / params["file"]
        seeds = parse_seeds(params.get("seeds"), file)
        runs = len(seeds) if isinstance(seeds, list) else seeds or 1
        if estimated_cpu_seconds(file) * runs > CHEAP_RUN_CPU_SECONDS:
            return ("plastilab", "run", "a longer file")
    must_succeed(args, work)
    return RAN


def make_targets() -> tuple[set[str], set[str]]:
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([A-Za-z][\w-]*):", text, flags=re.M))
    variables = set(re.findall(r"^([A-Z_]+) *[?:]?=", text, flags=re.M))
    return targets, variables


def check_make(words: list[str], work: Path) -> str:
    targets, variables = make_targets()
    for word in words[1:]:
        if "=" in word:
            assert word.split("=", 1)[0] in variables, f"the Makefile has no variable {word.split('=', 1)[0]}"
        else:
            assert word in targets, f"the Makefile has no target {word!r}"
    return ("make",)


def extras() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return set(project["optional-dependencies"])


def check_pip(words: list[str], work: Path) -> str:
    packages = [word for word in words[2:] if not word.startswith("-")]
    assert packages, "pip install of nothing"
    for package in packages:
        name, _, extra = package.partition("[")
        assert name in ("plastilab", "."), f"pip install {package}: the docs install plastilab only"
        assert not extra or extra.rstrip("]") in extras(), f"pyproject.toml has no extra {extra.rstrip(']')!r}"
    return ("pip", "install")


def check_venv(words: list[str], work: Path) -> str:
    assert words[1:4] == ["-m", "venv", ".venv"], "a virtual environment named .venv, as the Makefile's"
    return ("python3", "-m", "venv")


def check_script(words: list[str], work: Path) -> str:
    script = REPO / words[1]
    assert script.is_file(), f"{words[1]} does not exist"
    source = script.read_text(encoding="utf-8")
    for option in (word.split("=", 1)[0] for word in words[2:] if word.startswith("--")):
        assert f'"{option}"' in source, f"{words[1]} has no option {option}"
    return ("python", "bench")


def check_pytest(words: list[str], work: Path) -> str:
    paths = [word.split("::")[0] for word in words if word.startswith("tests")]
    assert paths, "a pytest command names what it runs"
    for path in paths:
        assert (REPO / path).exists(), f"{path} does not exist"
    return ("pytest",)


def check_ssh(words: list[str], work: Path) -> str:
    port = words[words.index("-p") + 1]
    serve = typer.main.get_command(app).get_command(None, "serve")
    (port_option,) = [param for param in serve.params if param.name == "port"]
    assert f"or {port} with --ssh" in port_option.help, f"serve --ssh does not listen on {port} by default"
    return ("ssh",)


def check_ray(words: list[str], work: Path) -> str:
    from ray.scripts.scripts import start  # deferred: pulls in ray

    assert words[1] == "start"
    start.make_context("start", words[2:], resilient_parsing=False)
    return ("ray", "start")


def check_tensorboard(words: list[str], work: Path) -> str:
    assert words[1:3] == ["--logdir", "tb/"], "tensorboard reads the folder the export wrote"
    return ("tensorboard",)


RAN = None  # what a check returns when the command ran for real and exited 0

# The commands that are parsed, not run, and why (what a check returns names its row). Every
# other command runs for real and must exit 0: plastilab's list, validate, --help, report,
# export and figures on the recorded folders, and a run of a file estimated at a few CPU-seconds.
PARSED_ONLY = {
    ("plastilab",): "the interactive lab waits for keys (tests/tui drive it); parsed by the CLI",
    ("plastilab", "watch"): "follows a folder until quit (tests/tui drive it); parsed by the CLI",
    ("plastilab", "serve"): "a server that runs until stopped (the browser and SSH tests drive it); parsed by the CLI",
    ("plastilab", "run", "--resume"): "needs an interrupted run with a checkpoint (the resume tests make one); parsed by the CLI",
    ("plastilab", "run", "a longer file"): f"trains for more than {CHEAP_RUN_CPU_SECONDS} CPU-s (estimated_cpu_seconds times the seeds): "
    "parsed by the CLI, and its file resolves with the command's own overrides (a study file validates)",
    ("plastilab", "run", "--out /absolute"): "writes outside the scratch folder: parsed, its file resolved as above",
    ("make",): "sets up .venv, trains, or runs the whole suite: each target and variable exists in the Makefile",
    ("pip", "install"): "installs packages: only plastilab, with extras that pyproject.toml defines",
    ("python3", "-m", "venv"): "makes an environment and installs pip into it (make test does the same)",
    ("python", "bench"): "a benchmark runs for minutes and means something only on an idle machine: the script and each option exist",
    ("pytest",): "runs tests, which the suite runs itself: the paths exist",
    ("ssh",): "a student's client needs a running classroom (the SSH classroom tests connect so): the port is serve --ssh's default",
    ("ray", "start"): "starts a cluster node: parsed by ray's own CLI",
    ("tensorboard",): "a server that runs until stopped: it reads the folder the export beside it wrote",
}

# Command prefix -> its check. The longest matching prefix wins; a command that matches none
# fails. A check raises if the command is wrong, and returns RAN or its PARSED_ONLY row.
RULES = {
    ("plastilab",): check_plastilab,
    ("make",): check_make,
    ("pip", "install"): check_pip,
    (".venv/bin/pip", "install"): check_pip,
    ("python3", "-m", "venv"): check_venv,
    ("python", "bench"): check_script,
    (".venv/bin/python", "-m", "pytest"): check_pytest,
    ("ssh", "-p"): check_ssh,
    ("ray", "start"): check_ray,
    ("tensorboard",): check_tensorboard,
}


ENV_WORD = r"[A-Z][A-Z0-9_]*=\S*"


def rule_for(words: list[str]):
    while words and re.fullmatch(ENV_WORD, words[0]):
        words = words[1:]  # an environment prefix: checked on its own (test_environment_variables_exist)
    keys = [word.split("/", 1)[0] if word.startswith("bench/") else word for word in words]
    best = max((prefix for prefix in RULES if tuple(keys[: len(prefix)]) == prefix), key=len, default=None)
    return best, words
