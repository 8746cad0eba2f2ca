"""Progress display for long operations (save, restore, managedsave, volume transfers).

virsh's ``--verbose`` prints ``\\rSave: [ 42 %]`` on standard error while a
job runs and ``\\rSave: [100 %]`` when it succeeds (each update starts with a
newline instead when standard error is not a terminal); the caller's final
message then starts with a newline that ends the progress line. virtcore
does the same, and turns the display on by default when standard error is a
terminal (``-q`` turns it off).

:func:`run_job` runs an operation on a worker thread and polls a progress
callback until it finishes; :class:`TransferProgress` reports byte counts
of stream transfers driven by the caller.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from virtcore.cli.context import Ctx

__all__ = ["TransferProgress", "progress_enabled", "run_job"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

POLL_INTERVAL = 0.5


def progress_enabled(ctx: Ctx, verbose: bool) -> bool:
    """Whether to draw progress: ``--verbose``, or by default on a terminal."""
    if verbose:
        return True
    if ctx.quiet:
        return False
    return _isatty(ctx.err)


def _draw(ctx: Ctx, label: str, percent: int) -> None:
    ctx.out.flush()
    # On a terminal each update overwrites the line; elsewhere each is a line of its own.
    lead = "\r" if _isatty(ctx.err) else "\n"
    ctx.err.write(f"{lead}{label}: [{percent:3d} %]")
    ctx.err.flush()


def _isatty(stream: object) -> bool:
    check = getattr(stream, "isatty", None)
    try:
        return bool(check()) if callable(check) else False
    except ValueError:  # a closed stream
        return False


def run_job(
    ctx: Ctx,
    label: str,
    show: bool,
    work: Callable[[], T],
    poll: Callable[[], tuple[int, int] | None] | None = None,
) -> T:
    """Run *work* and return its result, drawing progress when *show* is set.

    *poll* returns ``(remaining, total)`` for the running job, or ``None``
    when the driver cannot tell; errors from *work* propagate unchanged and
    leave the progress line unfinished (as virsh does).
    """
    if not show:
        return work()
    outcome: list[T] = []
    failure: list[BaseException] = []
    done = threading.Event()

    def worker() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # re-raised on the calling thread
            failure.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=worker, name=f"virtcore-{label}", daemon=True)
    thread.start()
    while not done.wait(POLL_INTERVAL):
        figures = None
        if poll is not None:
            try:
                figures = poll()
            except Exception:
                logger.debug("progress of %s unavailable", label, exc_info=True)
        if figures is not None and figures[1] > 0:
            remaining, total = figures
            percent = min(99, int(100 - remaining * 100 / total))
            _draw(ctx, label, max(percent, 0))
    thread.join()
    if failure:
        raise failure[0]
    _draw(ctx, label, 100)
    return outcome[0]


class TransferProgress:
    """Progress of a stream transfer whose size is known up front."""

    def __init__(self, ctx: Ctx, label: str, total: int, show: bool) -> None:
        self.ctx = ctx
        self.label = label
        self.total = total
        self.show = show
        self.done = 0
        self._last = -1

    def advance(self, nbytes: int) -> None:
        """Record *nbytes* more transferred and redraw when the percentage changes."""
        self.done += nbytes
        if not self.show or self.total <= 0:
            return
        percent = min(99, self.done * 100 // self.total)
        if percent != self._last:
            self._last = percent
            _draw(self.ctx, self.label, percent)

    def finish(self) -> None:
        """Draw 100 % and end the line."""
        if self.show:
            _draw(self.ctx, self.label, 100)
            self.ctx.err.write("\n")
            self.ctx.err.flush()
