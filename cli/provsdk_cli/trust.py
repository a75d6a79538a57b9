"""``provsdk trust``: list, add and remove the anchors of each role's trust store."""

from __future__ import annotations

import click
from cryptography import x509

from provsdk.credentials.roles import Role
from provsdk.credentials.trust import TrustStore
from provsdk.credentials.trust_store_file import (
    add_anchors,
    anchor_info,
    fingerprint,
    remove_anchor,
)
from provsdk_cli.context import home_of, stdout
from provsdk_cli.render import dump_json, shown

_ROLES = [r.value for r in Role]
_ROLE = click.Choice(_ROLES, case_sensitive=False)


def _subject(cert: x509.Certificate) -> str:
    return shown(cert.subject.rfc4514_string())


@click.group()
def trust() -> None:
    """The certificates each role's signatures are checked against (PROVSDK_HOME/trust).

    Fingerprints are SHA-256, shown as 64 lowercase hex digits without colons.
    """


@trust.command("add")
@click.option("--role", required=True, type=_ROLE, help="Whose signatures the anchors vouch for.")
@click.argument("pem", type=click.Path(dir_okay=False))
@click.pass_context
def add(ctx: click.Context, role: str, pem: str) -> None:
    """Trust the CA certificates in PEM for ROLE's signatures.

    Each certificate must be a CA (basicConstraints CA=true): a root, or an intermediate you
    choose to trust directly. A leaf certificate is refused. Time-stamp authorities are trusted
    by their roots too. Certificates already trusted are skipped.
    """
    which = Role(role.lower())
    result = add_anchors(which, pem, home_of(ctx))
    out = stdout()
    for cert in result.added:
        out.print(f"added   {which.value} anchor {fingerprint(cert)} {_subject(cert)}")
    for cert in result.already:
        out.print(
            f"skipped {which.value} anchor {fingerprint(cert)} {_subject(cert)} (already trusted)"
        )
    if result.added:
        out.print(f"in {shown(result.path)}")


@trust.command("list")
@click.option("--role", type=_ROLE, help="Only this role's anchors.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with an anchors list.")
@click.pass_context
def list_(ctx: click.Context, role: str | None, as_json: bool) -> None:
    """Every trust anchor of each role: fingerprint, subject, expiry."""
    home = home_of(ctx)
    roles = [Role(role.lower())] if role else list(Role)
    anchors = [
        anchor_info(r, cert) for r in roles for cert in TrustStore.from_home(r, home).anchors
    ]
    if as_json:
        click.echo(dump_json({"anchors": [a.to_dict() for a in anchors]}))
        return
    out = stdout()
    for r in roles:
        mine = [a for a in anchors if a.role is r]
        count = {0: "no anchors", 1: "1 anchor"}.get(len(mine), f"{len(mine)} anchors")
        out.print(f"{r.value} ({shown(home.anchors_path(r))}): {count}")
        for a in mine:
            state = "EXPIRED" if a.expired else "valid until"
            out.print(f"  {a.fingerprint} {shown(a.subject)} {state} {a.not_after:%Y-%m-%d}")


@trust.command("remove")
@click.option("--role", required=True, type=_ROLE, help="The store to remove the anchor from.")
@click.argument("fingerprint_prefix", metavar="FINGERPRINT")
@click.pass_context
def remove(ctx: click.Context, role: str, fingerprint_prefix: str) -> None:
    """Stop trusting the anchor whose SHA-256 FINGERPRINT starts so.

    At least 8 hex digits; case and colons do not matter. A prefix that matches several anchors
    is refused, listing them.
    """
    which = Role(role.lower())
    cert = remove_anchor(which, fingerprint_prefix, home_of(ctx))
    stdout().print(f"removed {which.value} anchor {fingerprint(cert)} {_subject(cert)}")
