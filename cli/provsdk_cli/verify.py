"""``provsdk verify``: is the file intact, who signed it, is it AI-generated, does it pass."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from provsdk.errors import InputError, ProvsdkError, UnsupportedFormatError
from provsdk_cli.options import CheckDate


def _error_entry(path: str, exc: ProvsdkError) -> dict[str, Any]:
    code = "input.unsupported" if isinstance(exc, UnsupportedFormatError) else "input.unreadable"
    return {
        "path": path,
        "verdict": "fail",
        "c2pa": {"state": "Absent"},
        "reasons": [f"{code}: {exc.message}"],
        "error": str(exc),
    }


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--trust-anchors",
    "anchors",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="PEM file of extra producer trust anchors (repeatable).",
)
@click.option(
    "--provider-anchors",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="PEM file of extra AI-provider trust anchors, for disclosures (repeatable).",
)
@click.option(
    "--licensor-anchors",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="PEM file of extra licensor trust anchors, for rights grants (repeatable).",
)
@click.option(
    "--tsa-anchors",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="PEM file of extra time-stamp authority anchors (repeatable).",
)
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False), help="TOML policy file.")
@click.option(
    "--at", type=CheckDate(), help="Judge grants and statement certificates at this date."
)
@click.option(
    "--repository",
    envvar="PROVSDK_REPOSITORY",
    metavar="PATH_OR_URL",
    help="Look a file with no manifest up by its sound in this manifest repository (a SQLite "
    "file, or a URL: the only case that uses the network). Default: $PROVSDK_REPOSITORY.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with a files list.")
@click.option("--junit", type=click.Path(dir_okay=False), help="Also write a JUnit XML report.")
@click.pass_context
def verify(
    ctx: click.Context,
    paths: tuple[str, ...],
    anchors: tuple[str, ...],
    provider_anchors: tuple[str, ...],
    licensor_anchors: tuple[str, ...],
    tsa_anchors: tuple[str, ...],
    policy_file: str | None,
    at: dt.datetime | None,
    repository: str | None,
    as_json: bool,
    junit: str | None,
) -> None:
    """Verify the credentials of FILEs, or of the audio files in DIRs. Offline.

    Exit 0 when every file passes, 1 when one fails, 2 when one cannot be read.
    """
    # Here, not at the top: `provsdk verify --help` (and completion) need none of it.
    from provsdk.credentials.trust import TrustConfig
    from provsdk.sign.atomic import check_destination
    from provsdk.verify import DEFAULT_POLICY, expand_paths, load_policy, verify_file
    from provsdk_cli.context import home_of, stdout
    from provsdk_cli.junit import write_junit
    from provsdk_cli.render import dump_json, error_line, print_report

    if junit:
        check_destination(Path(junit))  # fail now, not after verifying a whole catalogue
    trust = TrustConfig.load(
        home_of(ctx),
        producer_anchors=anchors,
        provider_anchors=provider_anchors,
        licensor_anchors=licensor_anchors,
        timestamp_anchors=tsa_anchors,
    )
    policy = load_policy(policy_file) if policy_file else DEFAULT_POLICY
    from provsdk_cli.options import open_repository_for

    repo = open_repository_for(repository)  # a missing or broken one fails before any file
    console = stdout()
    entries: list[dict[str, Any]] = []
    worst = 0
    files = list(expand_paths(paths))
    if not files:
        raise InputError("no audio files found", path=paths[0])
    for path in files:
        try:
            report = verify_file(path, trust=trust, policy=policy, at=at, repository=repo)
        except InputError as exc:
            click.echo(error_line(exc), err=True)
            entries.append(_error_entry(str(path), exc))
            worst = max(worst, 2)
            continue
        entries.append(report.to_dict())
        worst = max(worst, 0 if report.passed else 1)
        if not as_json:
            print_report(console, report)
    if as_json:
        click.echo(dump_json({"files": entries, "passed": worst == 0}))
    if junit:
        write_junit(Path(junit), entries)
    ctx.exit(worst)
