"""One population, run inside a worker (a pool process or a Ray task): the merged run, then each
trial's probe-step file. A job with ``members`` is a population; any other job is one trial
(``trial.run_trial``).

Never raises: every trial comes back with its own result dict (as ``run_trial``'s), under
``trials``, so the scheduler writes one ledger row a trial and a failed trial stops neither its
neighbours nor the study.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from plastilab.core.errors import PlastilabError
from plastilab.core.events import RunFailed
from plastilab.core.registry import SCENARIO_KINDS
from plastilab.core.scenario_file import Scenario, validate_scenario
from plastilab.core.series_names import split_seeded_name
from plastilab.runtime.demux import PackedTrial
from plastilab.runtime.launcher import launch_population
from plastilab.studies.folder import CHECKPOINTS_DIR, TRIALS_DIR
from plastilab.studies.probe_steps import write_probe_steps
from plastilab.studies.trial import run_trial


def run_job(job: dict[str, Any], control: Any = None) -> dict[str, Any]:
    if job.get("members"):
        return run_population(job, control)
    return run_trial(job, control)


def population_job(key: str, members: list[dict[str, Any]], num_gpus: float | None = None) -> dict[str, Any]:
    """The job of a population: ``members`` are its trials' own jobs (``runner``'s job dicts)."""
    first = members[0]
    job = {"trial": key, "members": members, **{k: first[k] for k in ("study_dir", "target", "command")}}
    if num_gpus:
        job["num_gpus"] = num_gpus
    return job


def results_by_trial(key: str, result: dict[str, Any] | None, trial_ids: list[str]) -> list[tuple[str, dict[str, Any] | None]]:
    """An executor's answer for job ``key``, one (trial, result) a trial; None: no answer (the
    worker died or was cancelled: the scheduler reads each trial's run folder)."""
    if result is None or result.get("worker_died"):  # every trial of the job: its folder tells
        return [(trial_id, result) for trial_id in trial_ids]
    if "trials" not in result:
        return [(key, result)]
    return [(trial_id, result["trials"].get(trial_id)) for trial_id in trial_ids]


def run_population(job: dict[str, Any], control: Any = None) -> dict[str, Any]:
    started = time.time()
    cpu_started = time.process_time()
    members = job["members"]
    where = {"host": os.uname().nodename, "pid": os.getpid()}
    results = {m["trial"]: {"trial": m["trial"], **where} for m in members}
    renames: list[tuple[tuple[str, str], ...]] = [() for _ in members]
    try:
        study_dir = Path(job["study_dir"])
        merged, packed = _packed(job)
        renames = [trial.renames for trial in packed]
        launched = launch_population(merged, packed, study_dir / TRIALS_DIR, control=control, threads=job.get("threads"), command=job["command"])
        for member, one in zip(members, launched):
            result = results[member["trial"]]
            result.update(state=one.state, run_dir=str(one.run_dir.relative_to(study_dir)))
            if isinstance(one.end, RunFailed):
                result["error"] = one.end.error
            if one.state == "finished":
                write_probe_steps(study_dir / CHECKPOINTS_DIR / f"{member['trial']}.json", member["trial"], one.run_dir, job["target"])
    except PlastilabError as exc:  # before any folder (device, dataset, memory): every trial, in its own words
        _unset(results, renames, state="failed", error=str(exc))
    except KeyboardInterrupt:
        _unset(results, renames, state="interrupted")
    except Exception as exc:  # a bug must not stop the study; the ledger keeps it
        _unset(results, renames, state="failed", error=f"{type(exc).__name__}: {exc}")
    seconds = round(time.time() - started, 3)
    cpu_share = round((time.process_time() - cpu_started) / len(members), 3)  # each trial's share of the process
    for result in results.values():
        result.update(seconds=seconds, cpu_seconds=cpu_share, population=job["trial"])
    return {"trial": job["trial"], "trials": results}


def _packed(job: dict[str, Any]):
    """The merged scenario and each trial's place in it (the kind's ``merge``)."""
    configs = [validate_scenario(m["scenario"], m["source"]) for m in job["members"]]
    kind = SCENARIO_KINDS[configs[0].kind].load_population()
    name = configs[0].name  # the run's name never reaches a folder; each trial's own name does
    merged_raw, places = kind.merge(configs, name)
    merged = Scenario(None, validate_scenario(merged_raw, f"{job['members'][0]['source']} (its population)"))
    packed = []
    for config, place in zip(configs, places):
        merged_agent, own_agent = place.agent
        # The run's source is its name (no file), the first trial's: put each trial's own back.
        renames = [(name, config.name)]
        # Its series, and their names without the seed (a message of a seed's run names them so).
        series = {**{split_seeded_name(there)[0]: own for there, own in place.series.items()}, **place.series}
        renames += sorted(series.items(), key=lambda pair: len(pair[0]), reverse=True)
        renames.append((f"agents.{merged_agent}.", f"agents.{own_agent}."))
        packed.append(PackedTrial(Scenario(None, config), place.series, tuple(renames)))
    return merged, packed


def _unset(results: dict[str, dict[str, Any]], renames: list[tuple[tuple[str, str], ...]], **fields: Any) -> None:
    """``fields`` for every trial that has no end yet (an error put in each trial's own words)."""
    for result, pairs in zip(results.values(), renames):
        if "state" in result:
            continue
        own = dict(fields)
        if "error" in own:
            for old, new in pairs:
                own["error"] = own["error"].replace(old, new)
        result.update(own)
