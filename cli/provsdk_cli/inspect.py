"""``provsdk inspect``: the manifest store exactly as c2pa reads it."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.markup import escape

from provsdk.audio import probe
from provsdk.c2pa_access import UnreadableManifest, read_manifest_reports
from provsdk.credentials import Role, TrustStore
from provsdk.errors import InputError
from provsdk.manifest.read import parse_store
from provsdk_cli.context import home_of, stdout
from provsdk_cli.render import dump_json


@click.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print c2pa's manifest store JSON.")
@click.pass_context
def inspect(ctx: click.Context, path: str, as_json: bool) -> None:
    """Show the C2PA manifest store of FILE as c2pa reads it (offline).

    The validation state uses the producer trust store of PROVSDK_HOME; no policy is applied.
    """
    import c2pa

    info = probe(path)
    anchors = TrustStore.from_home(Role.PRODUCER, home_of(ctx))
    try:
        reports = read_manifest_reports(Path(path), info, anchors)
    except (c2pa.C2paError, UnreadableManifest) as exc:
        text = " ".join(str(exc).split())
        raise InputError(f"c2pa cannot read the manifest store: {text}", path=path) from None
    if reports is None:
        if as_json:
            click.echo(dump_json({"path": path, "manifests": {}, "active_manifest": None}))
        else:
            stdout().print(f"{escape(path)}: no C2PA manifest")
        return
    raw, cr = reports
    if as_json:
        click.echo(dump_json({"path": path, **json.loads(raw)}))
        return
    store = parse_store(raw, cr)
    out = stdout()
    out.print(f"[bold]{escape(path)}[/bold] ({info.format}, state {store.state.value})")
    for label, manifest in store.manifests.items():
        active = " (active)" if store.active and label == store.active.label else ""
        out.print(f"  manifest {escape(label)}{active}: {escape(manifest.title or '')}")
        signer = manifest.certificate.subject.get("CN") if manifest.certificate else None
        alg = (manifest.algorithm or "?").upper()
        out.print(f"    signed by {escape(signer or '?')} ({alg})")
        if manifest.timestamped_at:
            by = escape(manifest.timestamp_authority or "?")
            out.print(f"    timestamped {escape(manifest.timestamped_at)} by {by}")
        for name, _ in manifest.assertions:
            out.print(f"    assertion {escape(name)}")
        for ingredient in manifest.ingredients:
            codes = sorted({f.code for f in ingredient.failures})
            checked = f"[red]failed: {', '.join(codes)}[/red]" if codes else "verified when added"
            out.print(
                f"    ingredient {escape(ingredient.title or '?')} ({ingredient.relationship}, "
                f"{checked}) -> {escape(ingredient.active_manifest or 'no manifest')}"
            )
    for entry in store.failures:
        out.print(f"  [red]failure[/red] {escape(entry.code)}: {escape(entry.explanation)}")
