"""A second, independent C2PA implementation judges provsdk's signed files: TrustNXT's c2pa-ts.

c2pa-python (c2pa-rs) both writes and reads what provsdk signs, so agreement with it alone
cannot show that a file is what other implementations accept. c2pa-ts (TypeScript, pinned in
``tests/interop/c2pa-ts``) re-checks the claim signature, the hashed assertion references and
the data hash over the MP3's bytes. For files signed by each strategy, untouched, re-signed
(a parent ingredient) and tampered with, c2pa-ts must find the same active manifest as
c2pa-python and call a file invalid exactly when c2pa-python's validation_state is Invalid.

Trust is not compared: c2pa-ts 0.9.4 does not check chains against anchors. Its
``signingCredential.trusted`` only means that the certificates' profile and dates pass.

c2pa-ts 0.9.4 looks for the MP3 store in a GEOB frame of MIME type
"application/x-c2pa-manifest-store", the name c2pa-rs now reads as deprecated; c2pa-rs writes
"application/c2pa". The validator script then points c2pa-ts' own parsed MP3 at that frame and
leaves every check to c2pa-ts; the two strict xfails below keep the gap (and that this c2pa-ts
reads no M4A) in view, so the day an upgrade closes it the suite says so.

The node modules come from ``npm ci --prefix tests/interop/c2pa-ts`` (``.ci/run`` does it);
without node or them, this file skips. Tests never install anything.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import c2pa
import pytest
from test_tamper_matrix import cbor, flipped, jumbf_tree, manifests

from provsdk.audio.containers.mpeg_frames import mpeg_frame
from provsdk.c2pa_access import c2pa_context
from provsdk.credentials.signers import KeySigner
from provsdk.manifest import ManifestSpec
from provsdk.models import C2paState
from provsdk.sign import C2paBuilderStrategy, DataHashedStrategy, SigningStrategy, sign_file

VALIDATOR = Path(__file__).resolve().parent / "interop" / "c2pa-ts"
MODULE = VALIDATOR / "node_modules" / "@trustnxt" / "c2pa-ts" / "package.json"
NODE = shutil.which("node")

pytestmark = [
    pytest.mark.skipif(NODE is None, reason="node is not on PATH: c2pa-ts cannot run"),
    pytest.mark.skipif(
        not MODULE.is_file(),
        reason="c2pa-ts is not installed: run `npm ci --prefix tests/interop/c2pa-ts`",
    ),
]

STRATEGIES: dict[str, Callable[[], SigningStrategy]] = {
    "data-hashed": DataHashedStrategy,
    "c2pa-builder": C2paBuilderStrategy,
}


# --- MP3 tamperings: each one byte-level change a verifier must notice, or rightly not -------


def _synchsafe(raw: bytes) -> int:
    return (raw[0] << 21) | (raw[1] << 14) | (raw[2] << 7) | raw[3]


def _id3_end(data: bytes) -> int:
    assert data[:3] == b"ID3", data[:10]
    return 10 + _synchsafe(data[6:10]) + (10 if data[5] & 0x10 else 0)


def _frames(data: bytes) -> list[tuple[int, int]]:
    """(offset, length) of the MPEG audio frames that follow the ID3 tag, in order."""
    at, out = _id3_end(data), []
    while (frame := mpeg_frame(data[at : at + 4])) is not None and at + frame[0] <= len(data):
        out.append((at, frame[0]))
        at += frame[0]
    assert len(out) > 100 and len(data) - at < 1000, (len(out), len(data) - at)
    return out


def audio_byte_flipped(data: bytes) -> bytes:
    start, end = _id3_end(data), len(data)
    return flipped(data, (start + end) // 2)


def signature_byte_flipped(data: bytes) -> bytes:
    tree = jumbf_tree(data)
    signature = cbor(tree, (*manifests(tree)[-1], "c2pa.signature"))
    # Inside the signature value itself, the last item of the COSE_Sign1 array.
    return flipped(data, signature.start + signature.size - 5)


def last_frame_truncated(data: bytes) -> bytes:
    at, length = _frames(data)[-1]
    return data[: at + length // 2]


def frame_appended(data: bytes) -> bytes:
    at, length = _frames(data)[-1]
    return data + data[at : at + length]


def id3_text_byte_changed(data: bytes) -> bytes | None:
    """A letter of the first ID3 text frame (e.g. TSSE, the encoder), outside the GEOB store;
    None when the tag has none."""
    at, end = 10, _id3_end(data)
    while at + 10 <= end and data[at : at + 1] not in (b"T", b"\0"):
        raw = data[at + 4 : at + 8]
        at += 10 + (_synchsafe(raw) if data[3] == 4 else int.from_bytes(raw, "big"))
    if at + 12 > end or data[at : at + 1] != b"T" or data[at : at + 4] == b"TXXX":
        return None
    assert data[at + 10] in (0, 3), data[at : at + 16]  # ISO-8859-1 or UTF-8 text follows
    return flipped(data, at + 12, 0x01)


TAMPERINGS: dict[str, Callable[[bytes], bytes | None]] = {
    "audio-byte-flipped": audio_byte_flipped,
    "signature-byte-flipped": signature_byte_flipped,
    "last-frame-truncated": last_frame_truncated,
    "frame-appended": frame_appended,
    "id3-text-byte-changed": id3_text_byte_changed,
}
CASES = ("signed", "resigned", *TAMPERINGS)


# --- the files and what each implementation says of them -------------------------------------


@pytest.fixture(scope="module")
def corpus(
    vectors: Path,
    producer_signer: KeySigner,
    spec: ManifestSpec,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[tuple[str, str], Path]:
    """(strategy, case) -> file: sample1.mp3 signed, re-signed, and each tampering of it."""
    folder = tmp_path_factory.mktemp("interop-c2pa-ts")
    out: dict[tuple[str, str], Path] = {}
    for name, strategy in STRATEGIES.items():
        signed, resigned = folder / f"{name}-signed.mp3", folder / f"{name}-resigned.mp3"
        result = sign_file(
            vectors / "sample1.mp3", signed, spec, producer_signer, strategy=strategy()
        )
        assert result.strategy == name, result.strategy_note
        sign_file(signed, resigned, spec, producer_signer, strategy=strategy())
        out[name, "signed"], out[name, "resigned"] = signed, resigned
        data = signed.read_bytes()
        for case, tamper in TAMPERINGS.items():
            changed = tamper(data)
            if changed is None:
                continue
            assert changed != data
            out[name, case] = folder / f"{name}-{case}.mp3"
            out[name, case].write_bytes(changed)
    return out


def run_c2pa_ts(*paths: Path) -> list[dict[str, Any]]:
    assert NODE is not None
    result = subprocess.run(
        [NODE, str(VALIDATOR / "validate.mjs"), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["path"] for line in lines] == [str(p) for p in paths]
    return lines


@pytest.fixture(scope="module")
def c2pa_ts(corpus: dict[tuple[str, str], Path]) -> dict[tuple[str, str], dict[str, Any]]:
    """c2pa-ts' verdict on every file of the corpus, from one Node run."""
    keys = list(corpus)
    return dict(zip(keys, run_c2pa_ts(*(corpus[k] for k in keys)), strict=True))


def c2pa_python(path: Path) -> tuple[C2paState, str | None]:
    """c2pa-python's validation_state and active manifest label; a store it cannot even read
    counts as Invalid."""
    try:
        with path.open("rb") as fh:
            reader = c2pa.Reader("audio/mpeg", fh, context=c2pa_context())
            try:
                report = json.loads(reader.json())
            finally:
                reader.close()
    except c2pa.C2paError:
        return C2paState.INVALID, None
    try:
        state = C2paState(report.get("validation_state"))
    except ValueError:
        state = C2paState.INVALID
    return state, report.get("active_manifest")


Judge = Callable[[str, str], tuple[dict[str, Any], C2paState, str | None]]


@pytest.fixture
def judge(
    corpus: dict[tuple[str, str], Path], c2pa_ts: dict[tuple[str, str], dict[str, Any]]
) -> Judge:
    """(strategy, case) -> c2pa-ts' verdict, c2pa-python's state and active label."""

    def both(strategy: str, case: str) -> tuple[dict[str, Any], C2paState, str | None]:
        if (strategy, case) not in corpus:
            pytest.skip(f"no {case} file for {strategy}: the signed MP3 has nothing to change")
        return (c2pa_ts[strategy, case], *c2pa_python(corpus[strategy, case]))

    return both


# --- the tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["signed", "resigned"])
@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_other_implementation_accepts_what_we_sign(judge: Judge, strategy: str, case: str) -> None:
    verdict, state, label = judge(strategy, case)
    assert state is not C2paState.INVALID
    assert verdict["manifest_found"], verdict
    assert verdict["active_label"] == label, verdict
    assert verdict["valid"], verdict
    assert "claimSignature.validated" in verdict["codes"], verdict
    assert "assertion.dataHash.match" in verdict["codes"], verdict


@pytest.mark.parametrize("case", list(TAMPERINGS))
@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_other_implementation_catches_tampering_as_c2pa_does(
    judge: Judge, strategy: str, case: str
) -> None:
    verdict, state, _ = judge(strategy, case)
    assert (not verdict["valid"]) == (state is C2paState.INVALID), (state, verdict)


@pytest.mark.xfail(
    strict=True,
    reason="c2pa-ts 0.9.4 looks only for the GEOB MIME application/x-c2pa-manifest-store",
)
@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_other_implementation_finds_the_mp3_store_unaided(
    c2pa_ts: dict[tuple[str, str], dict[str, Any]], strategy: str
) -> None:
    assert c2pa_ts[strategy, "signed"]["found_by_c2pa_ts"]


@pytest.mark.xfail(strict=True, reason="c2pa-ts 0.9.4 reads BMFF only of the brands heic and mif1")
def test_other_implementation_reads_m4a(signed_files: dict[str, Path]) -> None:
    (verdict,) = run_c2pa_ts(signed_files["m4a"])
    assert verdict["format"] == "bmff", verdict
