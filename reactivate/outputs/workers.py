"""The pool of processes that shares a large run's outputs (the RM workbooks, the report's charts).

A worker writes its files straight into the run's staging folder (:func:`put`: never outside it) and
sends back only their names, so the bytes are not pickled back to the writer. This module imports
only the standard library, so that a worker that makes workbooks starts in a moment.

The writer waits for every job before the swap (:func:`results`); a worker's error ends the run as
one in the writer would (the staged outputs are removed, the previous ones kept), and a worker that
dies is an :class:`~reactivate.errors.OutputError`.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from reactivate.errors import OutputError, ReactivateError

#: at most this many worker processes (one per core)
MAX_WORKERS = 4


def worker_count() -> int:
    """How many processes :func:`worker_pool` starts: one per core, at most :data:`MAX_WORKERS`."""
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def worker_pool(stack: contextlib.ExitStack):
    """A pool of :func:`worker_count` processes, shut down with ``stack`` (jobs not started are cancelled,
    running ones finish first: nothing writes into a staging folder once it is removed). None on a
    single core."""
    jobs = worker_count()
    if jobs == 1:
        return None
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    # forkserver: never fork a process that holds OpenMP or Arrow threads
    pool = ProcessPoolExecutor(jobs, mp_context=mp.get_context("forkserver"), initializer=_ignore_interrupt)
    stack.callback(pool.shutdown, wait=True, cancel_futures=True)
    return pool


def _ignore_interrupt() -> None:
    """A worker ignores Ctrl-C (sent to the whole process group): the writer stops the pool and removes
    the staged outputs, and no worker prints a traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def results(futures) -> list:
    """The result of each of ``futures``, in order, once each is done. A worker's
    :class:`~reactivate.errors.ReactivateError` is raised here as it was; a worker that died is an
    :class:`~reactivate.errors.OutputError`."""
    from concurrent.futures.process import BrokenProcessPool

    out = []
    for future in futures:  # one per job
        try:
            out.append(future.result())
        except ReactivateError as exc:
            raise exc.with_traceback(None) from None
        except BrokenProcessPool:
            raise OutputError("a process writing the outputs stopped unexpectedly (out of memory?); "
                              "the previous outputs are kept") from None
    return out


def put(root: str, rel: str, data: bytes, out: str) -> None:
    """Write ``data`` as ``rel`` (a relative path with ``/``, no ``..``) in the staging folder ``root``, its
    folder made; ``out`` (the outputs folder) names the file in an error, as the writer's own writes do."""
    parts = rel.split("/")
    if rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise OutputError(f"{Path(out) / rel}: not a path inside the outputs folder")
    path = os.path.join(root, *parts)
    try:
        if len(parts) > 1:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise OutputError(f"{Path(out) / rel}: cannot write ({exc.strerror or exc})") from None
