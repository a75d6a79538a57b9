"""``provsdk export``: verified files in the formats a studio's partners read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from provsdk_cli.verify import verify as _verify

F = TypeVar("F", bound=Callable[..., Any])
_SHARED = ("anchors", "provider_anchors", "licensor_anchors", "tsa_anchors", "policy_file", "at")


class Dpid(click.ParamType[str]):
    """A DDEX Party Identifier, checked before any file is verified."""

    name = "dpid"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from provsdk.errors import InvalidArgumentError
        from provsdk.export.ddex import MessageParty

        try:
            return MessageParty(str(value)).dpid
        except InvalidArgumentError as exc:
            self.fail(exc.message, param, ctx)


def _party_options(role: str, note: str) -> Callable[[F], F]:
    """``--ROLE DPID`` (required; default: $PROVSDK_DDEX_ROLE) and ``--ROLE-name NAME``."""
    env = f"PROVSDK_DDEX_{role.upper()}"

    def decorate(f: F) -> F:
        f = click.option(f"--{role}-name", help=f"The {role}'s name{'; ' if note else ''}{note}.")(
            f
        )
        return click.option(
            f"--{role}",
            required=True,
            envvar=env,
            type=Dpid(),
            help=f"The {role}'s DDEX Party Identifier (default: ${env}).",
        )(f)

    return decorate


@click.group()
def export() -> None:
    """Export verified files for distributors (DDEX)."""


@export.command("ddex")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False), help="Message file.")
@click.option(
    "--schema",
    required=True,
    envvar="PROVSDK_DDEX_SCHEMA",
    type=click.Path(exists=True, dir_okay=False),
    help="The ERN 4.3.2 release-notification.xsd (beside DDEX's allowed-value-sets.xsd) the "
    "message is validated against before it is written (default: $PROVSDK_DDEX_SCHEMA).",
)
@_party_options("sender", "also the release's label")
@_party_options("recipient", "")
@click.option("--title", help="The release's title (default: the only track's, or 'N recordings').")
@click.option("--genre", default="Unknown", show_default=True, help="The release's genre.")
@click.pass_context
def ddex(
    ctx: click.Context,
    paths: tuple[str, ...],
    out: str,
    schema: str,
    sender: str,
    sender_name: str | None,
    recipient: str,
    recipient_name: str | None,
    title: str | None,
    genre: str,
    anchors: tuple[str, ...],
    provider_anchors: tuple[str, ...],
    licensor_anchors: tuple[str, ...],
    tsa_anchors: tuple[str, ...],
    policy_file: str | None,
    at: dt.datetime | None,
) -> None:
    """Write the verified FILEs (or the audio files in DIRs) as one DDEX ERN 4.3.2 release.

    Each SoundRecording carries the AI disclosure its trusted manifest states (ContainsAI, a
    GenerativeAI contributor with its AiContribution, the model and provider, the provider's
    training-data disclosure). A file that fails verification is named on stderr and left out.
    Exit 0 when every file was exported; 1 when one was left out (the others are still
    written) or none passed (nothing is written); 2 on a usage error.
    """
    # Here, not at the top: `provsdk export --help` needs none of it.
    from provsdk.errors import InputError
    from provsdk.export.ddex import MessageParty, export_ddex
    from provsdk.verify import expand_paths
    from provsdk_cli.context import stdout
    from provsdk_cli.options import trust_and_policy
    from provsdk_cli.render import error_line, shown

    trust, policy = trust_and_policy(
        ctx, anchors, provider_anchors, licensor_anchors, tsa_anchors, policy_file
    )
    files = list(expand_paths(paths))
    if not files:
        raise InputError("no audio files found", path=paths[0])
    result = export_ddex(
        files,
        Path(out),
        sender=MessageParty(sender, sender_name),
        recipient=MessageParty(recipient, recipient_name),
        schema=schema,
        trust=trust,
        policy=policy,
        at=at,
        title=title,
        genre=genre,
    )
    for rejected in result.rejected:
        click.echo(error_line(f"{rejected.path}: not exported: {rejected.reason}"), err=True)
    if result.written is None:
        click.echo(error_line(f"no file passed verification; {out} was not written"), err=True)
        ctx.exit(1)
    count = len(result.recordings)
    stdout().print(
        f"Wrote {shown(out)}: {count} sound recording{'s' if count != 1 else ''}, "
        f"message {shown(result.message_id)}"
    )
    ctx.exit(0 if result.complete else 1)


# The trust and policy options are verify's own objects, so the two commands cannot drift.
ddex.params.extend(p for p in _verify.params if p.name in _SHARED)
