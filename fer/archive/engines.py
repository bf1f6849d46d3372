"""Where the archive task runs: a pool of local processes, or Ray tasks on a cluster.

Both call :func:`fer.archive.task.analyze_input` on each job and hand each summary row to
``on_result(job, row)`` in the main process as it comes; neither knows what the task does.
"""

import concurrent.futures
import logging
import multiprocessing
import os
import queue
import signal

from .task import analyze_input

log = logging.getLogger(__name__)

RAY_VERSION_HINT = "ray==2.60.0"

_progress = None
_stop = None


class MissingEngine(ValueError):
    """An engine whose package is not installed; the message says how to install it."""


def run_local(jobs, workers, on_result, on_frames=lambda frames: None):
    """Run the jobs in ``workers`` processes; each loads the recognizer once, on its first job.

    Ctrl+C sets a stop flag that every worker checks between frames: each drops the table it
    was writing, the jobs not started are cancelled, and ``KeyboardInterrupt`` goes on up.
    """
    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold threads
    progress, stop, started = context.Queue(), context.Event(), context.Value("i", 0)
    pool = concurrent.futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                                                  initargs=(progress, stop, started, workers))
    futures = {pool.submit(_run_job, job): job for job in jobs}
    pending = set(futures)
    try:
        while pending:
            done, pending = concurrent.futures.wait(pending, timeout=0.25,
                                                    return_when=concurrent.futures.FIRST_COMPLETED)
            _drain(progress, on_frames)
            for future in done:
                on_result(futures[future], future.result())
        _drain(progress, on_frames)
    except BaseException:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        # Tables that were finished while the workers stopped are whole: record them too.
        for future in pending:
            if future.done() and not future.cancelled() and future.exception() is None:
                on_result(futures[future], future.result())
        raise
    pool.shutdown(wait=True)


def _start_worker(progress, stop, started, workers):
    """In each worker: Ctrl+C is the main process's to handle; keep the progress queue and stop flag;
    run on a share of the cores of its own."""
    from ..live.memory import limit_malloc_arenas

    global _progress, _stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with started.get_lock():
        index, started.value = started.value, started.value + 1
    _own_cores(index, workers)
    limit_malloc_arenas()  # before the model's threads first allocate
    _progress, _stop = progress, stop


def _own_cores(index, workers):
    """Pin worker ``index`` of ``workers`` to its share of the usable cores.

    Decoding, detection and the model each spread over every core they see: two workers that
    both see both cores of a two-core machine fight over them and gain little. With a share
    each, the threads of each library follow (they size themselves by the cores usable).
    """
    if workers < 2 or not hasattr(os, "sched_setaffinity"):
        return
    cores = sorted(os.sched_getaffinity(0))
    share = cores[index % workers::workers] or [cores[index % len(cores)]]
    os.sched_setaffinity(0, share)


def _run_job(job):
    """The task in a worker, reporting frames to the main process and heeding its stop flag."""
    return analyze_input(job, progress=_progress.put, should_stop=_stop.is_set)


def _drain(progress, on_frames):
    """Pass on the frame counts the workers reported since the last call."""
    while True:
        try:
            frames = progress.get_nowait()
        except queue.Empty:
            return
        on_frames(frames)


def run_ray(jobs, on_result, address=None, workers=None):
    """Run the jobs as Ray tasks: on the cluster at ``address``, or on a local Ray started and
    stopped here with ``workers`` CPUs. Ctrl+C cancels the tasks still running."""
    try:
        import ray
    except ImportError:
        raise MissingEngine(f"--engine ray needs Ray: pip install '{RAY_VERSION_HINT}'") from None
    started_here = not ray.is_initialized()
    if started_here:
        options = {"address": address} if address else {"num_cpus": workers, "include_dashboard": False}
        ray.init(log_to_driver=False, configure_logging=False, **options)
    task = ray.remote(num_cpus=1)(analyze_input)
    running = {task.remote(job): job for job in jobs}
    try:
        while running:
            done, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
            for reference in done:
                on_result(running.pop(reference), ray.get(reference))
    except BaseException:
        for reference in running:
            ray.cancel(reference)  # KeyboardInterrupt in the task: it drops its partial table
        raise
    finally:
        if started_here:
            ray.shutdown()
