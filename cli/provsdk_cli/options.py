"""Option types shared by several commands."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from provsdk.credentials import Role, Signer
    from provsdk.credentials.trust import TrustConfig
    from provsdk.verify.policy import Policy

__all__ = [
    "CheckDate",
    "SignTo",
    "credential_options",
    "statement_options",
    "statement_signing",
    "trust_and_policy",
    "tsa_option",
]


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
# What a statement-signing command is handed: call it with "signer -> JWS" and it does the rest.
SignTo = Callable[[Callable[["Signer"], str]], None]


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


def tsa_option(what: str) -> Callable[[F], F]:
    """``--tsa-url``: an RFC 3161 time-stamp authority that countersigns ``what``."""
    return click.option(
        "--tsa-url",
        envvar="PROVSDK_TSA_URL",
        help=f"RFC 3161 time-stamp authority to timestamp {what}, so it still verifies after "
        "its certificate expires (default: $PROVSDK_TSA_URL).",
    )


def repository_option(f: F) -> F:
    """``--repository``: where signed files are registered under their sound."""
    return click.option(
        "--repository",
        envvar="PROVSDK_REPOSITORY",
        metavar="PATH_OR_URL",
        help="Register each signed file's manifest under its sound in this manifest repository "
        "(a SQLite file from `provsdk repo init`, or a URL), so a copy that loses its manifest "
        "can find it again with `verify --repository` (default: $PROVSDK_REPOSITORY).",
    )(f)


def trust_and_policy(
    ctx: click.Context,
    anchors: Iterable[str],
    provider_anchors: Iterable[str],
    licensor_anchors: Iterable[str],
    tsa_anchors: Iterable[str],
    policy_file: str | None,
) -> tuple[TrustConfig, Policy]:
    """What a verifying command judges with: the home's trust stores plus the anchors its
    options add, and the policy file given (else the default policy)."""
    from provsdk.credentials.trust import TrustConfig
    from provsdk.verify import DEFAULT_POLICY, load_policy
    from provsdk_cli.context import home_of

    trust = TrustConfig.load(
        home_of(ctx),
        producer_anchors=anchors,
        provider_anchors=provider_anchors,
        licensor_anchors=licensor_anchors,
        timestamp_anchors=tsa_anchors,
    )
    return trust, load_policy(policy_file) if policy_file else DEFAULT_POLICY


def open_repository_for(where: str | None) -> Any:
    """The repository ``--repository`` names, opened before any work, or None."""
    if not where:
        return None
    import os

    from provsdk.repository import open_repository

    # A repository behind `provsdk serve` takes the same API keys as its generations.
    return open_repository(where, api_key=os.environ.get("PROVSDK_REPOSITORY_API_KEY"))


def register(repository: Any, paths: Iterable[Path], where: str) -> None:
    """Register each signed file in ``repository``, one line each on stdout."""
    from provsdk.registration import register_file
    from provsdk_cli.context import stdout
    from provsdk_cli.render import shown

    console = stdout()
    for path in paths:
        done = register_file(repository, path)
        console.print(f"registered {shown(str(path))} as {shown(done.manifest)} in {shown(where)}")


def statement_signing(role: Role) -> Callable[[F], F]:
    """The arguments of ``grant sign`` and ``disclosure sign``: DOCUMENT, -o, credentials, TSA.

    The command receives ``document`` and a ``sign_to(out, make_token)`` keyword: give it a
    function from the loaded signer to a JWS and it signs, timestamps, writes and reports.
    """

    def decorate(f: F) -> F:
        @click.argument("document", type=click.Path(dir_okay=False))
        @click.option("-o", "--out", required=True, type=click.Path(dir_okay=False))
        @credential_options(role.value.capitalize())
        @tsa_option("the signature")
        @click.pass_context
        @functools.wraps(f)
        def command(
            ctx: click.Context,
            document: str,
            out: str,
            key: str | None,
            cert: str | None,
            tsa_url: str | None,
        ) -> Any:
            def sign_to(make_token: Callable[[Signer], str]) -> None:
                # Here, not at the top: a command's --help need not load keys, JOSE or rich.
                from provsdk.credentials import load_signer
                from provsdk.jws import timestamp_statement
                from provsdk_cli.context import home_of, stdout
                from provsdk_cli.documents import write_text
                from provsdk_cli.render import shown

                signer = load_signer(role, key=key, cert=cert, home=home_of(ctx), use_env=False)
                token = make_token(signer)
                write_text(out, timestamp_statement(token, tsa_url) if tsa_url else token)
                stdout().print(
                    f"Signed {shown(out)} as {shown(signer.leaf.subject.rfc4514_string())}"
                )

            return f(document=document, sign_to=sign_to)

        return command  # type: ignore[return-value]

    return decorate
