"""The HTML report, read back by a real HTML parser: the numbers it shows, one row per file,
and text from hostile files shown as text, never as markup; written atomically, streaming."""

from __future__ import annotations

import base64
import copy
import hashlib
import re
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from provsdk.catalogue.summary import Summary
from provsdk.catalogue.task import CatalogueSettings, verify_task
from provsdk.credentials import TrustConfig
from provsdk.credentials.signers import KeySigner
from provsdk.html_report import write_html_report
from provsdk.manifest import ManifestSpec
from provsdk.models import DigitalSourceType, SoftwareAgent
from provsdk.sign import sign_file

HOSTILE_TITLE = "<img src=x onerror=alert(1)>\u202eevil.wav\x1b[31m"
HOSTILE_AGENT = "<b>gen</b>\u202e"
HOSTILE_NAME = "<script>alert(1)</script>.wav"
OWN_TAGS = {
    *("html", "head", "meta", "title", "style", "body", "header", "section", "script"),
    *("h1", "h2", "h3", "p", "ul", "li", "b", "code", "div", "span", "dl", "dt", "dd"),
    *("table", "thead", "tbody", "tr", "th", "td", "input", "select", "option"),
    *("details", "summary", "svg", "path"),
}


@dataclass
class Page(HTMLParser):
    """What a browser's parser would build, kept flat: elements, text, scripts, styles."""

    elements: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    by_id: dict[str, str] = field(default_factory=dict)
    _open: list[tuple[str, str | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        HTMLParser.__init__(self, convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag not in ("meta", "input", "path"):
            self._open.append((tag, attributes.get("id")))

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._open:
            tag, _ = self._open[-1]
            if tag == "script":
                self.scripts.append(data)
            elif tag == "style":
                self.styles.append(data)
        for _, ident in self._open:
            if ident:
                self.by_id[ident] = self.by_id.get(ident, "") + data

    def tags(self, name: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.elements if t == name]


def parse(path: Path) -> tuple[str, Page]:
    html = path.read_text(encoding="utf-8")
    page = Page()
    page.feed(html)
    page.close()
    return html, page


@pytest.fixture(scope="module")
def hostile_file(
    vectors: Path, producer_signer: KeySigner, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A signed file whose path reads ``<script>alert(1)</script>.wav`` (a folder named
    ``<script>alert(1)<`` holds ``script>.wav``), whose manifest title carries markup, a
    bidirectional override and an ESC, and whose generator's name carries markup too."""
    folder = tmp_path_factory.mktemp("hostile") / "<script>alert(1)<"
    folder.mkdir()
    dest = folder / "script>.wav"
    spec = ManifestSpec(
        title=HOSTILE_TITLE,
        source_type=DigitalSourceType.ALGORITHMIC_MEDIA,
        software_agent=SoftwareAgent(HOSTILE_AGENT, "1"),
    )
    sign_file(vectors / "sample1.wav", dest, spec, producer_signer)
    assert str(dest).endswith(HOSTILE_NAME)
    return dest


@pytest.fixture(scope="module")
def records(
    signed_files: dict[str, Path], vectors: Path, hostile_file: Path, trust: TrustConfig
) -> list[dict[str, Any]]:
    settings = CatalogueSettings.of(trust, details=True)
    paths = [
        *signed_files.values(),
        vectors / "sample1.wav",  # no manifest: fails
        vectors / "sample3.invalid.wav",  # not readable: an error record
        hostile_file,
    ]
    out = []
    for path in paths:
        record = verify_task(path, settings).record
        assert record is not None
        out.append(record)
    return out


def summary_of(records: list[dict[str, Any]]) -> dict[str, Any]:
    summary = Summary()
    for record in records:
        summary.add(record)
    return summary.to_dict()


@pytest.fixture(scope="module")
def report(records: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_html_report(path, iter(records), summary_of(records), title="catalogue <check>")
    return path


def test_the_summary_numbers_are_the_runs(records: list[dict[str, Any]], report: Path) -> None:
    summary = summary_of(records)
    _, page = parse(report)
    assert page.by_id["count-files"] == str(len(records)) == str(summary["files"])
    assert page.by_id["count-pass"] == str(summary["pass"]) == "5"
    assert page.by_id["count-fail"] == str(summary["fail"]) == "2"
    assert page.by_id["count-error"] == str(summary["error"]) == "1"
    assert page.by_id["summary-line"] == summary["line"]
    for code, count in summary["reasons"].items():
        assert re.search(rf"{re.escape(code)}\s*{count}", page.by_id["reasons"])


def test_one_row_per_record_in_input_order(records: list[dict[str, Any]], report: Path) -> None:
    _, page = parse(report)
    rows = [a for a in page.tags("tbody") if a.get("class") == "file"]
    assert len(rows) == len(records)
    verdicts = [a["data-verdict"] for a in rows]
    assert verdicts == ["pass"] * 4 + ["fail", "error", "pass"]
    for index, record in enumerate(records):
        assert str(record["path"]) in page.by_id[f"file-{index}"]


def test_an_unreadable_file_shows_its_one_line_error(
    records: list[dict[str, Any]], report: Path
) -> None:
    _, page = parse(report)
    error = records[5]["error"]
    assert "truncated or corrupt WAV" in error
    assert " ".join(error.split()) in page.by_id["file-5"]


def test_each_file_shows_its_layers_tree_and_waveform(report: Path) -> None:
    _, page = parse(report)
    shown = page.by_id["file-0"]
    for words in (
        "Trusted: intact, signed by a trusted producer",
        "provsdk dev producer (not for production)",
        "AI-generated (algorithmicMedia) by tests 1",
        "AI training: not allowed",
        "disclosure",
        "policy",
        "producer.development-key",
        "provenance",
        "c2pa.created algorithmicMedia by tests 1",
    ):
        assert words in shown, words
    assert len([a for a in page.tags("svg") if a.get("class") == "wave"]) == 6
    paths = [a["d"] for a in page.tags("path")]
    assert all(d and re.fullmatch(r"(M[0-9]+ [0-9]+V[0-9]+)+", d) for d in paths)


def test_hostile_names_and_titles_are_shown_as_text_never_as_markup(report: Path) -> None:
    html, page = parse(report)
    # The only elements are the page's own kinds, and one script (the filter).
    assert {tag for tag, _ in page.elements} <= OWN_TAGS
    assert len(page.tags("script")) == 1
    assert not any(k.startswith("on") for _, attrs in page.elements for k in attrs)
    shown = page.by_id["file-6"]
    assert HOSTILE_NAME in shown  # as text, after the parser decoded the escapes
    assert "<img src=x onerror=alert(1)>\\u202eevil.wav\\x1b[31m" in shown
    assert "<b>gen</b>\\u202e" in shown
    # No control character or override reaches the page, in text or in attributes.
    assert "\u202e" not in html and "\x1b" not in html
    assert "<script>alert" not in html and "<img" not in html and "<b>gen" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.wav" in html


def test_the_page_loads_nothing_and_allows_only_its_own_script_and_style(report: Path) -> None:
    html, page = parse(report)
    for _, attrs in page.elements:
        for key in ("src", "href", "action", "data", "poster", "srcset"):
            assert key not in attrs, (key, attrs)
    assert not re.search(r"https?://(?!cv\.iptc\.org/)", html)  # source types are text only
    (csp,) = [
        a["content"] for a in page.tags("meta") if a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert csp is not None
    policy = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["img-src"] == "data:"

    def digest(text: str) -> str:
        raw = hashlib.sha256(text.encode("utf-8")).digest()
        return f"'sha256-{base64.b64encode(raw).decode()}'"

    (script,) = page.scripts
    (style,) = page.styles
    assert policy["script-src"] == digest(script)
    assert policy["style-src"] == digest(style)
    assert "unsafe" not in csp


def test_the_title_is_escaped_too(report: Path) -> None:
    html, _ = parse(report)
    assert "<title>catalogue &lt;check&gt;</title>" in html


def test_a_record_of_the_wrong_shape_is_shown_not_fatal(tmp_path: Path) -> None:
    # An edited or older results file: fields of other types must not lose the whole page.
    broken = [
        {"path": "a.wav", "verdict": "pass", "c2pa": "Trusted", "producer": [1, 2]},
        {"path": "b.wav", "reasons": "not a list", "chain": {"ingredients": "nope"}},
        {"path": "c.wav", "waveform": {"min": ["x"], "max": [float("nan")]}},
        {"path": "d.wav", "grants": {"present": True, "items": [None, {"purposes": 3}]}},
    ]
    out = tmp_path / "r.html"
    write_html_report(out, broken, summary_of(broken))
    _, page = parse(out)
    assert len([a for a in page.tags("tbody") if a.get("class") == "file"]) == 4
    assert not page.tags("path")


def test_a_run_that_fails_half_way_leaves_the_previous_report(
    records: list[dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "r.html"
    out.write_text("previous report")

    def failing() -> Iterator[dict[str, Any]]:
        yield records[0]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_html_report(out, failing(), summary_of(records))
    assert out.read_text() == "previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def _many(record: dict[str, Any], count: int) -> Iterator[dict[str, Any]]:
    for n in range(count):
        one = copy.copy(record)
        one["path"] = f"catalogue/{n:05d}.wav"
        yield one


@pytest.mark.slow
def test_ten_thousand_records_are_written_in_flat_memory(
    records: list[dict[str, Any]], tmp_path: Path
) -> None:
    count, out = 10_000, tmp_path / "large.html"
    summary = {"files": count, "pass": count, "fail": 0, "error": 0, "resumed": 0}
    # Imports and the compiled template are made once per process, not per record.
    write_html_report(tmp_path / "warm.html", _many(records[0], 1), summary)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        write_html_report(out, _many(records[0], count), summary)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    seconds = time.perf_counter() - started
    size = out.stat().st_size
    print(
        f"10,000 records: {seconds:.1f} s under tracemalloc, peak {peak / 2**20:.2f} MiB, "
        f"page {size / 2**20:.0f} MiB"
    )
    # Collecting the records or the page on the way would take tens of MiB (the page alone is
    # over 30): the peak is what one record's rendering needs.
    assert size > 30 * 2**20
    assert peak < 2**20
    _, page = parse(out)
    assert len([a for a in page.tags("tbody") if a.get("class") == "file"]) == count
