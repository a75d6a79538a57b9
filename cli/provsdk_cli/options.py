"""Option types shared by several commands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import click

__all__ = ["CheckDate", "credential_options", "statement_options"]


class CheckDate(click.ParamType[dt.datetime]):
    """``--at``: an ISO date (judged at the end of that day, UTC) or an ISO date-time."""

    name = "date"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        text = str(value)
        try:
            if "T" in text or " " in text:
                parsed = dt.datetime.fromisoformat(text)
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
            day = dt.date.fromisoformat(text)
        except ValueError:
            self.fail(f"{text!r} is not a date like 2030-12-31 or 2030-12-31T12:00:00Z", param, ctx)
        # A day is judged as a whole: terms ending that day are still in force at its end.
        return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.UTC)


F = TypeVar("F", bound=Callable[..., Any])


def credential_options(role: str) -> Callable[[F], F]:
    """``--key``/``--cert`` for a role's signing credential."""

    def decorate(f: F) -> F:
        f = click.option(
            "--cert",
            type=click.Path(dir_okay=False),
            help=f"{role} certificate chain (PEM, leaf first).",
        )(f)
        return click.option(
            "--key", type=click.Path(dir_okay=False), help=f"{role} private key (PEM)."
        )(f)

    return decorate


def statement_options(f: F) -> F:
    """``--disclosure``/``--grant``: signed statements to embed in the manifest."""
    f = click.option(
        "--grant",
        "grants",
        multiple=True,
        type=click.Path(dir_okay=False),
        help="Licensor-signed grant (JWS) to embed (repeatable).",
    )(f)
    return click.option(
        "--disclosure",
        type=click.Path(dir_okay=False),
        help="Provider-signed training-data disclosure (JWS) to embed.",
    )(f)
