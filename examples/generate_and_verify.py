"""Generate a track from code, then verify it as a recipient would.

    python examples/generate_and_verify.py [OUT_DIR]

Uses the development PKI of PROVSDK_HOME (run `provsdk keys init` once first).
"""

from __future__ import annotations

import sys
from pathlib import Path

from provsdk import Client, verify_file


def main(out_dir: Path) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    client = Client()  # the built-in "local" generator, offline
    track = client.generate(
        "warm lofi beat with piano", duration=20, seed=42, out=out_dir / "beat.mp3"
    )
    print(f"{track.path}: {track.duration:.1f} s, seed {track.generation.seed}")

    # A recipient knows nothing of how the file was made; the file says it.
    report = verify_file(track.path)
    print(f"verdict {report.verdict.value}, C2PA state {report.integrity.state.value}")
    print(f"signed by {report.producer.common_name}; AI-generated: {report.origin.ai_generated}")
    for reason in report.reasons:
        print(f"  {reason}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("example-output")))
