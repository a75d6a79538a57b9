"""``provsdk serve``: the reference licensed-generator server (docs/protocol.md)."""

from __future__ import annotations

import importlib.util
import os

import click

from provsdk.credentials import Role
from provsdk.errors import ConfigurationError, CredentialError
from provsdk.home import ProvsdkHome
from provsdk_cli.context import home_of
from provsdk_cli.options import tsa_option

_KEYS_ENV = "PROVSDK_SERVE_API_KEYS"  # provsdk.server.config.API_KEYS_ENV, without importing it


def _need_extra() -> None:
    # Checked by name rather than by catching ImportError, which a bug of ours could also raise.
    if any(importlib.util.find_spec(name) is None for name in ("fastapi", "uvicorn")):
        raise ConfigurationError(
            "the server needs the optional extra: pip install 'provsdk[server]'"
        )


def _need_keys(home: ProvsdkHome) -> None:
    from provsdk.server.jobs import load_credentials

    missing = [r.value for r in (Role.PROVIDER, Role.LICENSOR) if not home.key_path(r).exists()]
    if missing:
        raise CredentialError(
            f"the server signs with the {' and '.join(missing)} keys of {home.root}, which "
            "are not there: run `provsdk keys init`"
        )
    load_credentials(home)  # present but unusable: its own one-line CredentialError


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
    help="Accept requests without an API key. Only for experiments on your own machine.",
)
@tsa_option("every grant it issues")
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    latency: float,
    insecure_no_auth: bool,
    tsa_url: str | None,
) -> None:
    """Serve the licensed generator protocol with the local generator.

    API keys are read from PROVSDK_SERVE_API_KEYS (comma-separated); without any, the server
    refuses to start unless --insecure-no-auth is given. Disclosures are signed with the
    home's provider key and grants with its licensor key.
    """
    _need_extra()
    from provsdk.server import ServerConfig, parse_api_keys
    from provsdk.server import serve as run_server

    api_keys = parse_api_keys(os.environ.get(_KEYS_ENV))
    if not api_keys and not insecure_no_auth:
        raise ConfigurationError(
            f"no API keys: set {_KEYS_ENV} (comma-separated), or pass --insecure-no-auth "
            "for a local experiment"
        )
    home = home_of(ctx)
    _need_keys(home)
    if insecure_no_auth:
        ignored = f"; the {len(api_keys)} keys in {_KEYS_ENV} are ignored" if api_keys else ""
        click.echo(f"provsdk: warning: authentication is off{ignored}", err=True)
    config = ServerConfig(
        home=home,
        api_keys=api_keys,
        insecure_no_auth=insecure_no_auth,
        latency=latency,
        tsa_url=tsa_url,
    )
    click.echo(
        f"provsdk: serving the licensed generator protocol on http://{host}:{port}", err=True
    )
    run_server(config, host, port)
