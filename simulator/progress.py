"""Progress of a long run, counted where replications are submitted.

``tierline plan`` runs many batches of replications (Erlang start,
adjusting rounds, trimming, the frontier), and how many is only known at
the end. Rather than thread a callback through every planner function, the
planner's executor is wrapped: each finished replication ticks the bar,
whichever stage submitted it, and results are exactly those of the
unwrapped executor (the same seeds, in the same order).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, ParamSpec, TypeVar

__all__ = ["CountingExecutor"]

P = ParamSpec("P")
T = TypeVar("T")


class CountingExecutor(Executor):
    """Runs on ``inner`` (or inline when None) and calls ``tick(1)`` as each task finishes."""

    def __init__(self, inner: Executor | None, tick: Callable[[int], Any]) -> None:
        self._inner = inner
        self._tick = tick

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        if self._inner is not None:
            future = self._inner.submit(fn, *args, **kwargs)
            future.add_done_callback(lambda _f: self._tick(1))
            return future
        done: Future[T] = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future, as a pool does
            done.set_exception(exc)
        self._tick(1)
        return done

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """The inner executor belongs to whoever made it: it is not shut down here."""
