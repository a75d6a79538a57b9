"""``provsdk disclosure``: write, sign, show training-data disclosures; prove one track."""

from __future__ import annotations

import json

import click

from provsdk.credentials import Role, TrustConfig
from provsdk.disclosure import (
    InclusionProof,
    TrainingList,
    check_disclosure,
    check_inclusion,
    create_disclosure,
    load_disclosure,
    sign_disclosure,
)
from provsdk.errors import InputError
from provsdk.models.disclosure import TRAINING_BASES, Dataset, Disclosure
from provsdk_cli.context import home_of, stdout
from provsdk_cli.documents import read_json, write_text
from provsdk_cli.options import SignTo, statement_signing
from provsdk_cli.render import dump_json, show_statement, shown

_DATASET_KEYS = {"name", "basis", "licensor", "licence", "size", "url"}


def _dataset(text: str) -> Dataset:
    fields = dict(part.split("=", 1) for part in text.split(",") if "=" in part)
    unknown = set(fields) - _DATASET_KEYS
    if unknown or "name" not in fields or "basis" not in fields:
        raise click.BadParameter(
            f"{text!r}: give name=...,basis=... and optionally licensor=, licence=, size=, url="
        )
    if fields["basis"] not in TRAINING_BASES or fields["basis"] == "none":
        raise click.BadParameter(f"basis must be one of {', '.join(TRAINING_BASES[1:])}")
    return Dataset(**fields)


@click.group()
def disclosure() -> None:
    """Training-data disclosures, signed by the model's provider."""


@disclosure.command("create")
@click.option("--provider", required=True, help="Provider name.")
@click.option("--model", required=True, help="Model name.")
@click.option("--model-version", required=True, help="Model version.")
@click.option("--modality", "modalities", multiple=True, default=["audio"], show_default=True)
@click.option("--size", help="Size of the training data, as you would state it.")
@click.option(
    "--dataset",
    "datasets",
    multiple=True,
    help="name=...,basis=...[,licensor=,licence=,size=,url=]",
)
@click.option("--crawled", is_flag=True, help="Crawled web data was used.")
@click.option("--crawled-licensed", is_flag=True, help="...and it was covered by licences.")
@click.option("--crawl-from", help="First crawl date.")
@click.option("--crawl-to", help="Last crawl date.")
@click.option("--crawl-domain", "domains", multiple=True, help="Main crawled domain (repeatable).")
@click.option("--user-data", help="User data was used: how.")
@click.option("--synthetic-data", help="Synthetic data was used: how.")
@click.option("--private-data", help="Other private data was used: how.")
@click.option(
    "--opt-out/--no-opt-out", default=True, show_default=True, help="TDM opt-outs respected."
)
@click.option("--opt-out-measures", help="How opt-outs were respected.")
@click.option("--latest-collection", help="Latest data collection date.")
@click.option("--summary-url", help="URL of the full public summary.")
@click.option(
    "--summary-file", type=click.Path(dir_okay=False), help="The summary document, to hash."
)
@click.option(
    "--training-list",
    type=click.Path(dir_okay=False),
    help="Track list (one per line) to commit to.",
)
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False))
def create(
    out: str,
    provider: str,
    model: str,
    model_version: str,
    modalities: tuple[str, ...],
    size: str | None,
    datasets: tuple[str, ...],
    crawled: bool,
    crawled_licensed: bool,
    crawl_from: str | None,
    crawl_to: str | None,
    domains: tuple[str, ...],
    user_data: str | None,
    synthetic_data: str | None,
    private_data: str | None,
    opt_out: bool,
    opt_out_measures: str | None,
    latest_collection: str | None,
    summary_url: str | None,
    summary_file: str | None,
    training_list: str | None,
) -> None:
    """Write a disclosure (JSON, following the EU AI Act public summary sections)."""
    if summary_url and not summary_file:
        raise click.UsageError("--summary-url needs --summary-file (its SHA-256 is committed)")
    d = create_disclosure(
        provider=provider,
        model=model,
        model_version=model_version,
        modalities=modalities,
        size=size,
        datasets=[_dataset(t) for t in datasets],
        crawled=crawled,
        crawled_licensed=crawled_licensed,
        crawl_from=crawl_from,
        crawl_to=crawl_to,
        crawl_domains=domains,
        user_data=user_data,
        synthetic_data=synthetic_data,
        private_data=private_data,
        opt_out=opt_out,
        opt_out_measures=opt_out_measures,
        latest_collection=latest_collection,
        summary_url=summary_url,
        summary_file=summary_file,
        training_list=training_list,
    )
    write_text(out, dump_json(d.to_dict()))
    stdout().print(f"Wrote {shown(out)}: {shown(d.summary())}")


@disclosure.command("sign")
@statement_signing(Role.PROVIDER)
def sign(document: str, sign_to: SignTo) -> None:
    """Sign a disclosure with the provider key (default: PROVSDK_HOME's provider key)."""
    d = Disclosure.from_dict(read_json(document))
    sign_to(lambda signer: sign_disclosure(d, signer))


@disclosure.command("show")
@click.argument("signed", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show(ctx: click.Context, signed: str, as_json: bool) -> None:
    """Verify a signed disclosure against the provider trust store and show it."""
    read = load_disclosure(signed)
    trust = TrustConfig.load(home_of(ctx))
    checked = check_disclosure(read, trust.provider, timestamps=trust.timestamp)
    d = checked.disclosure
    ctx.exit(show_statement("disclosure", d.to_dict(), d.summary(), checked.check, as_json))


@disclosure.command("prove")
@click.option(
    "--list",
    "track_list",
    required=True,
    type=click.Path(dir_okay=False),
    help="The full track list.",
)
@click.option("--entry", required=True, help="The track to prove, as written in the list.")
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False))
def prove(track_list: str, entry: str, out: str) -> None:
    """Write an inclusion proof that ENTRY is in the committed training list."""
    tracks = TrainingList.from_file(track_list)
    try:
        proof = tracks.prove(entry)
    except LookupError:
        raise InputError(f"{entry!r} is not in the list", path=track_list) from None
    write_text(out, dump_json(proof.to_dict()))
    stdout().print(
        f"Wrote {shown(out)}: entry {proof.index + 1} of {proof.count}, root {proof.root}"
    )


@disclosure.command("verify-proof")
@click.option("--disclosure", "signed", required=True, type=click.Path(dir_okay=False))
@click.option("--proof", required=True, type=click.Path(dir_okay=False))
@click.pass_context
def verify_proof(ctx: click.Context, signed: str, proof: str) -> None:
    """Check a proof against the commitment in a trusted, signed disclosure (exit 0 or 1)."""
    read = load_disclosure(signed)
    trust = TrustConfig.load(home_of(ctx))
    try:
        inclusion = InclusionProof.from_dict(read_json(proof))
    except ValueError as exc:
        raise InputError(f"not a valid proof: {exc}", path=proof) from None
    verdict = check_inclusion(
        read, inclusion, trust.provider, timestamps=trust.timestamp, source=signed
    )
    out = stdout()
    if not verdict.trusted:
        out.print("[red]the disclosure is not signed by a trusted provider[/red]")
    said = "is" if verdict.included else "is NOT shown to be"
    model = shown(verdict.model)
    out.print(f"{shown(json.dumps(verdict.entry))} {said} in the training list of {model}")
    ctx.exit(0 if verdict.passed else 1)
