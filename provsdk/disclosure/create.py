"""Writing a disclosure: the EU AI Act public-summary sections from the plain facts a provider
gives, with the full summary and the training list bound by hash."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path

from provsdk.disclosure.merkle import commitment_of, read_entries
from provsdk.errors import ConfigurationError, InputError
from provsdk.models.disclosure import (
    CrawledData,
    Dataset,
    DataSource,
    Disclosure,
    ModelIdentity,
    OptOutPolicy,
    ProviderIdentity,
    PublicSummary,
    TrainingListCommitment,
)

__all__ = ["create_disclosure"]


def _source(description: str | None) -> DataSource:
    return DataSource(used=True, description=description) if description else DataSource()


def _summary(url: str | None, document: str | Path | None) -> PublicSummary | None:
    if url is None:
        return None
    if document is None:
        # A URL alone says nothing checkable: the page behind it can change at any time.
        raise ConfigurationError("a public summary URL needs its document, to commit its SHA-256")
    try:
        with Path(document).open("rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=document) from None
    return PublicSummary(url=url, sha256=digest)


def _commitment(training_list: str | Path | None) -> TrainingListCommitment | None:
    if training_list is None:
        return None
    try:
        c = commitment_of(read_entries(training_list))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the track list: {exc}", path=training_list) from None
    return TrainingListCommitment(count=c.count, root=c.root, algorithm=c.algorithm)


def create_disclosure(
    *,
    provider: str,
    model: str,
    model_version: str,
    modalities: Sequence[str] = ("audio",),
    size: str | None = None,
    datasets: Sequence[Dataset] = (),
    crawled: bool = False,
    crawled_licensed: bool = False,
    crawl_from: str | None = None,
    crawl_to: str | None = None,
    crawl_domains: Sequence[str] = (),
    user_data: str | None = None,
    synthetic_data: str | None = None,
    private_data: str | None = None,
    opt_out: bool = True,
    opt_out_measures: str | None = None,
    latest_collection: str | None = None,
    summary_url: str | None = None,
    summary_file: str | Path | None = None,
    training_list: str | Path | None = None,
) -> Disclosure:
    """A training-data disclosure, checked against the published schema.

    ``summary_file`` is the full public summary at ``summary_url``: its SHA-256 is committed.
    ``training_list`` is a track list, one per line: only its count and Merkle root are
    committed, so single tracks can later be proven in it without publishing it. The three
    other sources (user, synthetic, private data) are used when described. Crawled data
    covered by licences (``crawled_licensed``) is crawled data.
    """
    d = Disclosure(
        provider=ProviderIdentity(name=provider),
        model=ModelIdentity(name=model, version=model_version),
        modalities=tuple(modalities),
        training_data_size=size,
        datasets=tuple(datasets),
        crawled_data=CrawledData(
            used=crawled or crawled_licensed,
            licensed=crawled_licensed,
            period_start=crawl_from,
            period_end=crawl_to,
            domains=tuple(crawl_domains),
        ),
        user_data=_source(user_data),
        synthetic_data=_source(synthetic_data),
        private_data=_source(private_data),
        opt_out=OptOutPolicy(respected=opt_out, measures=opt_out_measures),
        latest_collection_date=latest_collection,
        public_summary=_summary(summary_url, summary_file),
        training_list=_commitment(training_list),
        issued_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    )
    Disclosure.from_dict(d.to_dict())  # what a provider signs must pass our own schema
    return d
