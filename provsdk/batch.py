"""Many generations from a CSV file, concurrently, where one failure costs only its own row.

A row's output appears only when signed (as for any generation). Re-running a batch redoes
what failed or changed: a row whose output already exists is skipped only when that file
verifies and the generation record its trusted manifest carries matches the row (see
:func:`run_batch`); otherwise it is regenerated, and the old file stays until a new one
verifies.
"""

from __future__ import annotations

import asyncio
import csv
import io
import math
import os
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provsdk.audio.formats import AudioFormat, format_for_name
from provsdk.client import AsyncClient
from provsdk.credentials import TrustConfig
from provsdk.errors import InputError, OutputError, ProvsdkError, UnsupportedFormatError
from provsdk.manifest.build import GENERATION
from provsdk.models.report import VerificationReport
from provsdk.models.track import Track
from provsdk.sign import TEMP_SUFFIX
from provsdk.small_files import BATCH_CAP, read_capped
from provsdk.verify import read_evidence, report_from_evidence
from provsdk.verify.history import creation, history

__all__ = ["BatchItem", "BatchResult", "read_batch", "run_batch"]

_COLUMNS = {"prompt", "out", "duration", "seed", "format", "licensee"}
MAX_ROWS = 100_000


@dataclass(frozen=True)
class BatchItem:
    row: int  # 1-based data row, as a spreadsheet shows it below the header
    prompt: str
    out: Path
    duration: float
    seed: int | None
    format: AudioFormat
    licensee: str | None = None
    model: str | None = None  # None: the provider's default


@dataclass(frozen=True)
class BatchResult:
    """What became of one row.

    ``status`` is "generated" (no output before), "skipped" (the output verifies and was made
    from this row), "regenerated" (it did not verify, or was made from something else:
    ``reason`` says what, e.g. "prompt changed") or "failed" (``error``; an output that was
    there before is kept).
    """

    item: BatchItem
    status: str
    track: Track | None = None
    error: str | None = None
    reason: str | None = None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "track"


def _number(value: str, kind: type[float] | type[int], what: str, row: int, path: Path) -> float:
    try:
        return kind(value)
    except ValueError:
        raise InputError(f"row {row}: {what} {value!r} is not a number", path=path) from None


def read_batch(
    path: str | Path,
    out_dir: str | Path,
    *,
    fmt: AudioFormat,
    duration: float,
    model: str | None = None,
) -> list[BatchItem]:
    """The rows of a CSV with a header: ``prompt`` (required), and optionally ``out``,
    ``duration``, ``seed``, ``format``, ``licensee``; every row asks for ``model``. Errors
    name the row."""
    p, folder = Path(path), Path(out_dir)
    raw = read_capped(p, BATCH_CAP, "batch file")
    try:
        with io.StringIO(raw.decode("utf-8-sig"), newline="") as fh:
            reader = csv.DictReader(fh)
            unknown = set(reader.fieldnames or ()) - _COLUMNS
            if "prompt" not in (reader.fieldnames or ()):
                raise InputError("the CSV needs a 'prompt' column in its header", path=p)
            if unknown:
                raise InputError(f"unknown columns: {', '.join(sorted(unknown))}", path=p)
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read the batch file: {exc}", path=p) from None
    if len(rows) > MAX_ROWS:
        raise InputError(f"more than {MAX_ROWS} rows", path=p)
    items, names = [], set()
    for row, values in enumerate(rows, start=1):
        prompt = (values.get("prompt") or "").strip()
        if not prompt:
            raise InputError(f"row {row}: the prompt is empty", path=p)
        try:
            row_fmt = format_for_name(values["format"]) if values.get("format") else fmt
        except UnsupportedFormatError as exc:
            raise InputError(f"row {row}: {exc.message}", path=p) from None
        name = values.get("out") or f"{row:04d}-{_slug(prompt)}.{row_fmt.extension}"
        if Path(name).name != name or name in names:
            raise InputError(f"row {row}: output name {name!r} is a path or used twice", path=p)
        names.add(name)
        seed = values.get("seed")
        items.append(
            BatchItem(
                row=row,
                prompt=prompt,
                out=folder / name,
                duration=_number(values["duration"], float, "duration", row, p)
                if values.get("duration")
                else duration,
                seed=int(_number(seed, int, "seed", row, p)) if seed else None,
                format=row_fmt,
                licensee=values.get("licensee") or None,
                model=model,
            )
        )
    return items


def _changes(record: Any, item: BatchItem, provider: str, include_prompt: bool) -> list[str]:
    """What differs between a row and the generation record of its existing output."""
    if not isinstance(record, dict):
        return ["no generation record"]
    found: list[str] = []
    prompt = record.get("prompt")
    if include_prompt and prompt != item.prompt:
        found.append("prompt changed" if prompt is not None else "the prompt was left out")
    elif not include_prompt and prompt is not None:
        found.append("the prompt is now left out")
    if item.seed is not None and record.get("seed") != item.seed:
        found.append("seed changed")
    duration = record.get("duration")
    if (
        not isinstance(duration, int | float)
        or isinstance(duration, bool)
        or not math.isclose(duration, item.duration, rel_tol=1e-9)
    ):
        found.append("duration changed")
    if record.get("provider") != provider:
        found.append("provider changed")
    model = record.get("model")
    if item.model is not None and not (
        isinstance(model, str) and (model == item.model or model.startswith(item.model + " "))
    ):
        found.append("model changed")
    return found


def _stale(client: AsyncClient, trust: TrustConfig, item: BatchItem) -> str | None:
    """Why the existing output of ``item`` must be made again; None when it may be skipped."""
    evidence = read_evidence(item.out, trust.producer, trust.timestamp)
    report = report_from_evidence(evidence, client.policy, trust=trust)
    if not report.passed:
        return _unverified(report)
    # The record is believed only through a history trusted from the active manifest back to
    # the one that created the audio (what the report's origin already judged): an untrusted
    # manifest's account of its own making is no reason to keep the file, and a grant attached
    # since (a manifest of its own, with no record) does not hide the row's.
    created = creation(history(evidence.store)) if report.origin.trusted else None
    if created is None:
        return "no trusted history back to its generation"
    found = _changes(
        created.manifest.assertion(GENERATION), item, client.provider.name, client.include_prompt
    )
    if evidence.audio.format is not item.format:
        found.append("format changed")
    return ", ".join(found) or None


def _keep(dest: Path) -> Path:
    """A second name for ``dest``, beside it, so that it can be put back: a hard link where
    the filesystem has them, else a copy. Named like a temporary file of ``dest``, so what a
    killed process leaves is swept by the next write."""
    spare = dest.with_name(f".{dest.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.old{TEMP_SUFFIX}")
    try:
        try:
            os.link(dest, spare)
        except OSError:
            shutil.copy2(dest, spare)
    except OSError as exc:
        spare.unlink(missing_ok=True)
        reason = exc.strerror or str(exc)
        raise OutputError(
            f"cannot keep the old file while regenerating: {reason}", path=dest
        ) from None
    return spare


async def _generate(client: AsyncClient, item: BatchItem) -> Track:
    return await client.generate(
        item.prompt,
        out=item.out,
        duration=item.duration,
        seed=item.seed,
        format=item.format,
        model=item.model,
        licensee=item.licensee,
    )


def _unverified(report: VerificationReport) -> str:
    return "does not verify: " + "; ".join(str(r) for r in report.reasons)


async def _regenerate(client: AsyncClient, item: BatchItem, reason: str) -> BatchResult:
    """Replace an existing output; it stays as it was unless the new one verifies.

    A failed generation or signing never touches it (the signed file is renamed into place
    only when whole); a new file that does not verify is replaced by the old one again.
    """
    spare = await asyncio.to_thread(_keep, item.out)
    keep_spare = False
    try:
        try:
            track = await _generate(client, item)
        except ProvsdkError as exc:
            return BatchResult(item, "failed", error=f"{exc}; the old file is kept", reason=reason)
        if track.report.passed:
            return BatchResult(item, "regenerated", track=track, reason=reason)
        error = f"{_unverified(track.report)}; the old file is kept"
        try:
            await asyncio.to_thread(spare.replace, item.out)
        except OSError as exc:
            keep_spare = True
            error += f" as {spare.name} (it could not be put back: {exc.strerror or exc})"
        return BatchResult(item, "failed", error=error, reason=reason)
    finally:
        if not keep_spare:
            spare.unlink(missing_ok=True)


async def _one(client: AsyncClient, item: BatchItem) -> BatchResult:
    try:
        if item.out.exists():
            # Trust is loaded here, in the loop, not racing in the worker threads.
            reason = await asyncio.to_thread(_stale, client, client.trust, item)
            if reason is None:
                return BatchResult(item, "skipped")
            return await _regenerate(client, item, reason)
        track = await _generate(client, item)
    except ProvsdkError as exc:
        return BatchResult(item, "failed", error=str(exc))
    if not track.report.passed:
        return BatchResult(item, "failed", track=track, error=_unverified(track.report))
    return BatchResult(item, "generated", track=track)


async def run_batch(
    client: AsyncClient,
    items: list[BatchItem],
    *,
    concurrency: int = 4,
    on_result: Callable[[BatchResult], None] | None = None,
) -> list[BatchResult]:
    """Generate every item, at most ``concurrency`` at a time; results in row order.

    An item whose output exists is skipped only when that file verifies (by the client's
    trust and policy) and the generation record of the manifest that created its audio,
    through a history trusted back to it, matches the item: prompt, duration, format, the client's
    provider, and the seed and model when the item names them. An item without a seed
    matches any seed, so a row left to a random seed is not redrawn at every run; one
    without a model matches any model, and a named model matches a record naming it
    (alone or followed by a version). With prompts left out of manifests
    (``include_prompt=False``) the prompt cannot be compared. Any other item is generated
    again and the old file replaced only by one that verifies.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    gate = asyncio.Semaphore(concurrency)

    async def guarded(item: BatchItem) -> BatchResult:
        async with gate:
            result = await _one(client, item)
        if on_result is not None:
            on_result(result)
        return result

    return list(await asyncio.gather(*(guarded(item) for item in items)))
