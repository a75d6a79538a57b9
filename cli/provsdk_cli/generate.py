"""``provsdk generate``: a track from a prompt, or a batch from a CSV, signed and verified."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import click

from provsdk.audio.formats import AudioFormat, format_for_name
from provsdk.batch import BatchResult, read_batch, run_batch
from provsdk.client import AsyncClient, Client
from provsdk.disclosure import load_disclosure_token
from provsdk.grants import load_grant_token
from provsdk.models.track import Track
from provsdk.providers import provider_names
from provsdk_cli.context import home_of, stdout
from provsdk_cli.options import (
    open_repository_for,
    register,
    repository_option,
    statement_options,
    tsa_option,
)
from provsdk_cli.progress import BATCH, ProgressBar, quiet_option
from provsdk_cli.render import dump_json, error_line, print_report, shown


def _track_json(track: Track) -> dict[str, Any]:
    return {
        "path": str(track.path),
        "format": track.format.extension,
        "duration": track.duration,
        "seed": track.generation.seed,
        "request_id": track.generation.request_id,
        "report": track.report.to_dict(),
    }


@click.command()
@click.argument("prompt", required=False)
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="Output file.")
@click.option(
    "--provider",
    default="local",
    show_default=True,
    help=f"Generator ({', '.join(provider_names())}).",
)
@click.option("--endpoint", help="Base URL of a licensed-generator server (provider http).")
@click.option("--api-key", help="API key for the provider (default: its environment variable).")
@click.option("--model", help="Provider model (default: the provider's default).")
@click.option("--licensee", help="Who the output is for (providers that issue grants).")
@click.option(
    "--duration", default=30.0, show_default=True, type=click.FloatRange(0.5, 3600), help="Seconds."
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 1),
    help="Same prompt, seed and duration give the same audio.",
)
@click.option(
    "--format",
    "fmt",
    # From AudioFormat, so that a format the SDK learns is one the command offers.
    type=click.Choice([f.extension for f in AudioFormat], case_sensitive=False),
    help=(
        "Output format (default: from the output's suffix; wav in batches). "
        + ", ".join(f.extension for f in AudioFormat if not f.embeds)
        + " keep their manifest in a .c2pa sidecar beside the file."
    ),
)
@click.option("--no-prompt", is_flag=True, help="Leave the prompt out of the manifest.")
@statement_options
@click.option(
    "--batch",
    type=click.Path(dir_okay=False),
    help="CSV of rows to generate (prompt[,out,duration,seed,format,licensee]).",
)
@click.option("--out-dir", type=click.Path(file_okay=False), help="Folder for batch outputs.")
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--force", is_flag=True, help="Replace an existing OUT (atomically).")
@tsa_option("each manifest")
@repository_option
@quiet_option
@click.pass_context
def generate(
    ctx: click.Context,
    prompt: str | None,
    out: str | None,
    provider: str,
    endpoint: str | None,
    api_key: str | None,
    model: str | None,
    licensee: str | None,
    duration: float,
    seed: int | None,
    fmt: str | None,
    no_prompt: bool,
    disclosure: str | None,
    grants: tuple[str, ...],
    batch: str | None,
    out_dir: str | None,
    concurrency: int,
    as_json: bool,
    force: bool,
    tsa_url: str | None,
    repository: str | None,
    quiet: bool,
) -> None:
    """Generate PROMPT into OUT with a signed C2PA manifest, then verify it.

    With --batch, generate every row of a CSV into --out-dir, --concurrency at a time: rows
    that fail are reported (exit 3) and the others kept. Re-running skips a row whose output
    verifies and was made from that row (prompt, duration, format, provider, and the seed
    and model when given; a row without a seed matches any), and regenerates the others,
    saying why; the old file stays unless its replacement verifies.
    """
    options = {k: v for k, v in (("endpoint", endpoint), ("api_key", api_key)) if v}
    repo = open_repository_for(repository)  # a missing repository fails before any generation
    common: dict[str, Any] = {
        "home": home_of(ctx),
        "include_prompt": not no_prompt,
        "provider_options": options,
        "tsa_url": tsa_url,
    }
    embed: dict[str, Any] = {
        "disclosure": load_disclosure_token(disclosure) if disclosure else None,
        "grants": [load_grant_token(g) for g in grants],
    }
    if batch is not None:
        if prompt is not None or out is not None or out_dir is None:
            raise click.UsageError("--batch takes --out-dir, and no PROMPT or -o")
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        default = format_for_name(fmt) if fmt else AudioFormat.WAV
        items = read_batch(batch, out_dir, fmt=default, duration=duration, model=model)
        client = AsyncClient(provider, **common)
        # Closes the provider when the batch ends, however it ends: after the event loop, since
        # the provider outlives each row's.
        with contextlib.closing(client):
            _ = client.signer, client.trust  # a missing key fails once, not once a row
            results = _run_batch(client, items, concurrency, as_json, quiet)
        made = [r.track.path for r in results if r.track and r.status != "skipped"]
        if repo is not None and repository and made:
            register(repo, made, repository)
        failed = [r for r in results if r.status == "failed"]
        ctx.exit(3 if failed else 0)
    if prompt is None or out is None:
        raise click.UsageError("give a PROMPT and -o OUT (or --batch CSV --out-dir DIR)")
    if not force and Path(out).is_file():
        # Before anything is generated (a special file is refused as such by the signer);
        # with --force the signer replaces the file by a rename.
        click.echo(error_line(f"{out}: already exists; give --force to replace it"), err=True)
        ctx.exit(2)
    with Client(provider, **common) as single, ProgressBar(quiet=quiet) as bar:
        track = single.generate(
            prompt,
            out=Path(out),
            duration=duration,
            seed=seed,
            format=fmt,
            model=model,
            licensee=licensee,
            progress=bar,
            **embed,
        )
    if as_json:
        click.echo(dump_json(_track_json(track)))
    else:
        console = stdout()
        console.print(
            f"Generated {track.duration:.1f} s of {track.format} at {track.sample_rate} Hz "
            f"(provider {shown(track.generation.provider)}, seed {track.generation.seed})"
        )
        print_report(console, track.report)
    if repo is not None and repository and track.report.passed:
        register(repo, [track.path], repository)
    ctx.exit(0 if track.report.passed else 1)


def _run_batch(
    client: AsyncClient, items: list[Any], concurrency: int, as_json: bool, quiet: bool
) -> list[BatchResult]:
    finished: list[BatchResult] = []

    def on_result(result: BatchResult) -> None:
        finished.append(result)
        bar(BATCH, len(finished), len(items))

    # The bar goes to stderr so that --json output on stdout stays a clean document.
    with ProgressBar(quiet=quiet) as bar:
        results = asyncio.run(
            run_batch(client, items, concurrency=concurrency, on_result=on_result)
        )
    if as_json:
        click.echo(
            dump_json(
                {
                    "rows": [
                        {
                            "row": r.item.row,
                            "out": str(r.item.out),
                            "status": r.status,
                            "reason": r.reason,
                            "error": r.error,
                            "seed": r.track.generation.seed if r.track else None,
                        }
                        for r in results
                    ]
                }
            )
        )
    else:
        console = stdout()
        for r in results:
            why = f" ({shown(r.reason)})" if r.reason else ""
            detail = f": {shown(r.error)}" if r.error else ""
            console.print(
                f"row {r.item.row:>4}  {r.status:<11} {shown(str(r.item.out))}{why}{detail}"
            )
        statuses = ("generated", "regenerated", "skipped", "failed")
        counts = {s: sum(r.status == s for r in results) for s in statuses}
        console.print(", ".join(f"{n} {s}" for s, n in counts.items()))
    for r in results:
        if r.status == "failed":
            click.echo(error_line(f"{r.item.out}: row {r.item.row}: {r.error}"), err=True)
    return results
