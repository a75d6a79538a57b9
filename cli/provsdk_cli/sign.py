"""``provsdk sign``: embed and sign a manifest into an existing audio file."""

from __future__ import annotations

from pathlib import Path

import click

from provsdk.credentials import Role, TrustStore, load_signer
from provsdk.disclosure import load_disclosure_token
from provsdk.grants import load_grant_token
from provsdk.manifest.build import ManifestSpec
from provsdk.models.origin import DigitalSourceType, SoftwareAgent
from provsdk.sign import sign_file
from provsdk_cli.context import home_of, stdout
from provsdk_cli.options import statement_options, tsa_option

_SOURCE_TYPES = [t.short for t in DigitalSourceType]


@click.command()
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="Signed output file.")
@click.option(
    "--in-place", is_flag=True, help="Replace SOURCE with its signed version, atomically."
)
@click.option(
    "--source-type",
    default="trainedAlgorithmicMedia",
    show_default=True,
    type=click.Choice(_SOURCE_TYPES),
    help="How the audio was made (IPTC digital source type).",
)
@click.option(
    "--generator",
    default="unknown",
    show_default=True,
    help="Name of the program that made the audio.",
)
@click.option("--generator-version", default="unknown", show_default=True, help="Its version.")
@click.option("--title", help="Manifest title (default: the output's file name).")
@statement_options
@click.option("--key", type=click.Path(dir_okay=False), help="Producer private key (PEM).")
@click.option(
    "--cert", type=click.Path(dir_okay=False), help="Producer certificate chain (PEM, leaf first)."
)
@tsa_option("the manifest")
@click.pass_context
def sign(
    ctx: click.Context,
    source: str,
    out: str | None,
    in_place: bool,
    source_type: str,
    generator: str,
    generator_version: str,
    title: str | None,
    disclosure: str | None,
    grants: tuple[str, ...],
    key: str | None,
    cert: str | None,
    tsa_url: str | None,
) -> None:
    """Sign SOURCE into OUT with a C2PA manifest.

    Credentials: --key/--cert, else $PROVSDK_SIGNING_KEY/$PROVSDK_SIGNING_CERT, else the
    producer key of PROVSDK_HOME. A SOURCE that already carries a manifest becomes the parent
    ingredient of the new one.
    """
    if (out is None) == (not in_place):
        raise click.UsageError("give either -o OUT or --in-place")
    dest = Path(source) if in_place else Path(out or "")
    signer = load_signer(Role.PRODUCER, key=key, cert=cert, home=home_of(ctx))
    spec = ManifestSpec(
        title=title or dest.name,
        source_type=DigitalSourceType.parse(source_type),
        software_agent=SoftwareAgent(generator, generator_version),
        disclosure=load_disclosure_token(disclosure) if disclosure else None,
        grants=tuple(load_grant_token(g) for g in grants),
    )
    anchors = TrustStore.from_home(Role.PRODUCER, home_of(ctx))
    result = sign_file(
        source, dest, spec, signer, in_place=in_place, anchors=anchors, tsa_url=tsa_url
    )
    stdout().print(
        f"Signed {result.path} ({result.audio.format}, manifest {result.manifest_size} bytes) "
        f"as {result.signer_subject}"
    )
