"""How reports look to people (rich) and to machines (JSON)."""

from __future__ import annotations

import functools
import io
import json
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.markup import escape

from provsdk.inert import inert, without_surrogates
from provsdk.jws import StatementCheck
from provsdk.models.report import C2paState, MiningUse, SoftBindingState, VerificationReport
from provsdk.timestamps import TimestampCheck

if TYPE_CHECKING:
    from provsdk.catalogue.task import Renderer

__all__ = [
    "TABLE_HEADER",
    "dump_json",
    "error_line",
    "print_report",
    "renderer_for",
    "report_text",
    "resumed_text",
    "show_statement",
    "shown",
    "table_row",
]

_STATE_STYLE = {
    C2paState.TRUSTED: "green",
    C2paState.VALID: "yellow",
    C2paState.INVALID: "red",
    C2paState.ABSENT: "red",
}


def shown(value: object) -> str:
    """Text from a file, for rich: inert (``provsdk.inert``), and no markup of its own."""
    return escape(inert(value))


def error_line(message: object) -> str:
    """One line for stderr: ``provsdk: `` and the message, whitespace folded, made inert."""
    return f"provsdk: {inert(' '.join(str(message).split()))}"


def _valid_unicode(value: Any) -> Any:
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, dict):
        return {_valid_unicode(k): _valid_unicode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_valid_unicode(v) for v in value]
    return value


def dump_json(data: Any) -> str:
    """JSON for machines: every value exact, in ASCII (so nothing in it acts on a terminal);
    an undecodable file name keeps its bytes as ``\\xNN`` text."""
    return json.dumps(_valid_unicode(data), indent=2, ensure_ascii=True)


def _line(console: Console, label: str, text: str) -> None:
    console.print(f"  [bold]{label:<11}[/bold]{text}")


def _signed_by(signature_valid: bool | None, trusted: bool | None, signer: str | None) -> str:
    if not signature_valid:
        return "[red]signature does not verify[/red]"
    who = shown(signer or "?")
    return f"signed by {who} ({'trusted' if trusted else '[red]not trusted for this role[/red]'})"


def _disclosure(console: Console, report: VerificationReport) -> None:
    d = report.disclosure
    if not d.present:
        _line(console, "disclosure", "absent")
        return
    if d.summary is None:
        _line(console, "disclosure", "[red]unreadable[/red]")
        return
    _line(console, "disclosure", shown(d.summary))
    if d.declared:
        # Said plainly: nobody vouches for these claims with a signature.
        _line(
            console,
            "",
            "[yellow]not signed by the provider[/yellow]; "
            f"declared by {shown(d.declared_by or '?')}",
        )
        for source in d.sources:
            _line(console, "", f"  source: {shown(source)}")
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
        term = f"until {shown(item.valid_until)}" if item.valid_until else "no end date"
        status = "in force" if item.in_force else "[red]not in force[/red]"
        uses = f"{', '.join(item.purposes)} in {', '.join(item.territories) or 'anywhere'}"
        _line(
            console,
            "",
            f"{shown(item.licensor)} -> {shown(item.licensee)}: {shown(uses)}, {term} ({status})",
        )
        _line(console, "", "  " + _signed_by(item.signature_valid, item.trusted, item.signer))
        _statement_stamp(console, item.timestamp)
        if item.contract:
            _line(console, "", f"  contract {shown(item.contract)} embedded")
        for term in item.not_understood:
            _line(console, "", f"  [yellow]not understood, not counted:[/yellow] {shown(term)}")


def _stamp_line(when: str, authority: str | None, trusted: bool | None) -> str:
    judged = {True: "trusted", False: "NOT trusted", None: "no authority trusted here"}[trusted]
    return f"timestamped {shown(when)} by {shown(authority or '?')} ({judged})"


def _statement_stamp(console: Console, stamp: TimestampCheck | None) -> None:
    if stamp is not None:
        when = stamp.time.isoformat() if stamp.time else "?"
        _line(console, "", "  " + _stamp_line(when, stamp.authority, stamp.trusted))


_MINING_USE = {
    "cawg.ai_training": "AI training",
    "cawg.ai_generative_training": "generative training",
    "cawg.data_mining": "data mining",
    "cawg.ai_inference": "inference",
}
_MINING_VALUE = {"allowed": "allowed", "notAllowed": "not allowed", "constrained": "constrained"}


def _mining_use(use: MiningUse) -> str:
    name = _MINING_USE.get(use.key, shown(use.key))
    if use.stated is None:
        return f"{name}: reserved (not stated)"
    if not use.understood:
        return f"{name}: reserved (unknown value {shown(repr(use.stated))})"
    said = _MINING_VALUE[use.stated]  # what the file says; the line marks an untrusted one
    if use.constraint_info:
        said += f" ({shown(use.constraint_info)})"
    return f"{name}: {said}"


def _training_mining(console: Console, report: VerificationReport) -> None:
    mining = report.origin.training_mining
    if not mining.present:
        if report.producer.present:
            _line(console, "mining", "not stated")
        return
    text = "; ".join(_mining_use(u) for u in mining.uses)
    untrusted = (
        "" if mining.trusted else " [yellow](untrusted manifest: shown, not counted)[/yellow]"
    )
    _line(console, "mining", text + untrusted)


def print_report(console: Console, report: VerificationReport) -> None:
    verdict = "[green]PASS[/green]" if report.passed else "[red]FAIL[/red]"
    console.print(f"{verdict}  {shown(report.path)}  ({report.format})")
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
        who = shown(p.common_name or "unknown signer")
        org = f", {shown(p.organization)}" if p.organization else ""
        trusted = "trusted" if p.trusted else "not trusted"
        _line(
            console,
            "producer",
            f"{who}{org} ({trusted}; {shown(p.algorithm or '?')}; issuer {shown(p.issuer or '?')})",
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
            f" by {shown(o.generator)} {shown(o.generator_version or '')}".rstrip()
            if o.generator
            else ""
        )
        _line(console, "origin", f"{ai} ({shown(source)}){made_by}")
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
                f"provider {shown(o.provider or '?')}, "
                f"prompt {shown(repr(o.prompt))}, seed {o.seed}",
            )
    else:
        _line(console, "origin", "not declared")
    _training_mining(console, report)
    _disclosure(console, report)
    _grants(console, report)
    _soft_binding(console, report)
    _line(console, "policy", f"{shown(report.policy.name)}: {'pass' if report.passed else 'fail'}")
    for reason in report.reasons:
        console.print(f"    [red]-[/red] {shown(str(reason))}")
    for note in report.notes:
        console.print(f"    [yellow]![/yellow] {shown(str(note))}")


def _soft_binding(console: Console, report: VerificationReport) -> None:
    """The recovered layer, only when a repository was asked: what was found, how strongly it
    belongs to this sound, and that it is soft (these bytes are not hash-bound to it)."""
    found = report.soft_binding
    if found.state is SoftBindingState.NOT_SEARCHED:
        return
    where = shown(found.repository or "the repository")
    if found.state is SoftBindingState.NO_MATCH:
        _line(console, "recovered", f"no manifest for this sound in {where}")
        return
    score = f"{found.score:.2f}" if found.score is not None else "?"
    label = shown(found.manifest or "?")
    if found.state is SoftBindingState.REJECTED or found.recovered is None:
        _line(console, "recovered", f"[red]rejected[/red]: {label} (match {score}) does not hold")
        for reason in found.reasons:
            console.print(f"    [red]-[/red] {shown(str(reason))}")
        return
    manifest = found.recovered
    bound = (
        "its signed code is this sound"
        if found.bound
        else "[yellow]code not signed for this sound[/yellow]"
    )
    _line(
        console,
        "recovered",
        f"{label} from {where} (match {score}; {bound}; soft binding: these bytes are not "
        f"hash-bound; manifest {manifest.integrity.state.value})",
    )
    if manifest.producer.present:
        who = shown(manifest.producer.common_name or "unknown signer")
        trusted = "trusted" if manifest.producer.trusted else "not trusted"
        _line(console, "", f"signed by {who} ({trusted})")


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
                    "problems": [str(p) for p in check.problems()],
                    "timestamp": stamp,
                }
            )
        )
    else:
        out = Console(soft_wrap=True, highlight=False)
        out.print(shown(description))
        out.print(f"signed by {shown(check.signer or '?')}, trusted: {check.trusted}")
        _statement_stamp(out, check.timestamp)
        for problem in check.problems():
            out.print(f"  [red]-[/red] {shown(str(problem))}")
    return 0 if check.trusted else 1


def report_text(
    report: VerificationReport,
    *,
    width: int,
    color_system: str | None,
    failures_only: bool = False,
) -> str:
    """What :func:`print_report` shows, as text: a catalogue's worker renders it (a module
    function, so it pickles), and the parent only writes it out. ``failures_only``: nothing
    for a file that passes (``verify --quiet``)."""
    if failures_only and report.passed:
        return ""
    out = io.StringIO()
    console = Console(
        file=out,
        width=width,
        color_system=color_system,  # type: ignore[arg-type]  # one of rich's names, or None
        force_terminal=color_system is not None,
        soft_wrap=True,
        highlight=False,
    )
    print_report(console, report)
    return out.getvalue()


def renderer_for(console: Console, *, failures_only: bool = False) -> Renderer:
    """:func:`report_text` with ``console``'s width and colours, to send to workers."""
    return functools.partial(
        report_text,
        width=console.width,
        color_system=console.color_system,
        failures_only=failures_only,
    )


def resumed_text(record: dict[str, Any]) -> str:
    """A file unchanged since the run that verified it: its verdict, and its reasons if it
    failed (the report itself was not made again)."""
    verdict = "PASS" if record.get("verdict") == "pass" else "FAIL"
    lines = [f"{verdict}  {inert(record.get('path', '?'))}  (unchanged since the last run)"]
    lines += [f"    - {inert(reason)}" for reason in record.get("reasons") or []]
    return "\n".join(lines) + "\n"


TABLE_HEADER = f"{'VERDICT':<7}  {'STATE':<7}  PATH  FIRST REASON"


def table_row(record: dict[str, Any]) -> str:
    """One file in ``verify --format table``: verdict and state in fixed columns, then the
    path and the first reason (a stream of rows cannot know the widest path in advance)."""
    verdict = (
        "PASS" if record.get("verdict") == "pass" else "ERROR" if "error" in record else "FAIL"
    )
    state = str((record.get("c2pa") or {}).get("state", "?"))
    reasons = record.get("reasons") or []
    reason = inert(" ".join(str(reasons[0]).split())) if reasons else "-"
    return f"{verdict:<7}  {state:<7}  {inert(record.get('path', '?'))}  {reason}"
