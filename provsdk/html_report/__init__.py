"""One self-contained HTML page for a catalogue run: the summary, a filterable table, and
per file its verdict, each layer in plain words, its provenance tree and a waveform.

The page loads nothing: styles and the filter's script are inline, allowed by their hashes
in a Content-Security-Policy that forbids everything else (no network, no other script, no
inline handlers), and the waveform is inline SVG. Jinja2 renders it with autoescaping, and
every value goes through :func:`provsdk.inert.inert` first (the environment's ``finalize``),
so text a file wrote (names, titles, prompts) is shown, never acted on: no markup, no
control characters, no bidirectional overrides.

Records are consumed once and the page is written as it renders
(``template.generate``), each file's row and detail in one ``<tbody>``, so memory stays
flat for any number of files; the summary is known before the first record. The records
are ``verify_task`` records made with ``details=True`` (``chain``, ``waveform``); one from
an older results file without them, or with fields of the wrong shape, is still shown as
far as it can be.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from provsdk.inert import inert
from provsdk.sign.atomic import atomic_output
from provsdk.verify.history import MAX_HISTORY

__all__ = ["write_html_report"]

_TEMPLATES = "templates"
# The waveform picture's height in SVG units, and the most buckets drawn.
_WAVE_HEIGHT = 64
_MAX_BUCKETS = 1000

_STATE_WORDS = {
    "Trusted": ("intact, signed by a trusted producer", "good"),
    "Valid": ("intact, but the signer is not trusted here", "warn"),
    "Invalid": ("broken: the manifest or the audio changed after signing", "bad"),
    "Absent": ("no C2PA manifest", "bad"),
}
_MINING_NAMES = {
    "cawg.ai_training": "AI training",
    "cawg.ai_generative_training": "generative training",
    "cawg.data_mining": "data mining",
    "cawg.ai_inference": "inference",
}
_MINING_WORDS = {"allowed": "allowed", "notAllowed": "not allowed", "constrained": "constrained"}
_STOP_WORDS = {
    "none": "carries no manifest",
    "missing": "its manifest is not in this file",
    "cycle": "names a manifest it descends from: not followed (a loop)",
    "shown": "its manifest is shown above",
    "too deep": f"not followed: more than {MAX_HISTORY} manifests deep",
}
SHOWN_NOT_COUNTED = "shown, not counted"


def _shown(value: Any) -> Any:
    """Every value a template prints: markup we made stays; anything else is made inert."""
    if value is None:
        return ""
    if hasattr(value, "__html__"):
        return value
    return inert(value)


@functools.cache
def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(
        loader=PackageLoader(__name__, _TEMPLATES),
        autoescape=True,
        finalize=_shown,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _asset(name: str) -> str:
    return (resources.files(__name__) / _TEMPLATES / name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


# -- reading records defensively: a results file may be old, or edited by someone hostile --


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _split_reason(text: Any) -> tuple[str, str]:
    code, _, message = str(text).partition(":")
    return (code.strip(), message.strip()) if message else ("", code.strip())


# -- one file's layers, in the words the terminal report uses --


Line = tuple[str, str, str]  # label, text, tone ("good", "warn", "bad" or "")


def _signed_by(valid: Any, trusted: Any, signer: Any, role: str) -> tuple[str, str]:
    if not valid:
        return "signature does not verify", "bad"
    if trusted:
        return f"signed by {signer or '?'} (trusted)", "good"
    return f"signed by {signer or '?'} (not trusted as a {role}: {SHOWN_NOT_COUNTED})", "warn"


def _either(value: Any, yes: str, no: str, unknown: str) -> str:
    """Words for a judgement that may be missing: True, False, or not made (None)."""
    return yes if value is True else no if value is False else unknown


def _stamp_line(when: Any, authority: Any, trusted: Any) -> Line:
    judged = _either(trusted, "trusted", "not trusted", "no authority trusted here")
    return (
        "",
        f"timestamped {when or '?'} by {authority or '?'} ({judged})",
        "" if trusted else "warn",
    )


def _stamp(stamp: Any) -> Line | None:
    stamp = _dict(stamp)
    if not stamp:
        return None
    return _stamp_line(stamp.get("time"), stamp.get("authority"), stamp.get("trusted"))


def _producer(record: dict[str, Any]) -> list[Line]:
    p = _dict(record.get("producer"))
    if not p.get("present"):
        return [("producer", "no signer", "bad")]
    who = p.get("common_name") or "unknown signer"
    org = f", {p['organization']}" if p.get("organization") else ""
    trusted = "trusted" if p.get("trusted") else "not trusted"
    text = f"{who}{org} ({trusted}; {p.get('algorithm') or '?'}; issuer {p.get('issuer') or '?'})"
    lines: list[Line] = [("producer", text, "good" if p.get("trusted") else "warn")]
    if p.get("development_credential"):
        lines.append(
            ("", "a provsdk development key: fine for trying things, not for release", "warn")
        )
    if p.get("timestamped_at"):
        when, who = p["timestamped_at"], p.get("timestamp_authority")
        lines.append(_stamp_line(when, who, p.get("timestamp_trusted")))
    return lines


def _origin(record: dict[str, Any]) -> list[Line]:
    o = _dict(record.get("origin"))
    if not o.get("present"):
        return [("origin", "not declared", "")]
    ai = _either(o.get("ai_generated"), "AI-generated", "not AI-generated", "origin unknown")
    source = str(o.get("digital_source_type") or "").rsplit("/", 1)[-1]
    made_by = f" by {o['model_id']}" if o.get("model_id") else ""
    lines: list[Line] = [("origin", f"{ai} ({source or 'no source type'}){made_by}", "")]
    if not o.get("trusted"):
        lines.append(
            ("", f"from a manifest history that is not all trusted: {SHOWN_NOT_COUNTED}", "warn")
        )
    if o.get("prompt") is not None or o.get("seed") is not None:
        said = f"prompt {o.get('prompt')!r}, seed {o.get('seed')}"
        lines.append(("", f"provider {o.get('provider') or '?'}, {said}", ""))
    return lines


def _mining(record: dict[str, Any]) -> list[Line]:
    mining = _dict(_dict(record.get("origin")).get("training_mining"))
    if not mining.get("present"):
        return (
            [("training", "not stated", "")] if _dict(record.get("producer")).get("present") else []
        )
    parts = []
    for key, entry in _dict(mining.get("uses")).items():
        entry = _dict(entry)
        name = _MINING_NAMES.get(key, key)
        stated = entry.get("stated")
        if stated is None:
            parts.append(f"{name}: reserved (not stated)")
        elif stated not in _MINING_WORDS:
            parts.append(f"{name}: reserved (unknown value {stated!r})")
        else:
            info = f" ({entry['constraint_info']})" if entry.get("constraint_info") else ""
            parts.append(f"{name}: {_MINING_WORDS[stated]}{info}")
    trusted = bool(mining.get("trusted"))
    text = "; ".join(parts) + ("" if trusted else f" (untrusted manifest: {SHOWN_NOT_COUNTED})")
    return [("training", text, "" if trusted else "warn")]


def _disclosure(record: dict[str, Any]) -> list[Line]:
    d = _dict(record.get("disclosure"))
    if not d.get("present"):
        return [("disclosure", "absent", "")]
    if d.get("summary") is None:
        return [("disclosure", "unreadable", "bad")]
    lines: list[Line] = [("disclosure", str(d["summary"]), "")]
    if d.get("declared"):
        lines.append(
            ("", f"not signed by the provider; declared by {d.get('declared_by') or '?'}", "warn")
        )
        lines += [("", f"source: {s}", "") for s in _list(d.get("sources"))]
    else:
        text, tone = _signed_by(
            d.get("signature_valid"), d.get("trusted"), d.get("signer"), "provider"
        )
        lines.append(("", text, tone))
        if (stamp := _stamp(d.get("timestamp"))) is not None:
            lines.append(stamp)
    if not d.get("bound"):
        lines.append(("", f"does not speak for this audio: {SHOWN_NOT_COUNTED}", "warn"))
    return lines


def _grants(record: dict[str, Any]) -> list[Line]:
    g = _dict(record.get("grants"))
    if not g.get("present"):
        return [("grants", "absent", "")]
    lines: list[Line] = [("grants", f"{g.get('count', 0)}", "")]
    for item in _list(g.get("items")):
        item = _dict(item)
        term = f"until {item['valid_until']}" if item.get("valid_until") else "no end date"
        force = "in force" if item.get("in_force") else "not in force"
        purposes = ", ".join(map(str, _list(item.get("purposes")))) or "no purpose"
        places = ", ".join(map(str, _list(item.get("territories")))) or "anywhere"
        who = f"{item.get('licensor')} grants {item.get('licensee')}"
        text = f"{who}: {purposes} in {places}, {term} ({force})"
        lines.append(("", text, "" if item.get("in_force") else "bad"))
        signed, tone = _signed_by(
            item.get("signature_valid"), item.get("trusted"), item.get("signer"), "licensor"
        )
        lines.append(("", signed, tone))
        if (stamp := _stamp(item.get("timestamp"))) is not None:
            lines.append(stamp)
        if item.get("contract"):
            lines.append(("", f"contract {item['contract']} embedded", ""))
        lines += [
            ("", f"not understood, not counted: {t}", "warn")
            for t in _list(item.get("not_understood"))
        ]
    return lines


def _soft_binding(record: dict[str, Any]) -> list[Line]:
    found = _dict(record.get("soft_binding"))
    state = found.get("state")
    if state in (None, "not-searched"):
        return []
    where = found.get("repository") or "the repository"
    if state == "no-match":
        return [("recovered", f"no manifest for this sound in {where}", "")]
    score = found.get("score")
    score_text = f"{score:.2f}" if isinstance(score, int | float) else "?"
    label = found.get("manifest") or "?"
    recovered = _dict(found.get("recovered"))
    if state != "recovered" or not recovered:
        return [("recovered", f"rejected: {label} (match {score_text}) does not hold", "bad")]
    bound = (
        "its signed code is this sound" if found.get("bound") else "code not signed for this sound"
    )
    integrity = _dict(recovered.get("c2pa")).get("state") or "?"
    text = (
        f"{label} from {where} (match {score_text}; {bound}; soft binding: these bytes are not "
        f"hash-bound; manifest {integrity})"
    )
    return [("recovered", text, "warn")]


def _layers(record: dict[str, Any]) -> list[Line]:
    state = str(_dict(record.get("c2pa")).get("state") or "Absent")
    words, tone = _STATE_WORDS.get(state, ("not understood", "bad"))
    lines: list[Line] = [("integrity", f"{state}: {words}", tone)]
    for failure in _list(_dict(record.get("c2pa")).get("failures")):
        failure = _dict(failure)
        lines.append(("", f"{failure.get('code')}: {failure.get('explanation')}", "bad"))
    lines += _producer(record) + _origin(record) + _mining(record)
    lines += _disclosure(record) + _grants(record) + _soft_binding(record)
    policy = _dict(record.get("policy"))
    if policy:
        passed = bool(policy.get("passed"))
        lines.append(
            (
                "policy",
                f"{policy.get('name')}: {'pass' if passed else 'fail'}",
                "good" if passed else "bad",
            )
        )
    return lines


# -- the provenance tree, as nested lists --


def _node(node: Any, depth: int) -> dict[str, Any] | None:
    node = _dict(node)
    if not node or depth > MAX_HISTORY:
        return None
    signer = _dict(node.get("signer"))
    who = ", ".join(str(signer[k]) for k in ("common_name", "organization") if signer.get(k))
    trusted = node.get("trusted")
    words = _either(
        trusted,
        "trusted here",
        f"not trusted: {SHOWN_NOT_COUNTED}",
        f"trust not judged (not on the parent chain): {SHOWN_NOT_COUNTED}",
    )
    trust = (words, "good" if trusted is True else "warn")
    action = _dict(node.get("action"))
    did = " ".join(
        str(part)
        for part in (
            action.get("action"),
            str(action.get("digital_source_type") or "").rsplit("/", 1)[-1] or None,
            f"by {action['software_agent']}" if action.get("software_agent") else None,
        )
        if part
    )
    made_with = ", ".join(
        " ".join(str(g[k]) for k in ("name", "version") if _dict(g).get(k))
        for g in _list(node.get("claim_generator"))
    )
    stamp = _dict(node.get("timestamp"))
    ingredients = []
    for item in _list(node.get("ingredients")):
        item = _dict(item)
        child = _node(item.get("manifest"), depth + 1)
        stop = _STOP_WORDS.get(str(item.get("stop")), "not followed")
        ingredients.append(
            {
                "title": item.get("title") or "(untitled)",
                "relationship": item.get("relationship") or "?",
                "node": child,
                "stop": None if child else stop,
            }
        )
    return {
        "title": node.get("title") or "(untitled)",
        "label": node.get("label") or "?",
        "signer": who or "no certificate",
        "issuer": signer.get("issuer"),
        "trust": trust,
        "did": did,
        "made_with": made_with,
        "signed_at": node.get("signed_at"),
        "stamp": f"{stamp.get('at')} by {stamp.get('authority') or '?'}" if stamp else None,
        "ingredients": ingredients,
        "omitted": node.get("ingredients_omitted") or 0,
    }


# -- the waveform --


def _wave_path(wave: Any) -> tuple[str, str] | None:
    """An SVG path of one vertical stroke per bucket from the record's min/max lists, and
    its viewBox (two units per bucket, :data:`_WAVE_HEIGHT` tall)."""
    wave = _dict(wave)
    lows, highs = _list(wave.get("min")), _list(wave.get("max"))
    count = min(len(lows), len(highs), _MAX_BUCKETS)
    if not count:
        return None
    import numpy as np

    try:
        low = np.asarray(lows[:count], dtype=np.float64)
        high = np.asarray(highs[:count], dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        return None
    middle = _WAVE_HEIGHT // 2
    top = np.rint(middle - np.clip(high, -1, 1) * (middle - 1)).astype(np.int64)
    bottom = np.maximum(np.rint(middle - np.clip(low, -1, 1) * (middle - 1)), top + 1)
    x = np.arange(count, dtype=np.int64) * 2 + 1
    numbers = np.stack([x, top, bottom.astype(np.int64)], axis=1).ravel().tolist()
    # One format call for the whole path: per-bucket formatting cost more than the rest of
    # the page for a 10,000-file run.
    return ("M%d %dV%d" * count) % tuple(numbers), f"0 0 {2 * count} {_WAVE_HEIGHT}"


def _view(index: int, record: dict[str, Any]) -> dict[str, Any]:
    path = str(record.get("path") or "?")
    error = record.get("error")
    verdict = (
        "error" if error is not None else ("pass" if record.get("verdict") == "pass" else "fail")
    )
    reasons = [_split_reason(r) for r in _list(record.get("reasons"))]
    producer = _dict(record.get("producer"))
    wave = _dict(record.get("waveform"))
    view = {
        "id": f"file-{index}",
        "number": index + 1,
        "path": path,
        "format": record.get("format") or "",
        "verdict": verdict,
        "state": _dict(record.get("c2pa")).get("state") or "Absent",
        "signer": producer.get("common_name") or "",
        "first": (reasons[0][0] or reasons[0][1]) if reasons else "",
        "error": None if error is None else " ".join(str(error).split()),
        "reasons": reasons,
        "notes": [_split_reason(n) for n in _list(record.get("notes"))],
        "layers": [] if error is not None else _layers(record),
        "tree": _node(record.get("chain"), 0),
        "wave": _wave_path(wave),
        "wave_seconds": wave.get("duration")
        if isinstance(wave.get("duration"), int | float)
        else None,
        "wave_error": record.get("waveform_error"),
    }
    codes = " ".join(code for code, _ in reasons)
    view["search"] = inert(
        f"{path} {view['format']} {verdict} {view['state']} {view['signer']} {codes}"
    ).lower()
    return view


def _views(records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for index, record in enumerate(records):
        try:
            yield _view(index, _dict(record))
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            # One malformed record (an edited results file) must not lose the whole page.
            path = _dict(record).get("path") or "?"
            yield _view(index, {"path": path, "error": f"this record cannot be shown: {exc}"})


def write_html_report(
    path: Path,
    records: Iterable[dict[str, Any]],
    summary: dict[str, Any],
    *,
    title: str = "provsdk verify",
) -> None:
    """Write the report of ``records`` (consumed once, as they come) to ``path``, atomically.

    ``summary`` is :meth:`provsdk.catalogue.summary.Summary.to_dict` of the same records.
    """
    css, js = _asset("report.css"), _asset("report.js")
    csp = "; ".join(
        [
            "default-src 'none'",
            f"style-src {_csp_hash(css)}",
            f"script-src {_csp_hash(js)}",
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
    from markupsafe import Markup

    template = _environment().get_template("report.html.j2")
    reasons = sorted(
        ((str(code), n) for code, n in _dict(summary.get("reasons")).items()),
        key=lambda kv: (-kv[1] if isinstance(kv[1], int) else 0, kv[0]),
    )
    context = {
        "title": title,
        "csp": csp,
        # Ours, byte for byte what the hashes above cover: not escaped.
        "css": Markup(css),  # noqa: S704
        "js": Markup(js),  # noqa: S704
        "summary": {
            key: summary.get(key, 0) for key in ("files", "pass", "fail", "error", "resumed")
        },
        "line": summary.get("line") or "",
        "reasons": reasons,
        "written": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "files": _views(records),
    }
    with atomic_output(Path(path)) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as out:
        for chunk in template.generate(**context):
            out.write(chunk)
