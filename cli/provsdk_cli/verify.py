"""``provsdk verify``: is the file intact, who signed it, is it AI-generated, does it pass.

One file is verified in this process. Many are verified by an engine (worker processes on
this machine, or Ray) that yields one outcome per file, in order; this command only writes
out what each outcome carries (the text a worker rendered, the record) and counts, so memory
stays flat for any number of files: the ``--json`` array is written as it grows, JUnit cases
and HTML records are spooled to temporary files and read back at the end.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from provsdk.errors import InputError, ProvsdkError
from provsdk_cli.options import CheckDate

if TYPE_CHECKING:
    from provsdk.catalogue.task import CatalogueSettings, Job, Outcome, Renderer

# What a catalogue record adds to the ``verify --json`` entry (for resuming, for the HTML
# report); ``--json`` keeps the entry it always had.
_CATALOGUE_KEYS = ("file", "settings", "chain", "waveform", "waveform_error", "seal")


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
@click.option(
    "--manifest",
    "manifest",
    type=click.Path(dir_okay=False),
    metavar="PATH",
    help="The sidecar manifest store (.c2pa) of the one FILE, for formats that keep it apart "
    "(OGG, Opus, AIFF, CAF, WebM, MKA). Default: the .c2pa file beside it "
    "(track.ogg -> track.c2pa).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with a files list.")
@click.option("--junit", type=click.Path(dir_okay=False), help="Also write a JUnit XML report.")
@click.option(
    "--html",
    type=click.Path(dir_okay=False),
    help="Also write a self-contained HTML report (summary, table, each file's layers).",
)
@click.option(
    "--results",
    type=click.Path(dir_okay=False),
    help="Append one record per file to FILE.jsonl (or FILE.parquet, extra provsdk[parquet]) "
    "as it completes; a re-run with the same file verifies only what changed.",
)
@click.option(
    "--recheck", is_flag=True, help="With --results: verify every file again, changed or not."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    metavar="N",
    help="Files verified at once, each in its own process. Default: the number of cores.",
)
@click.option(
    "--order",
    type=click.Choice(["input", "finish"]),
    default="input",
    show_default=True,
    help="Show files in the order given, or as they finish.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "table"]),
    default="text",
    show_default=True,
    help="Each file's layers, or one row per file.",
)
@click.option(
    "-q", "--quiet", is_flag=True, help="Print only the files that fail, and the summary."
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Worker processes on this machine, or a Ray cluster (extra provsdk[ray]).",
)
@click.option(
    "--address", metavar="ADDR", help="With --engine ray: the cluster (default: a local Ray)."
)
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
    manifest: str | None,
    as_json: bool,
    junit: str | None,
    html: str | None,
    results: str | None,
    recheck: bool,
    workers: int | None,
    order: str,
    fmt: str,
    quiet: bool,
    engine: str,
    address: str | None,
) -> None:
    """Verify the credentials of FILEs, or of the audio files in DIRs. Offline.

    Exit 0 when every file passes, 1 when one fails, 2 when one cannot be read. Many files
    end with a count line: how many passed, and the first reason of those that failed.
    """
    if address and engine != "ray":
        raise click.UsageError("--address is for --engine ray")
    if engine == "ray" and order == "finish":
        raise click.UsageError("--order finish is for --engine local (Ray keeps input order)")
    if recheck and not results:
        raise click.UsageError("--recheck is for --results")
    if as_json and fmt == "table":
        raise click.UsageError("--json and --format table cannot be combined")
    if manifest and (len(paths) != 1 or Path(paths[0]).is_dir() or results):
        raise click.UsageError("--manifest is the sidecar of one FILE: no folder, no --results")
    if engine == "local" and (workers or os.cpu_count() or 1) > 1 and _many(paths):
        # First, before this command's own imports: the workers' server imports on the other
        # core meanwhile, and a pool forks ready workers from it.
        from provsdk.catalogue.forkserver import prestart

        prestart()
    # Here, not at the top: `provsdk verify --help` (and completion) need none of it.
    from provsdk.catalogue.summary import Summary
    from provsdk.catalogue.task import CatalogueSettings
    from provsdk.sign.atomic import check_destination
    from provsdk_cli.context import home_of, stdout
    from provsdk_cli.junit import JunitSpool
    from provsdk_cli.options import open_repository_for, trust_and_policy
    from provsdk_cli.progress import VERIFY, ProgressBar
    from provsdk_cli.render import renderer_for

    for report in (junit, html):
        if report:
            check_destination(Path(report))  # fail now, not after verifying a whole catalogue
    write_html = _html_writer() if html else None
    trust, policy = trust_and_policy(
        ctx, anchors, provider_anchors, licensor_anchors, tsa_anchors, policy_file
    )
    open_repository_for(repository)  # a missing or broken one fails before any file
    settings = CatalogueSettings.of(
        trust,
        policy,
        at=at,
        repository=repository or None,
        details=html is not None,
        digest=results is not None,
    )
    found = _files(paths, engine)
    first = next(found, None)
    if first is None:
        raise InputError("no audio files found", path=paths[0])
    files = chain([first], found)
    console = stdout()
    render = None if as_json or fmt == "table" else renderer_for(console, failures_only=quiet)
    log = _open_results(results, recheck, home_of(ctx))
    summary = Summary()
    out = _Output(as_json=as_json, table=fmt == "table", quiet=quiet)
    with contextlib.ExitStack() as spools:
        junit_cases = spools.enter_context(JunitSpool()) if junit else None
        html_records = spools.enter_context(_Spool()) if write_html else None
        complete = False
        try:
            with ProgressBar(above=True) as bar:
                counter = _Counter(paths, engine) if bar.enabled else None
                jobs = _jobs(files, settings, log, manifest)
                outcomes = _engine(engine, jobs, settings, render, workers, order, address)
                for done, outcome in enumerate(outcomes, 1):
                    record, resumed = _record_of(outcome, log)
                    summary.add(record, resumed=resumed)
                    out.file(outcome, record, resumed)
                    if junit_cases is not None:
                        junit_cases.add(record)
                    if html_records is not None:
                        html_records.add(record)
                    bar(VERIFY, done, counter.total if counter else 0)
            complete = True
        finally:
            if log is not None:
                log.close(complete=complete)
        out.end(summary, show=summary.files > 1 or results is not None)
        if junit and junit_cases is not None:
            junit_cases.write(Path(junit))
        if html and write_html is not None and html_records is not None:
            write_html(Path(html), html_records.records(), summary.to_dict())
    ctx.exit(summary.exit_status)


def _many(paths: tuple[str, ...]) -> bool:
    """Whether the run may have more than one file (a pool is never started for one)."""
    return len(paths) > 1 or Path(paths[0]).is_dir()


def _files(paths: Iterable[str], engine: str) -> Iterator[str | Path]:
    """The files of a run: folders walked; with Ray, URIs too (``s3://bucket/folder``)."""
    from provsdk.catalogue.remote import is_uri
    from provsdk.catalogue.walk import iter_files

    for path in paths:
        if not is_uri(path):
            yield from iter_files([path])
        elif engine == "ray":
            from provsdk.catalogue.remote import iter_uri_files

            yield from iter_uri_files(path)
        else:
            raise click.UsageError(f"{path}: remote objects are read by --engine ray")


def _html_writer() -> Any:
    # Imported first, so a missing HTML renderer fails before any file is verified.
    from provsdk.html_report import write_html_report

    return write_html_report


def _open_results(results: str | None, recheck: bool, home: Any) -> Any:
    if not results:
        return None
    from provsdk.catalogue.results import ResultsLog, results_key

    return ResultsLog.open(results, recheck=recheck, key=results_key(home))


def _jobs(
    files: Iterable[str | Path], settings: CatalogueSettings, log: Any, manifest: str | None
) -> Iterator[Job]:
    from provsdk.catalogue.task import Job

    for path in files:
        yield log.job(path, settings) if log is not None else Job(str(path), sidecar=manifest)


def _record_of(outcome: Outcome, log: Any) -> tuple[dict[str, Any], bool]:
    """The outcome's record (appended to the results file), or for an unchanged file the
    record a previous run made of it."""
    if outcome.unchanged:
        return log.previous(outcome.path), True
    assert outcome.record is not None
    if log is not None:
        log.append(outcome.record)
    return outcome.record, False


def _engine(
    engine: str,
    jobs: Iterator[Job],
    settings: CatalogueSettings,
    render: Renderer | None,
    workers: int | None,
    order: str,
    address: str | None,
) -> Iterator[Outcome]:
    if engine == "ray":
        from provsdk.catalogue.ray_engine import run_ray

        return run_ray(jobs, settings, address=address, render=render, workers=workers)
    from provsdk.catalogue.pool import run_local

    count = workers or os.cpu_count() or 1
    return run_local(jobs, settings, workers=count, render=render, ordered=order == "input")


class _Counter:
    """The number of files the run has, counted by a second walk beside the work, for the
    progress bar (0 until the count is done; only on a terminal)."""

    def __init__(self, paths: Iterable[str], engine: str) -> None:
        self.total = 0
        args = (list(paths), engine)
        threading.Thread(target=self._count, args=args, daemon=True).start()

    def _count(self, paths: list[str], engine: str) -> None:
        # The run itself meets the same paths and says what is wrong with them.
        with contextlib.suppress(click.UsageError, ProvsdkError, OSError):
            self.total = sum(1 for _ in _files(paths, engine))


class _Output:
    """What stdout shows: each file (text, a table row, or an element of the JSON array),
    then the summary."""

    def __init__(self, *, as_json: bool, table: bool, quiet: bool) -> None:
        self.as_json = as_json
        self.table = table
        self.quiet = quiet
        self.count = 0

    def file(self, outcome: Outcome, record: dict[str, Any], resumed: bool) -> None:
        from provsdk_cli.render import error_line

        if "error" in record:
            click.echo(error_line(record["error"]), err=True)
        failed = record.get("verdict") != "pass"
        if self.as_json:
            self._json_entry(record)
        elif self.table:
            if not self.quiet or failed:
                self._table_row(record)
        elif resumed:
            if not self.quiet or failed:
                from provsdk_cli.render import resumed_text

                click.echo(resumed_text(record), nl=False)
        elif outcome.text:
            click.echo(outcome.text, nl=False)

    def _table_row(self, record: dict[str, Any]) -> None:
        from provsdk_cli.render import TABLE_HEADER, table_row

        if not self.count:
            click.echo(TABLE_HEADER)
        self.count += 1
        click.echo(table_row(record))

    def _json_entry(self, record: dict[str, Any]) -> None:
        from provsdk_cli.render import dump_json

        entry = {k: v for k, v in record.items() if k not in _CATALOGUE_KEYS}
        # The layout json.dumps(indent=2) gives the whole object, written as it grows.
        text = _indented(dump_json(entry), "    ")
        click.echo(('{\n  "files": [\n' if not self.count else ",\n") + text, nl=False)
        self.count += 1

    def end(self, summary: Any, *, show: bool) -> None:
        from provsdk_cli.render import dump_json

        if self.as_json:
            passed = "true" if summary.exit_status == 0 else "false"
            click.echo(
                f'\n  ],\n  "passed": {passed},\n'
                f'  "summary": {_indented(dump_json(summary.to_dict()), "  ", first=False)}\n}}'
            )
        elif show:
            click.echo(summary.line())


def _indented(text: str, prefix: str, *, first: bool = True) -> str:
    lines = text.split("\n")
    return "\n".join(
        line if (i == 0 and not first) else prefix + line for i, line in enumerate(lines)
    )


class _Spool:
    """Records kept on disk as they come, read back one at a time (for the HTML report)."""

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None

    def add(self, record: dict[str, Any]) -> None:
        import json

        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115  # closed by __exit__
        self._file.write(json.dumps(record, ensure_ascii=True).encode() + b"\n")

    def records(self) -> Iterator[dict[str, Any]]:
        import json

        if self._file is None:
            return
        self._file.seek(0)
        for line in self._file:
            yield json.loads(line)

    def __enter__(self) -> _Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()  # a temporary file: closing removes it
