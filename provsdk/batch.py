"""Many generations from a CSV file, concurrently, where one failure costs only its own row.

A row's output appears only when signed (as for any generation); a row whose output already
exists and verifies is skipped, so re-running a batch after a failure redoes only what failed.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from provsdk.audio.formats import AudioFormat, format_for_name
from provsdk.client import AsyncClient
from provsdk.errors import InputError, ProvsdkError, UnsupportedFormatError
from provsdk.models.track import Track
from provsdk.small_files import BATCH_CAP, read_capped
from provsdk.verify import verify_file

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


@dataclass(frozen=True)
class BatchResult:
    item: BatchItem
    status: str  # "generated", "skipped" (already there and verifying) or "failed"
    track: Track | None = None
    error: str | None = None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "track"


def _number(value: str, kind: type[float] | type[int], what: str, row: int, path: Path) -> float:
    try:
        return kind(value)
    except ValueError:
        raise InputError(f"row {row}: {what} {value!r} is not a number", path=path) from None


def read_batch(
    path: str | Path, out_dir: str | Path, *, fmt: AudioFormat, duration: float
) -> list[BatchItem]:
    """The rows of a CSV with a header: ``prompt`` (required), and optionally ``out``,
    ``duration``, ``seed``, ``format``, ``licensee``. Errors name the row."""
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
            )
        )
    return items


async def _one(client: AsyncClient, item: BatchItem) -> BatchResult:
    try:
        if item.out.exists():
            report = await asyncio.to_thread(verify_file, item.out, trust=client.trust)
            if report.passed:
                return BatchResult(item, "skipped")
        track = await client.generate(
            item.prompt,
            out=item.out,
            duration=item.duration,
            seed=item.seed,
            format=item.format,
            licensee=item.licensee,
        )
    except ProvsdkError as exc:
        return BatchResult(item, "failed", error=str(exc))
    if not track.report.passed:
        reasons = "; ".join(str(r) for r in track.report.reasons)
        return BatchResult(item, "failed", track=track, error=f"does not verify: {reasons}")
    return BatchResult(item, "generated", track=track)


async def run_batch(
    client: AsyncClient,
    items: list[BatchItem],
    *,
    concurrency: int = 4,
    on_result: Callable[[BatchResult], None] | None = None,
) -> list[BatchResult]:
    """Generate every item, at most ``concurrency`` at a time; results in row order."""
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
