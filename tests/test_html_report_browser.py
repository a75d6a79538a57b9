"""The HTML report in a real browser: Debian's Chromium, headless, driven by playwright.

Never a downloaded browser: the system's /usr/bin/chromium (CI installs it when missing);
without it these tests skip and say why. The page is opened from a file:// URL, as a person
opens a report they were sent.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provsdk.catalogue.summary import Summary
from provsdk.catalogue.task import CatalogueSettings, verify_task
from provsdk.credentials import TrustConfig
from provsdk.html_report import write_html_report

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (CI installs Debian's chromium)"
)


@pytest.fixture(scope="module")
def report(
    signed_files: dict[str, Path],
    vectors: Path,
    trust: TrustConfig,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    settings = CatalogueSettings.of(trust, details=True)
    paths = [*signed_files.values(), vectors / "sample1.wav", vectors / "sample3.invalid.wav"]
    records = [verify_task(p, settings).record for p in paths]
    summary = Summary()
    for record in records:
        assert record is not None
        summary.add(record)
    out = tmp_path_factory.mktemp("browser") / "report.html"
    write_html_report(out, (r for r in records if r is not None), summary.to_dict())
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package")
    with sync_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the inflated image data of a PNG (filter bytes included)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, idat, size = 8, b"", (0, 0)
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    return size[0], size[1], zlib.decompress(idat)


def test_the_table_filters_and_a_file_opens_with_nothing_leaving_the_page(
    browser: Any, report: Path, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(report.as_uri())

    files = page.locator("tbody.file")
    assert files.count() == 6
    assert page.locator("tbody.file:visible").count() == 6
    assert page.locator("#shown").inner_text() == "6"

    page.fill("#filter-text", "mp3")
    assert page.locator("tbody.file:visible").count() == 1
    assert page.locator("#shown").inner_text() == "1"
    page.fill("#filter-text", "")
    page.select_option("#filter-verdict", "error")
    assert page.locator("tbody.file:visible").count() == 1
    page.select_option("#filter-verdict", "")
    assert page.locator("tbody.file:visible").count() == 6

    first = files.nth(0)
    layers = first.locator("dl.layers")
    assert not layers.is_visible()
    first.locator("summary").click()
    assert layers.is_visible()
    shown = first.locator("details").inner_text()
    assert "verdict: pass" in shown.lower()  # innerText follows the CSS capitals
    for words in ("Trusted: intact, signed by a trusted producer", "training", "policy"):
        assert words in shown
    assert first.locator("svg.wave").is_visible()

    page.evaluate("window.scrollTo(0, 0)")  # the click scrolled; the sticky header follows
    shot = page.screenshot(full_page=True)
    (tmp_path / "report.png").write_bytes(shot)
    width, height, pixels = _png_pixels(shot)
    assert width == 1200 and height > 900
    assert len(set(pixels)) > 50  # text, colours and a waveform, not a blank page

    assert requests == [report.as_uri()]
    assert problems == []
    page.close()


def test_the_policy_blocks_a_load_even_if_markup_got_in(browser: Any, report: Path) -> None:
    # Escaping keeps file text from becoming markup; the Content-Security-Policy is the second
    # wall: an image or script pointing anywhere is refused, and the browser says so.
    page = browser.new_page()
    answered: list[str] = []
    failed: dict[str, str | None] = {}
    page.on("response", lambda r: answered.append(r.url))
    page.on("requestfailed", lambda r: failed.update({r.url: r.failure}))
    page.goto(report.as_uri())
    blocked = page.evaluate(
        """() => new Promise(resolve => {
            const seen = [];
            document.addEventListener("securitypolicyviolation", e => {
                seen.push(e.violatedDirective);
                if (seen.length === 2) resolve(seen.sort());
            });
            const img = document.createElement("img");
            img.src = "http://127.0.0.1:9/pixel.png";
            document.body.appendChild(img);
            const script = document.createElement("script");
            script.src = "http://127.0.0.1:9/evil.js";
            document.body.appendChild(script);
        })"""
    )
    assert blocked == ["img-src", "script-src-elem"]
    page.wait_for_timeout(200)
    # Chromium names the attempts, then refuses them before anything is sent.
    assert answered == [report.as_uri()]
    assert set(failed) == {"http://127.0.0.1:9/pixel.png", "http://127.0.0.1:9/evil.js"}
    assert all("csp" in (why or "").lower() for why in failed.values()), failed
    page.close()
