"""The long fuzzing campaign, run by hand (not by CI):

    pip install atheris
    python tests/fuzz_verify_atheris.py -max_total_time=3600 -rss_limit_mb=4096 CORPUS_DIR

Coverage-guided mutation of audio files through verification. Seed CORPUS_DIR with signed
files (e.g. the outputs of `provsdk generate` in each format). Any exception other than a
ProvsdkError is a finding: a crash the one-line-error promise does not cover.

To fuzz on past a finding already reported, list its signature (exception type, file and
function of the innermost frame, as printed) or a prefix of it in PROVSDK_FUZZ_KNOWN,
comma-separated, e.g. PROVSDK_FUZZ_KNOWN=ValueError@chain.py; hits are counted, and printed
at each power of two.
"""

from __future__ import annotations

import collections
import os
import sys
import tempfile
import traceback
from pathlib import Path


def _signature(exc: BaseException) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return f"{type(exc).__name__}@{Path(frame.filename).name}:{frame.name}"


def main() -> None:
    import atheris

    with atheris.instrument_imports():
        from provsdk.credentials import TrustConfig
        from provsdk.errors import ProvsdkError
        from provsdk.verify import verify_file

    folder = Path(tempfile.mkdtemp(prefix="provsdk-fuzz-"))
    trust = TrustConfig.load()
    known = {s for s in os.environ.get("PROVSDK_FUZZ_KNOWN", "").split(",") if s}
    hits: collections.Counter[str] = collections.Counter()

    def one_input(data: bytes) -> None:
        path = folder / "input"
        path.write_bytes(data)
        try:
            verify_file(path, trust=trust)
        except ProvsdkError:
            pass  # a one-line, typed error is a correct answer to a broken file
        except Exception as exc:
            signature = _signature(exc)
            if not any(signature.startswith(k) for k in known):
                print(f"finding signature: {signature}", file=sys.stderr)
                raise
            hits[signature] += 1
            if hits[signature].bit_count() == 1:
                print(f"known finding hit: {dict(hits)}", file=sys.stderr)
        finally:
            os.unlink(path)

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
