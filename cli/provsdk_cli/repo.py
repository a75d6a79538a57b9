"""``provsdk repo``: make and inspect the SQLite manifest repository (default
PROVSDK_HOME/repository.sqlite)."""

from __future__ import annotations

from pathlib import Path

import click

from provsdk.errors import ConfigurationError
from provsdk_cli.context import home_of, stdout
from provsdk_cli.render import dump_json, shown

# As the lead's --repository options read it: the same variable names the same repository.
_REPOSITORY_ENV = "PROVSDK_REPOSITORY"


def _local_path(ctx: click.Context, given: str | None) -> Path:
    from provsdk.repository import default_repository_location, is_url

    if given is not None and is_url(given):
        raise ConfigurationError(
            f"{given} is a served repository: `provsdk repo` works on a local file "
            "(the server's operator runs it where the file is)"
        )
    return Path(given) if given else default_repository_location(home_of(ctx))


_PATH = click.argument("path", required=False, envvar=_REPOSITORY_ENV, metavar="[PATH]")


@click.group()
def repo() -> None:
    """Manifest repositories: find a signed file's manifest again from its sound.

    PATH is a SQLite file; without one, $PROVSDK_REPOSITORY, else PROVSDK_HOME/repository.sqlite.
    `provsdk serve --repository PATH` serves one over the C2PA soft-binding API.
    """


@repo.command("init")
@_PATH
@click.pass_context
def init(ctx: click.Context, path: str | None) -> None:
    """Make an empty repository at PATH (an existing one is left as it is)."""
    from provsdk.repository.sqlite import SqliteRepository

    where = _local_path(ctx, path)
    existed = where.exists()
    with SqliteRepository(where, create=True) as made:
        count = made.stats().entries
    if existed:
        stdout().print(f"{shown(where)} is already a repository ({count} entries)")
    else:
        stdout().print(f"made the repository {shown(where)}")


@repo.command("stats")
@_PATH
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def stats(ctx: click.Context, path: str | None, as_json: bool) -> None:
    """How many manifests the repository at PATH holds, and its size on disk."""
    from provsdk.repository.sqlite import SqliteRepository

    where = _local_path(ctx, path)
    with SqliteRepository(where) as opened:
        figures = opened.stats()
    if as_json:
        body = {
            "path": str(where),
            "entries": figures.entries,
            "size": figures.size,
            "schema_version": figures.schema_version,
        }
        click.echo(dump_json(body))
        return
    stdout().print(
        f"{shown(where)}: {figures.entries} entries, {figures.size / 2**20:.1f} MiB "
        f"(schema {figures.schema_version})"
    )
