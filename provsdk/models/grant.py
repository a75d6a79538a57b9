"""A written rights grant: a W3C ODRL 2.2 ``Agreement`` between a licensor and a licensee.

The record is the provsdk view; :meth:`Grant.to_odrl` and :meth:`Grant.from_odrl` convert to
and from the JSON-LD document that is signed (schema: ``provsdk/schemas/rights-grant.schema.
json``). Left operands used: ``purpose`` (:data:`PURPOSES`), ``spatial`` (ISO 3166-1
alpha-2 codes, ``WORLD`` for anywhere), ``dateTime`` (the term), ``media`` (channels).
:func:`provsdk.grants.vocabulary.purpose_name` and ``territory_code`` check what a person
writes into a new grant.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ACTIONS",
    "ODRL_CONTEXT",
    "PURPOSES",
    "Constraint",
    "ContractDocument",
    "Grant",
    "Party",
    "Rule",
    "Target",
    "action_name",
    "includes",
]

ODRL_CONTEXT: list[Any] = [
    "http://www.w3.org/ns/odrl.jsonld",
    {"vcard": "http://www.w3.org/2006/vcard/ns#", "provsdk": "urn:provsdk:odrl:"},
]
PROFILE = "urn:provsdk:odrl-profile:music-v1"
SCOPE_UID = "urn:provsdk:scope:model-outputs"
WORLD = "WORLD"

# The ODRL actions provsdk judges, each with the actions a permission for it includes
# (docs/policy.md). ``use`` is ODRL's widest action; ``present`` includes playing and
# displaying. Any other action is not understood, and a permission for it counts for nothing.
_NARROW = ("reproduce", "distribute", "play", "display", "stream", "modify", "derive", "archive")
ACTIONS: dict[str, frozenset[str]] = {
    "use": frozenset({"use", "present", *_NARROW}),
    "present": frozenset({"present", "play", "display"}),
    **{name: frozenset({name}) for name in _NARROW},
}
# Left operands and the operators provsdk judges for them; anything else is not understood.
_SET_OPERATORS = frozenset({"eq", "neq", "isAnyOf", "isNoneOf", "isAllOf"})
_JUDGED = {
    "purpose": _SET_OPERATORS,
    "spatial": _SET_OPERATORS,
    "media": _SET_OPERATORS,
    "dateTime": frozenset({"eq", "gt", "gteq", "lt", "lteq"}),
}
# Duties provsdk can show a person but not check: they do not stop a permission counting.
_SHOWN_DUTIES = frozenset({"attribute"})
_ODRL_IRI = "http://www.w3.org/ns/odrl/2/"

# The purposes a new grant may name (docs/statements.md, "Purposes"): a word outside this list
# is almost always a typo, and a typo grants, or forbids, nothing anyone will ever ask for.
PURPOSES: tuple[str, ...] = (
    "adult",
    "advertising",
    "ai-training",
    "broadcast",
    "commercial",
    "editorial",
    "education",
    "personal",
    "political",
    "promo",
    "research",
    "sync",
)


def action_name(action: str) -> str:
    """``play`` for ``play``, ``odrl:play`` and the full ODRL IRI alike."""
    return action.removeprefix(_ODRL_IRI).removeprefix("odrl:")


def includes(granted: str, asked: str) -> bool:
    """Whether a permission for ``granted`` permits ``asked`` (both ODRL actions)."""
    return action_name(asked) in ACTIONS.get(action_name(granted), frozenset())


@dataclass(frozen=True)
class Party:
    name: str
    uid: str | None = None

    def to_odrl(self) -> dict[str, Any]:
        data: dict[str, Any] = {"@type": "Party", "vcard:fn": self.name}
        if self.uid:
            data["uid"] = self.uid
        return data

    @classmethod
    def from_odrl(cls, data: dict[str, Any]) -> Party:
        return cls(name=str(data["vcard:fn"]), uid=data.get("uid"))


@dataclass(frozen=True)
class Constraint:
    left: str
    operator: str
    right: tuple[str, ...]

    def to_odrl(self) -> dict[str, Any]:
        if self.left == "dateTime":
            value: Any = {"@value": self.right[0], "@type": "xsd:date"}
        elif self.operator in ("isAnyOf", "isNoneOf", "isAllOf") or len(self.right) > 1:
            value = list(self.right)
        else:
            value = self.right[0]
        return {"leftOperand": self.left, "operator": self.operator, "rightOperand": value}

    @classmethod
    def from_odrl(cls, data: dict[str, Any]) -> Constraint:
        value = data["rightOperand"]
        if isinstance(value, dict):
            right: tuple[str, ...] = (str(value["@value"]),)
        elif isinstance(value, list):
            right = tuple(str(v) for v in value)
        else:
            right = (str(value),)
        return cls(left=str(data["leftOperand"]), operator=str(data["operator"]), right=right)

    def allows(self, value: str) -> bool:
        """Whether ``value`` satisfies a set constraint (purpose, spatial, media)."""
        values = {v.upper() if self.left == "spatial" else v for v in self.right}
        probe = value.upper() if self.left == "spatial" else value
        if self.operator == "isAllOf":
            # "all of these" is met by one asked value only when it is the whole set.
            return values == {probe}
        if self.operator in ("eq", "isAnyOf"):
            return probe in values or (self.left == "spatial" and WORLD in values)
        if self.operator in ("neq", "isNoneOf"):
            return probe not in values
        return False

    @property
    def understood(self) -> bool:
        return self.operator in _JUDGED.get(self.left, frozenset())

    def holds_on(self, day: dt.date) -> bool:
        """Whether ``day`` satisfies a dateTime constraint (dates inclusive of the whole day)."""
        bound = dt.date.fromisoformat(self.right[0][:10])
        return {
            "gteq": day >= bound,
            "gt": day > bound,
            "lteq": day <= bound,
            "lt": day < bound,
            "eq": day == bound,
        }.get(self.operator, False)


@dataclass(frozen=True)
class Rule:
    """An ODRL permission, prohibition or duty: an action under constraints."""

    action: str
    constraints: tuple[Constraint, ...] = ()
    duties: tuple[Rule, ...] = ()

    def to_odrl(self, target: str | None) -> dict[str, Any]:
        data: dict[str, Any] = {"action": self.action}
        if target:
            data["target"] = target
        if self.constraints:
            data["constraint"] = [c.to_odrl() for c in self.constraints]
        if self.duties:
            data["duty"] = [d.to_odrl(None) for d in self.duties]
        return data

    @classmethod
    def from_odrl(cls, data: dict[str, Any]) -> Rule:
        return cls(
            action=str(data["action"]),
            constraints=tuple(Constraint.from_odrl(c) for c in data.get("constraint", [])),
            duties=tuple(Rule.from_odrl(d) for d in data.get("duty", [])),
        )

    def values(self, left: str) -> list[Constraint]:
        return [c for c in self.constraints if c.left == left]

    def not_understood(self) -> list[str]:
        """What in this rule provsdk does not judge; a permission with any of it is unusable."""
        found = [] if action_name(self.action) in ACTIONS else [f"action {self.action!r}"]
        found += [
            f"constraint {c.left!r} {c.operator!r}" for c in self.constraints if not c.understood
        ]
        found += [f"duty {d.action!r}" for d in self.duties if not d.shown_duty]
        return found

    @property
    def shown_duty(self) -> bool:
        """A duty provsdk shows a person (it cannot check it is done), with nothing nested."""
        return action_name(self.action) in _SHOWN_DUTIES and not self.duties

    def in_force(self, day: dt.date) -> bool:
        """Whether ``day`` is within this rule's own term (its dateTime constraints)."""
        return all(c.holds_on(day) for c in self.values("dateTime"))


@dataclass(frozen=True)
class Target:
    """What a grant covers: one recording (by audio digest) or a declared scope."""

    uid: str
    model: str | None = None  # scope: outputs of this model...
    licensee: str | None = None  # ...produced for this licensee

    @property
    def is_scope(self) -> bool:
        return self.uid == SCOPE_UID

    def to_odrl(self) -> dict[str, Any]:
        if not self.is_scope:
            return {"@type": "Asset", "uid": self.uid}
        refinement = [
            {"leftOperand": f"provsdk:{name}", "operator": "eq", "rightOperand": value}
            for name, value in (("model", self.model), ("licensee", self.licensee))
            if value is not None
        ]
        return {"@type": "AssetCollection", "uid": self.uid, "refinement": refinement}

    @classmethod
    def from_odrl(cls, data: dict[str, Any]) -> Target:
        found = {
            str(r["leftOperand"]).removeprefix("provsdk:"): str(r["rightOperand"])
            for r in data.get("refinement", [])
        }
        return cls(uid=str(data["uid"]), model=found.get("model"), licensee=found.get("licensee"))


@dataclass(frozen=True)
class ContractDocument:
    """The human-readable signed contract, bound to the grant by its digest."""

    name: str
    media_type: str
    sha256: str


@dataclass(frozen=True)
class Grant:
    uid: str
    assigner: Party  # the licensor
    assignee: Party  # the licensee
    target: Target
    permissions: tuple[Rule, ...]
    prohibitions: tuple[Rule, ...] = ()
    obligations: tuple[Rule, ...] = ()
    indemnification: str | None = None
    document: ContractDocument | None = None
    issued_at: str | None = None

    def _dates(self) -> list[Constraint]:
        return [c for rule in self.permissions for c in rule.values("dateTime")]

    @property
    def valid_from(self) -> str | None:
        starts = [c.right[0] for c in self._dates() if c.operator in ("gteq", "gt")]
        return max(starts) if starts else None

    @property
    def valid_until(self) -> str | None:
        ends = [c.right[0] for c in self._dates() if c.operator in ("lteq", "lt")]
        return min(ends) if ends else None

    def in_force(self, day: dt.date) -> bool:
        """Whether any permission is in force on ``day`` (each has its own term)."""
        return any(rule.in_force(day) for rule in self.permissions)

    def not_understood(self) -> list[str]:
        """Each permission's terms provsdk does not judge, and obligations it cannot show.

        Such a permission counts for nothing (fail closed): a grant is never read wider than
        it is written because a term in it was skipped.
        """
        found = [
            f"every permission: obligation {o.action!r}"
            for o in self.obligations
            if not o.shown_duty
        ]
        for number, rule in enumerate(self.permissions, 1):
            found += [f"permission {number} ({rule.action}): {t}" for t in rule.not_understood()]
        return found

    def permits(
        self,
        *,
        action: str = "use",
        purpose: str | None = None,
        territory: str | None = None,
        channel: str | None = None,
        day: dt.date | None = None,
    ) -> bool:
        """Whether one permission, in force on ``day`` if given, allows ``action`` for all
        the asked uses, and no prohibition forbids them.

        A permission counts only when provsdk understands all of it (:meth:`not_understood`)
        and its action includes ``action``. A prohibition forbids an asked use when its action
        overlaps ``action`` and everything it constrains was asked and matches: "never for
        political use" says nothing about a question on territory alone. A prohibition with
        an action or constraint provsdk does not understand forbids everything (fail closed).
        """
        asked = {"purpose": purpose, "spatial": territory, "media": channel}
        if not all(o.shown_duty for o in self.obligations):
            return False

        def allowed(rule: Rule) -> bool:
            if rule.not_understood() or not includes(rule.action, action):
                return False
            if day is not None and not rule.in_force(day):
                return False
            return all(
                all(c.allows(value) for c in rule.values(left))
                for left, value in asked.items()
                if value is not None
            )

        def forbidden(rule: Rule) -> bool:
            known = action_name(rule.action) in ACTIONS
            if not known or any(not c.understood for c in rule.constraints):
                return True
            if not (includes(rule.action, action) or includes(action, rule.action)):
                return False
            if day is not None and not rule.in_force(day):
                return False
            judged = [c for c in rule.constraints if c.left != "dateTime"]
            if any(asked.get(c.left) is None for c in judged):
                return False
            return all(c.allows(str(asked[c.left])) for c in judged)

        return any(allowed(p) for p in self.permissions) and not any(
            forbidden(p) for p in self.prohibitions
        )

    def purposes(self) -> list[str]:
        return sorted({v for p in self.permissions for c in p.values("purpose") for v in c.right})

    def territories(self) -> list[str]:
        return sorted({v for p in self.permissions for c in p.values("spatial") for v in c.right})

    def to_odrl(self) -> dict[str, Any]:
        target = self.target.uid
        data: dict[str, Any] = {
            "@context": ODRL_CONTEXT,
            "@type": "Agreement",
            "uid": self.uid,
            "profile": PROFILE,
            "assigner": self.assigner.to_odrl(),
            "assignee": self.assignee.to_odrl(),
            "target": self.target.to_odrl(),
            "permission": [p.to_odrl(target) for p in self.permissions],
        }
        if self.prohibitions:
            data["prohibition"] = [p.to_odrl(target) for p in self.prohibitions]
        if self.obligations:
            data["obligation"] = [o.to_odrl(None) for o in self.obligations]
        if self.indemnification:
            data["provsdk:indemnification"] = self.indemnification
        if self.document:
            data["provsdk:contract"] = {
                "name": self.document.name,
                "mediaType": self.document.media_type,
                "sha256": self.document.sha256,
            }
        if self.issued_at:
            data["provsdk:issued"] = self.issued_at
        return data

    @classmethod
    def from_odrl(cls, data: dict[str, Any], *, source: str | None = None) -> Grant:
        """Build from the JSON-LD document, after validating it against the published schema."""
        from provsdk.schemas import validate

        validate("rights-grant", data, source=source)
        contract = data.get("provsdk:contract")
        return cls(
            uid=str(data["uid"]),
            assigner=Party.from_odrl(data["assigner"]),
            assignee=Party.from_odrl(data["assignee"]),
            target=Target.from_odrl(data["target"]),
            permissions=tuple(Rule.from_odrl(p) for p in data["permission"]),
            prohibitions=tuple(Rule.from_odrl(p) for p in data.get("prohibition", [])),
            obligations=tuple(Rule.from_odrl(p) for p in data.get("obligation", [])),
            indemnification=data.get("provsdk:indemnification"),
            document=ContractDocument(
                name=contract["name"], media_type=contract["mediaType"], sha256=contract["sha256"]
            )
            if contract
            else None,
            issued_at=data.get("provsdk:issued"),
        )
