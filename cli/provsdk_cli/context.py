"""What every command takes from the group: the home folder and the debug flag."""

from __future__ import annotations

import click
from rich.console import Console

from provsdk.home import ProvsdkHome

__all__ = ["home_of", "stdout"]


def home_of(ctx: click.Context) -> ProvsdkHome:
    return ProvsdkHome((ctx.obj or {}).get("home"))


def stdout() -> Console:
    # Wide enough that paths and subjects are not folded mid-word when piped.
    return Console(soft_wrap=True, highlight=False)
