"""What trusted timestamps cost: signing and verifying a timestamped file, against raw c2pa.

    python -m bench.timestamps               # 180 s WAV, 7 repetitions
    python -m bench.timestamps --seconds 30 --repeat 3

Run it from the repository root with the development extra installed (``pip install -e
".[dev]"``): the time-stamp authority is the tests' RFC 3161 responder (``tests/tsa_responder``),
served on 127.0.0.1, so the network round trip is a loopback one and what is measured is the
work on both sides, not a public TSA's latency.

Three pairs, each provsdk against raw c2pa-python doing the same job on the same file:

- signing with a ``tsa_url``: both ask the authority once per file;
- verifying a timestamped file with the authority trusted: provsdk reads it twice (producer
  anchors alone, then the authority's, to keep the two apart: ADR 12), raw c2pa once with both
  lists mixed, which is the shortcut ADR 12 refuses;
- verifying the same file with no authority configured: one read each.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import c2pa

from bench.inputs import bench_spec, make_credentials, raw_definition, write_noise_wav
from bench.ops import MIME, ours_verify
from bench.timing import Stats, Task, time_pair
from provsdk.credentials import Role, TrustStore
from provsdk.sign import sign_file
from provsdk.verify import verify_file

__all__ = ["main"]

_OFFLINE = {"remote_manifest_fetch": False, "ocsp_fetch": False}


def _tsa_responder() -> Any:
    tests = Path(__file__).resolve().parent.parent / "tests"
    sys.path.insert(0, str(tests))
    import tsa_responder  # type: ignore[import-not-found]  # tests/ is not a package

    return tsa_responder


def _raw_sign_with_tsa(src: Path, dst: Path, key_pem: bytes, chain_pem: bytes, url: str) -> None:
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain_pem, key_pem, url.encode())
    with (
        c2pa.Signer.from_info(info) as signer,
        c2pa.Builder(raw_definition()) as builder,
        src.open("rb") as fin,
        dst.open("w+b") as fout,
    ):
        builder.sign(signer, MIME, fin, fout)


def _raw_read(path: Path, anchors_pem: str) -> str:
    context = c2pa.Context.from_dict({"trust": {"trust_anchors": anchors_pem}, "verify": _OFFLINE})
    with path.open("rb") as fh, c2pa.Reader(MIME, fh, context=context) as reader:
        return str(reader.json())


def _line(label: str, ours: Stats, raw: Stats) -> str:
    ratio = ours.median / raw.median
    return (
        f"{label:<44} provsdk {ours.median * 1000:8.1f} ms   raw c2pa "
        f"{raw.median * 1000:8.1f} ms   ratio {ratio:5.2f}x"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.timestamps", description=__doc__)
    parser.add_argument("--seconds", type=float, default=180.0, help="length of the WAV")
    parser.add_argument("--repeat", type=int, default=7, help="timed repetitions per side")
    args = parser.parse_args(argv)
    responder: Any = _tsa_responder()
    with (
        tempfile.TemporaryDirectory(prefix="provsdk-bench-tsa-") as tmp,
        responder.serve_tsa() as (url, authority),
    ):
        work = Path(tmp)
        creds = make_credentials(work / "home")
        src = work / "in.wav"
        size = write_noise_wav(src, args.seconds)
        stamped = work / "stamped.wav"
        spec = bench_spec()
        sign_file(src, stamped, spec, creds.signer, tsa_url=url)
        tsa_root = authority.credentials.root
        trusted = replace(creds.trust, timestamp=TrustStore(Role.TIMESTAMP, (tsa_root,)))
        both_pem = creds.anchors_pem + authority.credentials.root_pem().decode()
        if not verify_file(stamped, trust=trusted).producer.timestamp_trusted:
            raise RuntimeError("the benchmark's timestamped file does not verify as timestamped")
        if json.loads(_raw_read(stamped, both_pem)).get("validation_state") != "Trusted":
            raise RuntimeError("raw c2pa does not trust the benchmark's timestamped file")

        out_ours, out_raw = work / "ours.wav", work / "raw.wav"
        sign = time_pair(
            Task(
                lambda: sign_file(src, out_ours, spec, creds.signer, tsa_url=url),
                setup=lambda: out_ours.unlink(missing_ok=True),
            ),
            Task(
                lambda: _raw_sign_with_tsa(src, out_raw, creds.key_pem, creds.chain_pem, url),
                setup=lambda: out_raw.unlink(missing_ok=True),
            ),
            args.repeat,
        )
        verify_trusted = time_pair(
            Task(lambda: verify_file(stamped, trust=trusted)),
            Task(lambda: _raw_read(stamped, both_pem)),
            args.repeat,
        )
        verify_plain = time_pair(
            Task(ours_verify(stamped, creds)),
            Task(lambda: _raw_read(stamped, creds.anchors_pem)),
            args.repeat,
        )
    print(f"{args.seconds:.0f} s stereo WAV, {size / 1e6:.1f} MB; medians of {args.repeat}")
    print(_line("sign with a TSA (loopback)", *sign))
    print(_line("verify timestamped, authority trusted", *verify_trusted))
    print(_line("verify timestamped, no authority configured", *verify_plain))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
