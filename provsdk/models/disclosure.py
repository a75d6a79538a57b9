"""The training-data disclosure: what a model learned from, in the sections of the EU AI Act's
public summary template for training content, plus a dataset list, a pointer to the full
summary, and a commitment to the track-level training list.

Field names are the JSON names (snake_case); the JSON Schema is ``provsdk/schemas/
training-disclosure.schema.json`` and :func:`Disclosure.from_dict` validates against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DISCLOSURE_TYPE",
    "TRAINING_BASES",
    "CrawledData",
    "DataSource",
    "Dataset",
    "DeclaredDisclosure",
    "Disclosure",
    "ModelIdentity",
    "OptOutPolicy",
    "ProviderIdentity",
    "PublicSummary",
    "TrainingListCommitment",
]

DISCLOSURE_TYPE = "provsdk.training-disclosure/v1"

# The bases a policy can allow or forbid. "crawled-unlicensed" is crawled data not covered by
# a licence; "none" is a model that learned from nothing (rule-based generation).
TRAINING_BASES = (
    "none",
    "licensed",
    "public-domain",
    "open-licence",
    "crawled-unlicensed",
    "user-data",
    "synthetic",
    "private",
)


@dataclass(frozen=True)
class ProviderIdentity:
    name: str
    contact: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class ModelIdentity:
    name: str
    version: str
    release_date: str | None = None  # ISO 8601 date


@dataclass(frozen=True)
class Dataset:
    """One dataset the model was trained on, and the basis on which it was used."""

    name: str
    basis: str  # one of TRAINING_BASES except "none"
    licensor: str | None = None
    licence: str | None = None
    size: str | None = None  # as the provider states it, e.g. "12,000 tracks / 800 h"
    url: str | None = None


@dataclass(frozen=True)
class DataSource:
    """A category of the template (private, user, synthetic data): used or not, and how."""

    used: bool = False
    description: str | None = None


@dataclass(frozen=True)
class CrawledData:
    used: bool = False
    licensed: bool = False  # crawled under licences (e.g. from a licensed catalogue's site)
    period_start: str | None = None
    period_end: str | None = None
    domains: tuple[str, ...] = ()
    description: str | None = None


@dataclass(frozen=True)
class OptOutPolicy:
    """Respect of text-and-data-mining opt-outs (EU DSM Directive art. 4(3))."""

    respected: bool
    measures: str | None = None


@dataclass(frozen=True)
class PublicSummary:
    url: str
    sha256: str  # hex digest of the document at url


@dataclass(frozen=True)
class TrainingListCommitment:
    """Merkle commitment to the track-level training list (see provsdk.disclosure.merkle)."""

    count: int
    root: str  # hex
    algorithm: str = "rfc6962-sha256"


@dataclass(frozen=True)
class Disclosure:
    provider: ProviderIdentity
    model: ModelIdentity
    modalities: tuple[str, ...]
    training_data_size: str | None
    datasets: tuple[Dataset, ...] = ()
    crawled_data: CrawledData = field(default_factory=CrawledData)
    user_data: DataSource = field(default_factory=DataSource)
    synthetic_data: DataSource = field(default_factory=DataSource)
    private_data: DataSource = field(default_factory=DataSource)
    opt_out: OptOutPolicy = field(default_factory=lambda: OptOutPolicy(respected=True))
    latest_collection_date: str | None = None
    public_summary: PublicSummary | None = None
    training_list: TrainingListCommitment | None = None
    issued_at: str | None = None
    type: str = DISCLOSURE_TYPE

    def training_bases(self) -> frozenset[str]:
        """Every basis the model's training data rests on ({"none"} for no data at all)."""
        bases = {d.basis for d in self.datasets}
        if self.crawled_data.used:
            bases.add("licensed" if self.crawled_data.licensed else "crawled-unlicensed")
        if self.user_data.used:
            bases.add("user-data")
        if self.synthetic_data.used:
            bases.add("synthetic")
        if self.private_data.used:
            bases.add("private")
        return frozenset(bases) or frozenset({"none"})

    def summary(self) -> str:
        bases = ", ".join(sorted(self.training_bases()))
        return f"{self.model.name} {self.model.version} by {self.provider.name}: trained on {bases}"

    def to_dict(self) -> dict[str, Any]:
        from provsdk.models.serialize import plain

        data: dict[str, Any] = _drop_none(plain(self))
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Disclosure:
        """Build from JSON data, after validating it against the published schema."""
        from provsdk.schemas import validate

        validate("training-disclosure", data)
        return cls(
            provider=ProviderIdentity(**data["provider"]),
            model=ModelIdentity(**data["model"]),
            modalities=tuple(data["modalities"]),
            training_data_size=data.get("training_data_size"),
            datasets=tuple(Dataset(**d) for d in data.get("datasets", [])),
            crawled_data=CrawledData(
                **{
                    **data.get("crawled_data", {}),
                    "domains": tuple(data.get("crawled_data", {}).get("domains", [])),
                }
            ),
            user_data=DataSource(**data.get("user_data", {})),
            synthetic_data=DataSource(**data.get("synthetic_data", {})),
            private_data=DataSource(**data.get("private_data", {})),
            opt_out=OptOutPolicy(**data["opt_out"]) if "opt_out" in data else OptOutPolicy(True),
            latest_collection_date=data.get("latest_collection_date"),
            public_summary=PublicSummary(**data["public_summary"])
            if data.get("public_summary")
            else None,
            training_list=TrainingListCommitment(**data["training_list"])
            if data.get("training_list")
            else None,
            issued_at=data.get("issued_at"),
            type=data.get("type", DISCLOSURE_TYPE),
        )


def _drop_none(value: Any) -> Any:
    """JSON without nulls: optional fields are absent, not null (the schema says so)."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


@dataclass(frozen=True)
class DeclaredDisclosure:
    """A disclosure the provider did not sign: written by ``declared_by`` from the provider's
    public statements at ``sources``. Verification shows it as declared, never as signed."""

    disclosure: Disclosure
    sources: tuple[str, ...]
    declared_by: str = "provsdk, from the provider's public statements"
