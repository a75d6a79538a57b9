"""How reports look to people (rich) and to machines (JSON)."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from provsdk.models.report import C2paState, VerificationReport
from provsdk.statements import StatementCheck
from provsdk.timestamps import TimestampCheck

__all__ = ["dump_json", "print_report", "show_statement"]

_STATE_STYLE = {
    C2paState.TRUSTED: "green",
    C2paState.VALID: "yellow",
    C2paState.INVALID: "red",
    C2paState.ABSENT: "red",
}


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def _line(console: Console, label: str, text: str) -> None:
    console.print(f"  [bold]{label:<11}[/bold]{text}")


def _signed_by(signature_valid: bool | None, trusted: bool | None, signer: str | None) -> str:
    if not signature_valid:
        return "[red]signature does not verify[/red]"
    who = escape(signer or "?")
    return f"signed by {who} ({'trusted' if trusted else '[red]not trusted for this role[/red]'})"


def _disclosure(console: Console, report: VerificationReport) -> None:
    d = report.disclosure
    if not d.present:
        _line(console, "disclosure", "absent")
        return
    if d.summary is None:
        _line(console, "disclosure", "[red]unreadable[/red]")
        return
    _line(console, "disclosure", escape(d.summary))
    if d.declared:
        # Said plainly: nobody vouches for these claims with a signature.
        _line(
            console,
            "",
            "[yellow]not signed by the provider[/yellow]; "
            f"declared by {escape(d.declared_by or '?')}",
        )
        for source in d.sources:
            _line(console, "", f"  source: {escape(source)}")
        if not d.bound:
            _line(console, "", "[yellow]does not speak for this audio: shown, not counted[/yellow]")
        return
    _line(console, "", _signed_by(d.signature_valid, d.trusted, d.signer))
    _statement_stamp(console, d.timestamp)
    if not d.bound:
        _line(console, "", "[yellow]does not speak for this audio: shown, not counted[/yellow]")


def _grants(console: Console, report: VerificationReport) -> None:
    g = report.grants
    if not g.present:
        _line(console, "grants", "absent")
        return
    _line(console, "grants", f"{g.count}")
    for item in g.grants:
        term = f"until {item.valid_until}" if item.valid_until else "no end date"
        status = "in force" if item.in_force else "[red]not in force[/red]"
        uses = f"{', '.join(item.purposes)} in {', '.join(item.territories) or 'anywhere'}"
        _line(
            console,
            "",
            f"{escape(item.licensor)} -> {escape(item.licensee)}: "
            f"{escape(uses)}, {term} ({status})",
        )
        _line(console, "", "  " + _signed_by(item.signature_valid, item.trusted, item.signer))
        _statement_stamp(console, item.timestamp)
        if item.contract:
            _line(console, "", f"  contract {escape(item.contract)} embedded")
        for term in item.not_understood:
            _line(console, "", f"  [yellow]not understood, not counted:[/yellow] {escape(term)}")


def _stamp_line(when: str, authority: str | None, trusted: bool | None) -> str:
    judged = {True: "trusted", False: "NOT trusted", None: "no authority trusted here"}[trusted]
    return f"timestamped {escape(when)} by {escape(authority or '?')} ({judged})"


def _statement_stamp(console: Console, stamp: TimestampCheck | None) -> None:
    if stamp is not None:
        when = stamp.time.isoformat() if stamp.time else "?"
        _line(console, "", "  " + _stamp_line(when, stamp.authority, stamp.trusted))


def print_report(console: Console, report: VerificationReport) -> None:
    verdict = "[green]PASS[/green]" if report.passed else "[red]FAIL[/red]"
    console.print(f"{verdict}  {escape(report.path)}  ({report.format})")
    state = report.integrity.state
    intact = {
        C2paState.TRUSTED: "intact, signed by a trusted producer",
        C2paState.VALID: "intact, but the signer is not trusted here",
        C2paState.INVALID: "BROKEN: the manifest or the audio changed after signing",
        C2paState.ABSENT: "no C2PA manifest",
    }[state]
    _line(console, "integrity", f"[{_STATE_STYLE[state]}]{state.value}[/] - {intact}")
    p = report.producer
    if p.present:
        who = escape(p.common_name or "unknown signer")
        org = f", {escape(p.organization)}" if p.organization else ""
        trusted = "trusted" if p.trusted else "not trusted"
        _line(
            console,
            "producer",
            f"{who}{org} ({trusted}; {p.algorithm or '?'}; issuer {escape(p.issuer or '?')})",
        )
        if p.timestamped_at:
            _line(
                console,
                "",
                _stamp_line(p.timestamped_at, p.timestamp_authority, p.timestamp_trusted),
            )
    o = report.origin
    if o.present:
        ai = {True: "AI-generated", False: "not AI-generated", None: "origin unknown"}[
            o.ai_generated
        ]
        source = (o.digital_source_type or "").rsplit("/", 1)[-1]
        made_by = (
            f" by {escape(o.generator)} {escape(o.generator_version or '')}".rstrip()
            if o.generator
            else ""
        )
        _line(console, "origin", f"{ai} ({source}){made_by}")
        if not o.trusted:
            _line(
                console,
                "",
                "[yellow]from a manifest history that is not all trusted: shown, not "
                "counted[/yellow]",
            )
        if o.prompt is not None or o.seed is not None:
            _line(
                console,
                "",
                f"provider {escape(o.provider or '?')}, "
                f"prompt {escape(repr(o.prompt))}, seed {o.seed}",
            )
    else:
        _line(console, "origin", "not declared")
    _disclosure(console, report)
    _grants(console, report)
    _line(console, "policy", f"{escape(report.policy.name)}: {'pass' if report.passed else 'fail'}")
    for reason in report.reasons:
        console.print(f"    [red]-[/red] {escape(str(reason))}")
    for note in report.notes:
        console.print(f"    [yellow]![/yellow] {escape(str(note))}")


def show_statement(
    kind: str, document: dict[str, Any], description: str, check: StatementCheck, as_json: bool
) -> int:
    """Print a checked statement (JSON or for people); the exit code: 0 trusted, else 1."""
    if as_json:
        stamp = check.timestamp.to_dict() if check.timestamp else None
        click.echo(
            dump_json(
                {
                    kind: document,
                    "trusted": check.trusted,
                    "problems": check.problems(),
                    "timestamp": stamp,
                }
            )
        )
    else:
        out = Console(soft_wrap=True, highlight=False)
        out.print(escape(description))
        out.print(f"signed by {escape(check.signer or '?')}, trusted: {check.trusted}")
        _statement_stamp(out, check.timestamp)
        for problem in check.problems():
            out.print(f"  [red]-[/red] {escape(problem)}")
    return 0 if check.trusted else 1
