"""Writing a grant: an ODRL Agreement from the plain terms a person gives."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence
from pathlib import Path

from provsdk.audio.essence import essence_digest
from provsdk.errors import ConfigurationError
from provsdk.grants.vocabulary import purpose_name, territory_code
from provsdk.models.grant import (
    SCOPE_UID,
    Constraint,
    ContractDocument,
    Grant,
    Party,
    Rule,
    Target,
)
from provsdk.small_files import CONTRACT_CAP, read_capped

__all__ = ["MAX_DOCUMENT_BYTES", "contract_document", "create_grant"]

# A contract travels inside every manifest that carries the grant; keep that reasonable.
MAX_DOCUMENT_BYTES = CONTRACT_CAP  # 10 MiB, as docs/statements.md says
_MEDIA_TYPES = {".pdf": "application/pdf", ".txt": "text/plain", ".md": "text/markdown"}


def contract_document(path: str | Path) -> tuple[ContractDocument, bytes]:
    """The record binding a contract file to a grant, and the file's bytes (at most
    :data:`MAX_DOCUMENT_BYTES`, 10 MiB)."""
    p = Path(path)
    data = read_capped(p, MAX_DOCUMENT_BYTES, "contract")
    media_type = _MEDIA_TYPES.get(p.suffix.lower(), "application/octet-stream")
    digest = hashlib.sha256(data).hexdigest()
    return ContractDocument(name=p.name, media_type=media_type, sha256=digest), data


def _date(value: str | dt.date, what: str) -> str:
    try:
        return (value if isinstance(value, dt.date) else dt.date.fromisoformat(value)).isoformat()
    except ValueError:
        raise ConfigurationError(f"{what} must be a date like 2030-12-31, not {value!r}") from None


def _check_term(since: str | None, until: str | None, *, allow_past: bool) -> None:
    if since is not None and until is not None and since > until:
        raise ConfigurationError(
            f"the grant would end before it starts: --until {until} is before --from {since}"
        )
    # The last day anywhere on Earth (UTC-12) still under way: a term ending on a date before
    # it is over everywhere, so the grant would permit nothing from the day it is signed.
    today = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=12)).date().isoformat()
    if until is not None and until < today and not allow_past:
        raise ConfigurationError(
            f"--until {until} is in the past: the grant would already have expired "
            "(give --allow-past to write an expired term on purpose, e.g. to record one)"
        )


def create_grant(
    *,
    licensor: str,
    licensee: str,
    purposes: Sequence[str],
    territories: Sequence[str] = ("WORLD",),
    until: str | dt.date | None = None,
    since: str | dt.date | None = None,
    channels: Sequence[str] = (),
    target_file: str | Path | None = None,
    scope_model: str | None = None,
    action: str = "use",
    prohibited: Sequence[str] = (),
    attribution: str | None = None,
    indemnification: str | None = None,
    document: str | Path | None = None,
    allow_past: bool = False,
) -> Grant:
    """An ODRL Agreement granting ``licensee`` the ``purposes`` in ``territories``.

    The target is one recording (``target_file``: bound by the digest of its coded audio, so it
    survives re-signing but not re-encoding) or a scope: every output of ``scope_model``
    produced for ``licensee``. ``prohibited`` lists purposes the licensee may not use it for.

    Purposes (granted and prohibited) must come from :data:`~provsdk.models.grant.PURPOSES`
    and territories be ISO 3166-1 alpha-2 codes or ``WORLD`` (upper-cased: "us" is ``US``);
    anything else is refused with the nearest valid value. An ``until`` already past is
    refused unless ``allow_past``.
    """
    if not purposes:
        raise ConfigurationError("a grant needs at least one purpose (e.g. commercial)")
    if not territories:
        raise ConfigurationError("a grant needs at least one territory (WORLD for anywhere)")
    granted = tuple(dict.fromkeys(purpose_name(p) for p in purposes))
    forbidden = tuple(dict.fromkeys(purpose_name(p) for p in prohibited))
    places = tuple(dict.fromkeys(territory_code(t) for t in territories))
    start = _date(since, "--from") if since is not None else None
    end = _date(until, "--until") if until is not None else None
    _check_term(start, end, allow_past=allow_past)
    if (target_file is None) == (scope_model is None):
        raise ConfigurationError("give exactly one target: a file, or a model scope")
    if target_file is not None:
        target = Target(uid=essence_digest(target_file))
    else:
        target = Target(uid=SCOPE_UID, model=scope_model, licensee=licensee)
    constraints = [
        Constraint("purpose", "isAnyOf", granted),
        Constraint("spatial", "isAnyOf", places),
    ]
    if start is not None:
        constraints.append(Constraint("dateTime", "gteq", (start,)))
    if end is not None:
        constraints.append(Constraint("dateTime", "lteq", (end,)))
    if channels:
        constraints.append(Constraint("media", "isAnyOf", tuple(channels)))
    duties = (
        (Rule("attribute", (Constraint("purpose", "eq", (attribution,)),)),) if attribution else ()
    )
    contract = contract_document(document)[0] if document is not None else None
    return Grant(
        uid=f"urn:uuid:{uuid.uuid4()}",
        assigner=Party(licensor),
        assignee=Party(licensee),
        target=target,
        permissions=(Rule(action, tuple(constraints), duties),),
        prohibitions=tuple(
            Rule("use", (Constraint("purpose", "isAnyOf", (p,)),)) for p in forbidden
        ),
        indemnification=indemnification,
        document=contract,
        issued_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    )
