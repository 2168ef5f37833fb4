"""The one worker pool: ordered, bounded, process-parallel work (batch, impact, bulk).

    for result in ordered_map(check, chunks(items, 1024), setup=partial(Engine, policies), workers=2):
        ...

Each worker builds its state once with `setup()` (an Engine, a pair of engines...), then
runs `task(state, item, *args())` for the items it is given; results come back in input
order. At most a few items per worker are in flight (Pool.imap would read all input
ahead), so memory stays bounded for any input size. Workers are forked on Linux (they
start at once and inherit what the parent holds) and spawned elsewhere, as macOS and
Windows do: then `setup` and `task` are pickled, so they must be module-level functions
(or `functools.partial`s of them) with picklable arguments.

A `setup` that fails does not make the pool respawn workers forever: the error is kept
and raised by the first task, so it reaches the caller.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.pool import AsyncResult
from typing import Any, TypeVar

S = TypeVar("S")  # a worker's state
T = TypeVar("T")  # one item of work
R = TypeVar("R")  # its result

IN_FLIGHT_PER_WORKER = 3

_STATE: Any = None  # this worker's state (set by _start in each worker process)
_SETUP_ERROR: BaseException | None = None


def _start(setup: Callable[[], object]) -> None:
    """Pool initializer. It must not raise: a failing initializer makes Pool respawn forever."""
    global _STATE, _SETUP_ERROR
    try:
        _STATE = setup()
    except BaseException as exc:  # raised by the first task, in the parent
        _SETUP_ERROR = exc


def _run(task: Callable[..., R], item: object, args: tuple[object, ...]) -> R:
    if _SETUP_ERROR is not None:
        raise _SETUP_ERROR
    return task(_STATE, item, *args)


def ordered_map(task: Callable[..., R], items: Iterable[T], *, setup: Callable[[], S], workers: int,
                args: Callable[[], tuple[object, ...]] = tuple) -> Iterator[R]:
    """`task(state, item, *args())` for every item in `workers` processes; results in input order.

    `task` takes the worker's state (what `setup()` returned), the item, then `args()`, which
    is called in this process as each item is handed out (so it can depend on results so far).
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    import multiprocessing

    method = "fork" if sys.platform.startswith("linux") else "spawn"
    context = multiprocessing.get_context(method)
    window = workers * IN_FLIGHT_PER_WORKER
    with context.Pool(workers, initializer=_start, initargs=(setup,)) as pool:
        pending: deque[AsyncResult[R]] = deque()
        for item in items:
            pending.append(pool.apply_async(_run, (task, item, args())))
            if len(pending) >= window:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of `size` items (the last one shorter), read lazily."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
