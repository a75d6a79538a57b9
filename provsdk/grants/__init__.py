"""Rights grants: written ODRL agreements signed by the licensor, attached to audio files."""

from typing import TYPE_CHECKING

from provsdk._lazy import exports as _exports

if TYPE_CHECKING:
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
else:
    __getattr__, __dir__ = _exports(
        __name__,
        {
            "MAX_DOCUMENT_BYTES": "provsdk.grants.create",
            "contract_document": "provsdk.grants.create",
            "create_grant": "provsdk.grants.create",
            "GRANT_STATEMENT": "provsdk.grants.statement",
            "GrantCheck": "provsdk.grants.statement",
            "SignedGrant": "provsdk.grants.statement",
            "check_grant": "provsdk.grants.statement",
            "load_grant": "provsdk.grants.statement",
            "load_grant_token": "provsdk.grants.statement",
            "parse_grant": "provsdk.grants.statement",
            "read_grant": "provsdk.grants.statement",
            "sign_grant": "provsdk.grants.statement",
        },
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
