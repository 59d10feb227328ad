"""Where trials run: a pool of local worker processes (default) or Ray tasks (``--executor ray``).

Both take the same job dicts and hand back ``run_trial``'s result dicts; the scheduler in
``runner`` never knows which one it drives. ``stop`` asks every running trial to end (it then
ends as ``interrupted``, its files closed); ``kill`` ends them at once (a second Ctrl-C).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from plastilab.core.control import RunControl
from plastilab.core.errors import ScenarioError
from plastilab.studies.population_job import run_job  # one trial, or a population of them

_STOP: Any = None  # the pool's shared stop event, inside a worker
_BUSY = threading.Event()


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


# -- local pool --------------------------------------------------------------------------------
def _init_pool_worker(stop_event: Any, parent_pid: int) -> None:
    global _STOP
    _STOP = stop_event
    # Ctrl-C reaches the whole process group; the scheduler turns it into one stop for everybody,
    # so a worker must not die of it half-way through writing its run folder. SIGTERM and SIGHUP
    # reach the group too (`timeout`, `kill -TERM -PGID`, a closed terminal): they are that stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for number in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(number) != signal.SIG_IGN:  # nohup: SIGHUP stays ignored
            signal.signal(number, _stop_the_trials)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


def _stop_the_trials(signum, frame) -> None:
    _STOP.set()  # the running trial ends interrupted at its next event, its files closed


def _watch_parent(parent_pid: int) -> None:
    """If the scheduler dies (kill -9), stop the running trial (it ends interrupted), then exit."""
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    _STOP.set()
    while _BUSY.is_set():
        time.sleep(0.2)
    os._exit(0)


def _pool_run(job: dict[str, Any]) -> dict[str, Any]:
    _BUSY.set()
    try:
        return run_job(job, RunControl(stop=_STOP))
    finally:
        _BUSY.clear()


class LocalPool:
    """Spawned worker processes (a fresh interpreter each: no inherited torch threads or locks)."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self._context = mp.get_context("spawn")
        self.capacity = workers or default_workers()
        self._stop = self._context.Event()
        self._pool = self._new_pool()
        self._futures: dict[Any, str] = {}

    def _new_pool(self):
        return ProcessPoolExecutor(
            max_workers=self.capacity, mp_context=self._context, initializer=_init_pool_worker, initargs=(self._stop, os.getpid())
        )

    def describe(self) -> str:
        return f"local pool, {self.capacity} worker{'s' if self.capacity != 1 else ''}"

    def submit(self, job: dict[str, Any]) -> None:
        # A worker that died (the OOM killer's SIGKILL) breaks the whole pool: every later submit
        # would raise and end the study. Its trial is reported as failed (``wait``); the pool is
        # made again here and the study goes on.
        if getattr(self._pool, "_broken", False):
            self._rebuild()
        try:
            future = self._pool.submit(_pool_run, job)
        except BrokenProcessPool:
            self._rebuild()
            future = self._pool.submit(_pool_run, job)
        self._futures[future] = job["trial"]

    def _rebuild(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()

    def wait(self, timeout: float) -> list[tuple[str, dict[str, Any] | None]]:
        if not self._futures:
            time.sleep(timeout)
            return []
        done, _ = wait(list(self._futures), timeout=timeout, return_when=FIRST_COMPLETED)
        finished = []
        for future in done:
            trial = self._futures.pop(future)
            try:
                finished.append((trial, future.result()))
            except Exception as exc:  # the worker process died (killed, out of memory): no result
                finished.append((trial, worker_died(exc)))
        return finished

    def stop(self) -> None:
        self._stop.set()

    def kill(self) -> None:
        for process in list(getattr(self._pool, "_processes", {}).values()):
            if process.is_alive():
                process.kill()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def worker_died(exc: BaseException) -> dict[str, Any] | None:
    """A trial's result when its future raised: None (the run folder tells what happened), with
    ``worker_died`` when the pool broke under it (its process was killed: the trial failed)."""
    return {"worker_died": True} if isinstance(exc, BrokenProcessPool) else None


# -- Ray ---------------------------------------------------------------------------------------
def _ray_run(job: dict[str, Any]) -> dict[str, Any]:
    import ray  # deferred: Ray is an optional extra, loaded only by --executor ray

    result = run_job(job)  # ray.cancel raises KeyboardInterrupt here; the driver ends the run interrupted
    # What Ray gave the task (CPU, and the GPU share a CUDA population asked for), for the record.
    result["resources"] = ray.get_runtime_context().get_assigned_resources()
    return result


class RayExecutor:
    """One Ray task per trial or population (one CPU each, and ``num_gpus`` when the job asks for
    GPUs); ``address`` joins a cluster, None starts a local Ray."""

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        try:
            import ray  # deferred: Ray is an optional extra, loaded only by --executor ray
        except ImportError:
            raise ScenarioError("--executor ray: Ray is not installed; pip install 'plastilab[ray]'") from None
        self._ray = ray
        self._started_here = not ray.is_initialized()
        if self._started_here:
            options: dict[str, Any] = {"include_dashboard": False, "logging_level": "WARNING", "log_to_driver": False}
            if address:
                ray.init(address=address, **options)
            else:
                ray.init(num_cpus=workers or default_workers(), **options)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.capacity = min(workers, cpus) if (workers and address) else max(1, cpus)
        self._address = address
        self._remote = ray.remote(num_cpus=1, max_retries=0)(_ray_run)
        self._refs: dict[Any, str] = {}

    def describe(self) -> str:
        where = f"cluster at {self._address}" if self._address else "local instance"
        return f"Ray {where}, {self.capacity} CPU{'s' if self.capacity != 1 else ''}"

    def submit(self, job: dict[str, Any]) -> None:
        # A CUDA population asks for its share of cards, so a GPU cluster places it on one.
        remote = self._remote.options(num_gpus=job["num_gpus"]) if job.get("num_gpus") else self._remote
        self._refs[remote.remote(job)] = job["trial"]

    def wait(self, timeout: float) -> list[tuple[str, dict[str, Any] | None]]:
        if not self._refs:
            time.sleep(timeout)
            return []
        ready, _ = self._ray.wait(list(self._refs), num_returns=len(self._refs), timeout=timeout)
        finished = []
        for ref in ready:
            trial = self._refs.pop(ref)
            try:
                finished.append((trial, self._ray.get(ref)))
            except Exception:  # cancelled or the worker died: the scheduler reads the run folder
                finished.append((trial, None))
        return finished

    def stop(self) -> None:
        for ref in list(self._refs):
            self._ray.cancel(ref, force=False)

    def kill(self) -> None:
        for ref in list(self._refs):
            self._ray.cancel(ref, force=True)

    def close(self) -> None:
        if self._started_here:
            self._ray.shutdown()


def make_executor(name: str, address: str | None = None, workers: int | None = None):
    if name == "local":
        if address:
            raise ScenarioError("--address: only for --executor ray; drop it or add --executor ray")
        return LocalPool(workers)
    if name == "ray":
        return RayExecutor(address, workers)
    raise ScenarioError(f"--executor: found {name!r}; allowed: local, ray")
