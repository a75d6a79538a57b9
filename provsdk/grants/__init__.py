"""Rights grants: written ODRL agreements signed by the licensor, attached to audio files."""

from provsdk.grants.create import MAX_DOCUMENT_BYTES, contract_document, create_grant
from provsdk.grants.statement import (
    GRANT_STATEMENT,
    GrantCheck,
    SignedGrant,
    check_grant,
    load_grant,
    load_grant_token,
    parse_grant,
    read_grant,
    sign_grant,
)

__all__ = [
    "GRANT_STATEMENT",
    "MAX_DOCUMENT_BYTES",
    "GrantCheck",
    "SignedGrant",
    "check_grant",
    "contract_document",
    "create_grant",
    "load_grant",
    "load_grant_token",
    "parse_grant",
    "read_grant",
    "sign_grant",
]
