"""Layered verification of a file's credentials, and the policy verdict on them.

Reading (``read``: structure check, c2pa, offline) is kept apart from judging (``layers`` and
``policy``: pure functions of what was read), so the judging can be tested on records alone.
Verification never modifies the file.
"""

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
from provsdk.verify.verifier import AUDIO_SUFFIXES, expand_paths, report_from_evidence, verify_file

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
