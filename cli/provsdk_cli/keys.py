"""``provsdk keys``: the development PKI."""

from __future__ import annotations

import click

from provsdk.credentials import Algorithm, Role, init_dev_pki
from provsdk_cli.context import home_of, stdout


@click.group()
def keys() -> None:
    """Keys and certificates of the three signing roles."""


@keys.command("init")
@click.option(
    "--alg",
    "algorithm",
    default="ES256",
    show_default=True,
    type=click.Choice(["ES256", "ES384", "Ed25519", "PS256"], case_sensitive=False),
    help="Signature algorithm of the keys.",
)
@click.option("--force", is_flag=True, help="Replace existing keys (they are lost).")
@click.option("--exist-ok", is_flag=True, help="Keep existing keys and succeed.")
@click.option("--org", help="Organisation named in the certificates (e.g. your studio).")
@click.pass_context
def init(ctx: click.Context, algorithm: str, force: bool, exist_ok: bool, org: str | None) -> None:
    """Create a development PKI and a trust configuration that trusts it.

    One root and one signing leaf per role (producer, provider, licensor). Files signed with
    these keys verify as trusted here and are marked as development-signed everywhere.
    """
    home = home_of(ctx)
    out = stdout()
    if exist_ok and not force and all(home.key_path(r).exists() for r in Role.signing()):
        out.print(f"Keeping the existing keys in {home.root}")
        return
    pki = init_dev_pki(home, Algorithm.parse(algorithm), force=force, organization=org)
    out.print(f"Development PKI ({pki.algorithm.value}) in {pki.home.root}")
    for role in Role.signing():
        out.print(f"  {role.value:<9} key   {pki.home.key_path(role)}")
        out.print(f"  {'':<9} chain {pki.home.chain_path(role)}")
        out.print(f"  {'':<9} trust {pki.home.anchors_path(role)}")
    out.print("Not for production: anyone with these files can sign as you.")
