"""``provsdk generate``: a track from a prompt, signed and verified."""

from __future__ import annotations

from pathlib import Path

import click

from provsdk.client import Client
from provsdk.disclosure import load_disclosure_token
from provsdk.grants import load_grant_token
from provsdk.providers import provider_names
from provsdk_cli.context import home_of, stdout
from provsdk_cli.render import dump_json, print_report


@click.command()
@click.argument("prompt")
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False), help="Output file.")
@click.option(
    "--provider",
    default="local",
    show_default=True,
    help=f"Generator ({', '.join(provider_names())}).",
)
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
    type=click.Choice(["wav", "mp3", "flac", "m4a"]),
    help="Output format (default: from the output's suffix).",
)
@click.option("--no-prompt", is_flag=True, help="Leave the prompt out of the manifest.")
@click.option(
    "--disclosure",
    type=click.Path(dir_okay=False),
    help="Provider-signed disclosure (JWS) to embed instead of the provider's own.",
)
@click.option(
    "--grant",
    "grants",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Licensor-signed grant (JWS) to embed (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the track and its report as JSON.")
@click.pass_context
def generate(
    ctx: click.Context,
    prompt: str,
    out: str,
    provider: str,
    duration: float,
    seed: int | None,
    fmt: str | None,
    no_prompt: bool,
    disclosure: str | None,
    grants: tuple[str, ...],
    as_json: bool,
) -> None:
    """Generate PROMPT into OUT with a signed C2PA manifest, then verify it."""
    client = Client(provider, home=home_of(ctx), include_prompt=not no_prompt)
    track = client.generate(
        prompt,
        out=Path(out),
        duration=duration,
        seed=seed,
        format=fmt,
        disclosure=load_disclosure_token(disclosure) if disclosure else None,
        grants=[load_grant_token(g) for g in grants],
    )
    if as_json:
        click.echo(
            dump_json(
                {
                    "path": str(track.path),
                    "format": track.format.extension,
                    "duration": track.duration,
                    "seed": track.generation.seed,
                    "report": track.report.to_dict(),
                }
            )
        )
    else:
        console = stdout()
        console.print(
            f"Generated {track.duration:.1f} s of {track.format} at {track.sample_rate} Hz "
            f"(provider {track.generation.provider}, seed {track.generation.seed})"
        )
        print_report(console, track.report)
    ctx.exit(0 if track.report.passed else 1)
