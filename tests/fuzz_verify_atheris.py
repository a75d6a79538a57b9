"""The long fuzzing campaign, run by hand (not by CI):

    pip install atheris
    python tests/fuzz_verify_atheris.py -max_total_time=3600 -rss_limit_mb=4096 CORPUS_DIR

Coverage-guided mutation of audio files through verification. Seed CORPUS_DIR with signed
files (e.g. the outputs of `provsdk generate` in each format). Any exception other than a
ProvsdkError is a finding: a crash the one-line-error promise does not cover.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def main() -> None:
    import atheris

    with atheris.instrument_imports():
        from provsdk.credentials import TrustConfig
        from provsdk.errors import ProvsdkError
        from provsdk.verify import verify_file

    folder = Path(tempfile.mkdtemp(prefix="provsdk-fuzz-"))
    trust = TrustConfig.load()

    def one_input(data: bytes) -> None:
        path = folder / "input"
        path.write_bytes(data)
        try:
            verify_file(path, trust=trust)
        except ProvsdkError:
            pass  # a one-line, typed error is a correct answer to a broken file
        finally:
            os.unlink(path)

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
