"""``provsdk inspect``: the manifest store exactly as c2pa reads it."""

from __future__ import annotations

import click

from provsdk.credentials import Role, TrustStore
from provsdk.verify.inspect import inspect_file
from provsdk_cli.context import home_of, stdout
from provsdk_cli.render import dump_json, shown


@click.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print c2pa's manifest store JSON.")
@click.pass_context
def inspect(ctx: click.Context, path: str, as_json: bool) -> None:
    """Show the C2PA manifest store of FILE as c2pa reads it (offline).

    The validation state uses the producer trust store of PROVSDK_HOME; no policy is applied.
    """
    anchors = TrustStore.from_home(Role.PRODUCER, home_of(ctx))
    inspected = inspect_file(path, anchors)
    if as_json:
        click.echo(dump_json({"path": path, **inspected.document}))
        return
    store = inspected.store
    if store is None:
        stdout().print(f"{shown(path)}: no C2PA manifest")
        return
    info = inspected.audio
    out = stdout()
    out.print(f"[bold]{shown(path)}[/bold] ({info.format}, state {store.state.value})")
    for label, manifest in store.manifests.items():
        active = " (active)" if store.active and label == store.active.label else ""
        out.print(f"  manifest {shown(label)}{active}: {shown(manifest.title or '')}")
        signer = manifest.certificate.subject.get("CN") if manifest.certificate else None
        alg = shown((manifest.algorithm or "?").upper())
        out.print(f"    signed by {shown(signer or '?')} ({alg})")
        if manifest.timestamped_at:
            by = shown(manifest.timestamp_authority or "?")
            out.print(f"    timestamped {shown(manifest.timestamped_at)} by {by}")
        for name, _ in manifest.assertions:
            out.print(f"    assertion {shown(name)}")
        for ingredient in manifest.ingredients:
            codes = sorted({shown(f.code) for f in ingredient.failures})
            checked = f"[red]failed: {', '.join(codes)}[/red]" if codes else "verified when added"
            relation = shown(ingredient.relationship)
            out.print(
                f"    ingredient {shown(ingredient.title or '?')} ({relation}, "
                f"{checked}) -> {shown(ingredient.active_manifest or 'no manifest')}"
            )
    for entry in store.failures:
        out.print(f"  [red]failure[/red] {shown(entry.code)}: {shown(entry.explanation)}")
