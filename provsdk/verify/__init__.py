"""Layered verification of a file's credentials, and the policy verdict on them.

Reading (``read``: structure check, c2pa, offline) is kept apart from judging (``layers`` and
``policy``: pure functions of what was read), so the judging can be tested on records alone.
Verification never modifies the file.
"""

from typing import TYPE_CHECKING

from provsdk._lazy import exports as _exports

if TYPE_CHECKING:
    from provsdk.verify.inspect import InspectedFile, inspect_file
    from provsdk.verify.policy import (
        DEFAULT_POLICY,
        AllOf,
        AllowedTraining,
        AnyOf,
        Policy,
        RequireAiGenerated,
        RequireC2paState,
        RequireDisclosure,
        RequireGrant,
        RequireTimestamp,
        StatementsSound,
        evaluate,
    )
    from provsdk.verify.policy_file import load_policy, policy_from_dict
    from provsdk.verify.read import FileEvidence, read_evidence
    from provsdk.verify.verifier import (
        AUDIO_SUFFIXES,
        expand_paths,
        report_from_evidence,
        verify_file,
    )
else:
    __getattr__, __dir__ = _exports(
        __name__,
        {
            "InspectedFile": "provsdk.verify.inspect",
            "inspect_file": "provsdk.verify.inspect",
            "DEFAULT_POLICY": "provsdk.verify.policy",
            "AllOf": "provsdk.verify.policy",
            "AllowedTraining": "provsdk.verify.policy",
            "AnyOf": "provsdk.verify.policy",
            "Policy": "provsdk.verify.policy",
            "RequireAiGenerated": "provsdk.verify.policy",
            "RequireC2paState": "provsdk.verify.policy",
            "RequireDisclosure": "provsdk.verify.policy",
            "RequireGrant": "provsdk.verify.policy",
            "RequireTimestamp": "provsdk.verify.policy",
            "StatementsSound": "provsdk.verify.policy",
            "evaluate": "provsdk.verify.policy",
            "load_policy": "provsdk.verify.policy_file",
            "policy_from_dict": "provsdk.verify.policy_file",
            "FileEvidence": "provsdk.verify.read",
            "read_evidence": "provsdk.verify.read",
            "AUDIO_SUFFIXES": "provsdk.verify.verifier",
            "expand_paths": "provsdk.verify.verifier",
            "report_from_evidence": "provsdk.verify.verifier",
            "verify_file": "provsdk.verify.verifier",
        },
    )

__all__ = [
    "AUDIO_SUFFIXES",
    "DEFAULT_POLICY",
    "AllOf",
    "AllowedTraining",
    "AnyOf",
    "FileEvidence",
    "InspectedFile",
    "Policy",
    "RequireAiGenerated",
    "RequireC2paState",
    "RequireDisclosure",
    "RequireGrant",
    "RequireTimestamp",
    "StatementsSound",
    "evaluate",
    "expand_paths",
    "inspect_file",
    "load_policy",
    "policy_from_dict",
    "read_evidence",
    "report_from_evidence",
    "verify_file",
]
