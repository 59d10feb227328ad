"""One trial, run inside a worker (a pool process or a Ray task): the launcher, then its probe-step file.

Never raises: every way a trial can end comes back as a plain dict the scheduler writes into the
ledger, so one failed trial never stops the study.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from plastilab.core.errors import PlastilabError
from plastilab.core.events import RunFailed
from plastilab.core.scenario_file import Scenario, validate_scenario
from plastilab.runtime.launcher import launch, resume
from plastilab.studies.folder import CHECKPOINTS_DIR, TRIALS_DIR
from plastilab.studies.probe_steps import write_probe_steps


def run_trial(job: dict[str, Any], control: Any = None) -> dict[str, Any]:
    """``job``: trial id, scenario (plain data), source, study_dir, target tag, command."""
    started = time.time()
    cpu_started = time.process_time()
    result: dict[str, Any] = {"trial": job["trial"], "host": os.uname().nodename, "pid": os.getpid()}
    try:
        study_dir = Path(job["study_dir"])
        # threads: None takes the scenario's own key, as `plastilab run` and the lab do.
        if job.get("resume_dir"):  # an interrupted trial with saved training state: on from there
            launched = resume(job["resume_dir"], control=control, threads=job.get("threads"), command=job["command"])
        else:
            scenario = Scenario(None, validate_scenario(job["scenario"], job["source"]))
            launched = launch(scenario, study_dir / TRIALS_DIR, control=control, threads=job.get("threads"), command=job["command"])
        result.update(state=launched.state, run_dir=str(launched.run_dir.relative_to(study_dir)))
        if isinstance(launched.end, RunFailed):
            result["error"] = launched.end.error
        if launched.state == "finished":
            write_probe_steps(study_dir / CHECKPOINTS_DIR / f"{job['trial']}.json", job["trial"], launched.run_dir, job["target"])
    except PlastilabError as exc:
        result.update(state="failed", error=str(exc))
    except KeyboardInterrupt:
        result.update(state="interrupted")
    except Exception as exc:  # a bug in one trial must not stop the study; the ledger keeps it
        result.update(state="failed", error=f"{type(exc).__name__}: {exc}")
    result["seconds"] = round(time.time() - started, 3)
    result["cpu_seconds"] = round(time.process_time() - cpu_started, 3)
    return result
