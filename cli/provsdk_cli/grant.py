"""``provsdk grant``: write, sign, show and attach written rights grants."""

from __future__ import annotations

import glob
from pathlib import Path

import click

from provsdk.attach import attach_grant
from provsdk.credentials import Role, TrustConfig, load_signer
from provsdk.errors import InputError
from provsdk.grants import create_grant, load_grant, sign_grant
from provsdk.jws import check_statement
from provsdk.models.grant import ACTIONS, PURPOSES, Grant
from provsdk.verify import expand_paths
from provsdk_cli.context import home_of, stdout
from provsdk_cli.documents import read_json, write_text
from provsdk_cli.options import (
    SignTo,
    credential_options,
    open_repository_for,
    register,
    repository_option,
    statement_signing,
    tsa_option,
)
from provsdk_cli.progress import ProgressBar, quiet_option
from provsdk_cli.render import dump_json, show_statement, shown


@click.group()
def grant() -> None:
    """Written rights grants (W3C ODRL agreements), signed by the licensor."""


@grant.command("create")
@click.option("--licensor", required=True, help="Who grants the rights.")
@click.option("--licensee", required=True, help="Who receives them.")
@click.option(
    "--purpose",
    "purposes",
    multiple=True,
    required=True,
    help=f"One of {', '.join(PURPOSES)} (repeatable).",
)
@click.option(
    "--territory",
    "territories",
    multiple=True,
    default=["WORLD"],
    show_default=True,
    help="ISO 3166-1 alpha-2 country code, e.g. US or GB, or WORLD (repeatable).",
)
@click.option("--from", "since", help="First day in force (default: from signing).")
@click.option("--until", help="Last day in force (not in the past, unless --allow-past).")
@click.option("--allow-past", is_flag=True, help="Allow an --until already past (an expired term).")
@click.option(
    "--action",
    default="use",
    show_default=True,
    type=click.Choice(sorted(ACTIONS)),
    help="The ODRL action permitted: use (any), or a narrower one such as play or reproduce.",
)
@click.option(
    "--channel", "channels", multiple=True, help="Channel or medium, e.g. streaming (repeatable)."
)
@click.option(
    "--target", "target", type=click.Path(dir_okay=False), help="The one recording covered."
)
@click.option("--scope-model", help="Or: every output of this model made for the licensee.")
@click.option(
    "--prohibit",
    "prohibited",
    multiple=True,
    help="A purpose (as --purpose) the licensee may not use it for (repeatable).",
)
@click.option("--attribution", help="Credit line the licensee must give.")
@click.option("--indemnification", help="Indemnification terms.")
@click.option(
    "--document", type=click.Path(dir_okay=False), help="The signed contract (e.g. a PDF) to bind."
)
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False))
def create(
    licensor: str,
    licensee: str,
    purposes: tuple[str, ...],
    territories: tuple[str, ...],
    since: str | None,
    until: str | None,
    allow_past: bool,
    action: str,
    channels: tuple[str, ...],
    target: str | None,
    scope_model: str | None,
    prohibited: tuple[str, ...],
    attribution: str | None,
    indemnification: str | None,
    document: str | None,
    out: str,
) -> None:
    """Write a grant (ODRL Agreement, JSON-LD) for signing by the licensor."""
    g = create_grant(
        licensor=licensor,
        licensee=licensee,
        purposes=purposes,
        territories=territories,
        since=since,
        until=until,
        allow_past=allow_past,
        channels=channels,
        target_file=target,
        scope_model=scope_model,
        action=action,
        prohibited=prohibited,
        attribution=attribution,
        indemnification=indemnification,
        document=document,
    )
    write_text(out, dump_json(g.to_odrl()))
    stdout().print(f"Wrote {shown(out)}: {shown(_describe(g))}")


def _describe(g: Grant) -> str:
    term = f"until {g.valid_until}" if g.valid_until else "with no end date"
    where = ", ".join(g.territories()) or "anywhere"
    uses = ", ".join(g.purposes())
    actions = ", ".join(sorted({p.action for p in g.permissions}))
    return f"{g.assigner.name} grants {g.assignee.name} {actions} for {uses} in {where}, {term}"


@grant.command("sign")
@statement_signing(Role.LICENSOR)
def sign(document: str, sign_to: SignTo) -> None:
    """Sign a grant with the licensor key (default: PROVSDK_HOME's licensor key)."""
    g = Grant.from_odrl(read_json(document), source=document)
    sign_to(lambda signer: sign_grant(g, signer))


@grant.command("show")
@click.argument("signed", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show(ctx: click.Context, signed: str, as_json: bool) -> None:
    """Verify a signed grant against the licensor trust store and show its terms."""
    read = load_grant(signed)
    trust = TrustConfig.load(home_of(ctx))
    check = check_statement(read.statement, trust.licensor, timestamps=trust.timestamp)
    ctx.exit(show_statement("grant", read.grant.to_odrl(), _describe(read.grant), check, as_json))


def _inputs(patterns: tuple[str, ...]) -> list[Path]:
    """Files, folders (their audio files) and quoted globs such as 'assets/**/*.wav'."""
    found: list[Path] = []
    for pattern in patterns:
        if not Path(pattern).exists() and glob.has_magic(pattern):
            matches = sorted(glob.glob(pattern, recursive=True))  # noqa: PTH207 - patterns may be absolute
            if not matches:
                raise InputError("matches no file", path=pattern)
            found.extend(expand_paths(matches))
        else:
            found.extend(expand_paths([pattern]))
    return found


@grant.command("attach")
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--grant",
    "grant_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="Signed grant (JWS).",
)
@click.option(
    "--document", type=click.Path(dir_okay=False), help="The contract the grant binds, to embed."
)
@click.option("-o", "--out", type=click.Path(), help="Output file, or folder for several files.")
@click.option("--in-place", is_flag=True, help="Replace each file, atomically.")
@credential_options("Producer")
@tsa_option("each new manifest")
@repository_option
@quiet_option
@click.pass_context
def attach(
    ctx: click.Context,
    files: tuple[str, ...],
    grant_file: str,
    document: str | None,
    out: str | None,
    in_place: bool,
    key: str | None,
    cert: str | None,
    tsa_url: str | None,
    repository: str | None,
    quiet: bool,
) -> None:
    """Attach a signed grant to FILEs: a new manifest on top of each file's history.

    Credentials: --key/--cert, else $PROVSDK_SIGNING_KEY/$PROVSDK_SIGNING_CERT, else
    PROVSDK_HOME's producer key. Attaching a grant a file already carries changes nothing.
    """
    if in_place == (out is not None):
        raise click.UsageError("give either -o OUT or --in-place")
    home = home_of(ctx)
    signed = load_grant(grant_file)
    signer = load_signer(Role.PRODUCER, key=key, cert=cert, home=home)
    repo = open_repository_for(repository)
    with ProgressBar(quiet=quiet) as bar:
        results = attach_grant(
            _inputs(files),
            signed,
            signer=signer,
            trust=TrustConfig.load(home),
            out=out,
            in_place=in_place,
            contract=document,
            tsa_url=tsa_url,
            progress=bar,
        )
    console = stdout()
    for r in results:
        what = "attached" if r.attached else "already there, unchanged"
        console.print(f"{shown(str(r.output))}: grant {what} ({r.grants} in all)")
    if repo is not None and repository:
        register(repo, [r.output for r in results], repository)
