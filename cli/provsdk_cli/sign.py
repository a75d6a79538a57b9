"""``provsdk sign``: embed and sign a manifest into an existing audio file."""

from __future__ import annotations

from pathlib import Path

import click

from provsdk.credentials import Role, TrustStore, load_signer
from provsdk.disclosure import load_disclosure_token
from provsdk.errors import ConfigurationError
from provsdk.grants import load_grant_token
from provsdk.manifest.build import ManifestSpec
from provsdk.models.origin import DigitalSourceType, SoftwareAgent
from provsdk.sign import sign_file
from provsdk_cli.context import home_of, stdout
from provsdk_cli.options import (
    open_repository_for,
    register,
    repository_option,
    statement_options,
    tsa_option,
)
from provsdk_cli.progress import ProgressBar, quiet_option
from provsdk_cli.render import shown

_SOURCE_TYPES = [t.short for t in DigitalSourceType]
_SOURCE_TYPE_HELP = (
    "How the audio was made (IPTC digital source type). Required when SOURCE carries no "
    "manifest; ignored when it does (its origin is stated there, and the new manifest only "
    f"records opening it). One of {DigitalSourceType.choices()}."
)


@click.command()
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="Signed output file.")
@click.option(
    "--in-place", is_flag=True, help="Replace SOURCE with its signed version, atomically."
)
@click.option(
    "--source-type",
    type=click.Choice(_SOURCE_TYPES),
    metavar="TYPE",
    help=_SOURCE_TYPE_HELP,
)
@click.option(
    "--generator",
    help="Name of the program that made the audio; required for the AI source types "
    f"({', '.join(t.short for t in DigitalSourceType if t.is_ai_generated)}). "
    "Ignored, like --source-type, when SOURCE carries a manifest.",
)
@click.option("--generator-version", help="The generator's version (default: not stated).")
@click.option("--title", help="Manifest title (default: the output's file name).")
@statement_options
@click.option("--key", type=click.Path(dir_okay=False), help="Producer private key (PEM).")
@click.option(
    "--cert", type=click.Path(dir_okay=False), help="Producer certificate chain (PEM, leaf first)."
)
@tsa_option("the manifest")
@repository_option
@click.option(
    "--no-soft-binding",
    is_flag=True,
    help="Leave the soft binding (the sound's fingerprint and ISCC code) out of the manifest: "
    "saves a decoding pass, but a copy that loses its manifest cannot find it again.",
)
@quiet_option
@click.pass_context
def sign(
    ctx: click.Context,
    source: str,
    out: str | None,
    in_place: bool,
    source_type: str | None,
    generator: str | None,
    generator_version: str | None,
    title: str | None,
    disclosure: str | None,
    grants: tuple[str, ...],
    key: str | None,
    cert: str | None,
    tsa_url: str | None,
    repository: str | None,
    no_soft_binding: bool,
    quiet: bool,
) -> None:
    """Sign SOURCE into OUT with a C2PA manifest.

    Credentials: --key/--cert, else $PROVSDK_SIGNING_KEY/$PROVSDK_SIGNING_CERT, else the
    producer key of PROVSDK_HOME. A SOURCE with no manifest needs --source-type (and, for an
    AI type, --generator): nothing is claimed about its origin that you did not state. A
    SOURCE that already carries a manifest becomes the parent ingredient of the new one.
    """
    if (out is None) == (not in_place):
        raise click.UsageError("give either -o OUT or --in-place")
    if generator_version is not None and generator is None:
        raise ConfigurationError("--generator-version needs --generator: the version of what?")
    dest = Path(source) if in_place else Path(out or "")
    # The spec refuses an AI type without a generator (the library's rule); this only parses.
    spec = ManifestSpec(
        title=title or dest.name,
        source_type=DigitalSourceType.parse(source_type) if source_type else None,
        software_agent=SoftwareAgent(generator, generator_version) if generator else None,
        disclosure=load_disclosure_token(disclosure) if disclosure else None,
        grants=tuple(load_grant_token(g) for g in grants),
    )
    signer = load_signer(Role.PRODUCER, key=key, cert=cert, home=home_of(ctx))
    anchors = TrustStore.from_home(Role.PRODUCER, home_of(ctx))
    if no_soft_binding and repository:
        raise click.UsageError(
            "--repository registers the soft binding that --no-soft-binding leaves out"
        )
    repo = open_repository_for(repository)
    with ProgressBar(quiet=quiet) as bar:
        result = sign_file(
            source,
            dest,
            spec,
            signer,
            in_place=in_place,
            anchors=anchors,
            tsa_url=tsa_url,
            progress=bar,
            soft_binding=not no_soft_binding,
        )
    console = stdout()
    where = "" if result.sidecar is None else f" in {shown(result.sidecar)}"
    console.print(
        f"Signed {shown(result.path)} ({result.audio.format}, manifest "
        f"{result.manifest_size} bytes{where}) as {shown(result.signer_subject)}"
    )
    if result.strategy_note and result.sidecar is not None:
        console.print(result.strategy_note)
    elif result.strategy_note:
        # The file is signed all the same; say why it took the slower, whole-file path.
        console.print(f"signed in memory by c2pa's own writer: {result.strategy_note}")
    if result.soft_binding_note:
        console.print(
            f"no soft binding (it cannot be found again by its sound): {result.soft_binding_note}"
        )
    if repo is not None and repository:
        register(repo, [result.path], repository)
    if result.parent and (source_type or generator):
        console.print(
            f"{shown(source)} already carried a manifest, which states how its audio was made: the "
            "new one records opening it, and --source-type/--generator were not recorded"
        )
