"""How long work reports how far it has got: a callable the caller passes in, or nothing.

The library never draws anything. The CLI turns these calls into a progress bar on a
terminal; a service can log them or ignore them. A callback that raises stops the work, and
the exception reaches the caller, with no half-written output left behind.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["RENDER", "SIGN", "Progress"]

# The tasks a callback hears about. ``done`` and ``total`` count frames for RENDER (rendering
# and encoding happen together, block by block) and bytes for SIGN (hashed and written).
RENDER = "render"
SIGN = "sign"


class Progress(Protocol):
    """Called with the task's name and how much of ``total`` is ``done``; ``total`` is 0 when
    unknown. Calls come from the thread doing the work, often, so a callback must be cheap."""

    def __call__(self, task: str, done: int, total: int) -> None: ...
