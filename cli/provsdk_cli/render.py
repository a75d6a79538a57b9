"""How reports look to people (rich) and to machines (JSON)."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape

from provsdk.models.report import C2paState, VerificationReport

__all__ = ["dump_json", "print_report"]

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
        if o.prompt is not None or o.seed is not None:
            _line(
                console,
                "",
                f"provider {escape(o.provider or '?')}, "
                f"prompt {escape(repr(o.prompt))}, seed {o.seed}",
            )
    else:
        _line(console, "origin", "not declared")
    _line(console, "disclosure", "present" if report.disclosure.present else "absent")
    _line(console, "grants", f"{report.grants.count}" if report.grants.present else "absent")
    _line(console, "policy", f"{escape(report.policy.name)}: {'pass' if report.passed else 'fail'}")
    for reason in report.reasons:
        console.print(f"    [red]-[/red] {escape(str(reason))}")
    for note in report.notes:
        console.print(f"    [yellow]![/yellow] {escape(str(note))}")
