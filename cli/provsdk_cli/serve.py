"""``provsdk serve``: the reference licensed-generator server (docs/protocol.md)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from provsdk.credentials import Role
from provsdk.errors import ConfigurationError, CredentialError
from provsdk.home import ProvsdkHome
from provsdk.inert import inert
from provsdk_cli.context import home_of
from provsdk_cli.options import tsa_option

if TYPE_CHECKING:
    from provsdk.server.accounts import ApiKeys
    from provsdk.server.generations import Credentials

# As provsdk.server.config names them, without importing it before the extra is known.
_KEYS_ENV = "PROVSDK_SERVE_API_KEYS"
_PROVIDER_NAME_ENV = "PROVSDK_SERVE_PROVIDER_NAME"


def _need_extra() -> None:
    # Checked by name rather than by catching ImportError, which a bug of ours could also raise.
    if any(importlib.util.find_spec(name) is None for name in ("fastapi", "uvicorn")):
        raise ConfigurationError(
            "the server needs the optional extra: pip install 'provsdk[server]'"
        )


def _describe(keys: ApiKeys) -> str:
    # Names only, so an operator can see the entries parsed as meant (a comma inside a name
    # splits it in two); keys are never shown.
    names = sorted(set(keys.accounts.values()))
    parts = [f"accounts {', '.join(repr(n) for n in names)}"] if names else []
    if keys.anonymous:
        count = len(keys.anonymous)
        parts.append(f"{count} anonymous key{'' if count == 1 else 's'} (no grants)")
    return "for " + " and ".join(parts)


def _need_keys(home: ProvsdkHome) -> Credentials:
    from provsdk.server.generations import load_credentials

    missing = [r.value for r in (Role.PROVIDER, Role.LICENSOR) if not home.key_path(r).exists()]
    if missing:
        raise CredentialError(
            f"the server signs with the {' and '.join(missing)} keys of {home.root}, which "
            "are not there: run `provsdk keys init`"
        )
    return load_credentials(home)  # present but unusable: its own one-line CredentialError


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="TCP port."
)
@click.option(
    "--latency",
    default=0.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds added to every generation (to imitate a slow model in benchmarks).",
)
@click.option(
    "--insecure-no-auth",
    is_flag=True,
    help="Accept requests without an API key, on a loopback --host only; no grants are "
    "issued. Only for experiments on your own machine.",
)
# Defaults as in provsdk.server.ServerConfig, which cannot be imported before the extra is known.
@click.option(
    "--max-outstanding",
    default=4,
    show_default=True,
    type=click.IntRange(min=1),
    help="Generations an API key may have queued or running at once.",
)
@click.option(
    "--max-stored-seconds",
    default=600,
    show_default=True,
    type=click.IntRange(min=1),
    help="Seconds of audio an API key may have on the server (kept 24 h, or until deleted).",
)
@click.option(
    "--provider-name",
    envvar=_PROVIDER_NAME_ENV,
    metavar="NAME",
    help="The provider named in its disclosures and as licensor of its grants "
    f"[env {_PROVIDER_NAME_ENV}; default: the provider certificate's organisation, "
    "else its common name].",
)
@tsa_option("every grant it issues")
@click.option(
    "--repository",
    envvar="PROVSDK_SERVE_REPOSITORY",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also serve this manifest repository (a SQLite file: `provsdk repo init`) over the "
    "C2PA soft-binding API under /v1, with the same API keys [env PROVSDK_SERVE_REPOSITORY].",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    latency: float,
    insecure_no_auth: bool,
    max_outstanding: int,
    max_stored_seconds: int,
    provider_name: str | None,
    tsa_url: str | None,
    repository: Path | None,
) -> None:
    """Serve the licensed generator protocol with the local generator.

    API keys are read from PROVSDK_SERVE_API_KEYS: comma-separated `key=Account Name` entries,
    whose generations are granted to that account, or bare keys, which get no grants. Without
    any key the server refuses to start unless --insecure-no-auth is given. Disclosures are
    signed with the home's provider key and grants with its licensor key.

    Each request is logged as one line on stderr: method, path, status, request id and the
    key's account name, never the key or the query string.
    """
    _need_extra()
    from provsdk.server import ApiKeys, ServerConfig, check_host, parse_api_keys
    from provsdk.server import serve as run_server
    from provsdk.server.config import provider_name_of, provider_name_problem

    check_host(host, insecure_no_auth=insecure_no_auth)
    if provider_name is not None and (problem := provider_name_problem(provider_name)):
        raise ConfigurationError(f"--provider-name {inert(repr(provider_name))} {problem}")
    api_keys = parse_api_keys(os.environ.get(_KEYS_ENV))
    if not api_keys and not insecure_no_auth:
        raise ConfigurationError(
            f"no API keys: set {_KEYS_ENV} (key=Account Name, comma-separated), or pass "
            "--insecure-no-auth for a local experiment"
        )
    home = home_of(ctx)
    credentials = _need_keys(home)
    if repository is not None:
        from provsdk.repository.sqlite import SqliteRepository

        SqliteRepository(repository).close()  # a missing or foreign file fails here, in a line
    if insecure_no_auth:
        ignored = f"; the {len(api_keys)} keys in {_KEYS_ENV} are ignored" if api_keys else ""
        click.echo(f"provsdk: warning: authentication is off{ignored}", err=True)
        api_keys = ApiKeys()
    config = ServerConfig(
        home=home,
        api_keys=api_keys.anonymous,
        accounts=api_keys.accounts,
        insecure_no_auth=insecure_no_auth,
        latency=latency,
        max_outstanding=max_outstanding,
        max_stored_seconds=max_stored_seconds,
        provider_name=provider_name,
        tsa_url=tsa_url,
        repository=repository,
    )
    named = provider_name or provider_name_of(credentials.provider.leaf)
    who = "without authentication, granting nothing" if insecure_no_auth else _describe(api_keys)
    click.echo(
        f"provsdk: serving the licensed generator protocol on http://{inert(host)}:{port} "
        f"as {inert(repr(named))} {inert(who)}",
        err=True,
    )
    if repository is not None:
        click.echo(
            f"provsdk: and the manifest repository {inert(str(repository))} under /v1",
            err=True,
        )
    run_server(config, host, port)
