"""Verify a received file's credentials as a distributor or sync agent would, against a policy.

    python examples/verify_received.py FILE [POLICY.toml]

Prints what the file says about itself, layer by layer, and exits 0 when it passes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from provsdk import verify_file
from provsdk.verify import DEFAULT_POLICY, load_policy


def main(path: Path, policy_file: Path | None) -> int:
    policy = load_policy(policy_file) if policy_file else DEFAULT_POLICY
    report = verify_file(path, policy=policy)
    print(f"{path}: {report.verdict.value} (C2PA {report.integrity.state.value})")
    print(f"  signed by: {report.producer.common_name} / {report.producer.organization}")
    print(f"  AI-generated: {report.origin.ai_generated} ({report.origin.generator})")
    if report.disclosure.present:
        print(f"  training data: {report.disclosure.summary}")
        print(f"  disclosure signed by a trusted provider: {report.disclosure.trusted}")
    for grant in report.grants.grants:
        uses = ", ".join(grant.purposes)
        where = ", ".join(grant.territories)
        print(f"  grant: {grant.licensor} -> {grant.licensee}: {uses} in {where}")
        state = f"in force: {grant.in_force}, trusted: {grant.trusted}"
        print(f"         until {grant.valid_until}, {state}")
    for reason in report.reasons:
        print(f"  FAIL {reason}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None))
