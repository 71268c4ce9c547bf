"""An event loop on a daemon thread, for providers that answer the solver synchronously.

The resolver asks its provider one question at a time and waits; the provider's fetches run
concurrently on this loop, started ahead of the questions (prefetching). Shared by the PubGrub
providers that fetch (PyPI, RubyGems, Composer).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, TypeVar

from tuskops.errors import PackageError

__all__ = ["BackgroundLoop"]

_T = TypeVar("_T")


class BackgroundLoop:
    """``submit`` coroutines from any thread; ``close`` once (idempotent)."""

    def __init__(self, name: str, what: str) -> None:
        #: How errors name the owner ("the PyPI provider").
        self.what = what
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()
        #: No more submissions (an owner may set it early, under its own lock).
        self.closed = False
        self._stopped = False

    def submit(self, coro: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
        if self.closed:
            coro.close()
            raise PackageError(f"{self.what} is closed")
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def wait(
        self,
        future: concurrent.futures.Future[_T],
        report: Callable[[], None] | None,
        interval: float,
    ) -> _T:
        """``future.result()``, calling ``report`` every ``interval`` seconds while waiting."""
        if report is None:
            return future.result()
        while True:
            report()
            try:
                return future.result(interval)
            except concurrent.futures.TimeoutError:
                continue

    def close(
        self,
        pending: Iterable[concurrent.futures.Future[Any]] = (),
        shutdown: Coroutine[Any, Any, object] | None = None,
    ) -> None:
        """Cancel ``pending``, run ``shutdown`` (closing clients) on the loop, then stop the
        loop and its thread."""
        self.closed = True
        if self._stopped:
            if shutdown is not None:
                shutdown.close()
            return
        self._stopped = True
        for future in pending:
            future.cancel()
        try:
            if shutdown is not None:
                asyncio.run_coroutine_threadsafe(shutdown, self.loop).result(30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(30)
            self.loop.close()
