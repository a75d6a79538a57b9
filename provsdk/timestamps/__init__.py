"""RFC 3161 trusted timestamps: proof that a signature existed at a time, from a third party.

A certificate expires; what it signed should not stop verifying on that day. A time-stamp
authority (TSA) countersigns the signature's bytes with the time, and a verifier that trusts
the TSA judges the signer's certificate at that time instead of today.

* Manifests: c2pa asks the TSA itself when a signer is given a ``tsa_url``, and checks the
  token when reading (see :mod:`provsdk.verify.read` for how its anchors are kept apart).
* Signed statements (disclosures, grants): :func:`request_timestamp` fetches a token over the
  JWS signature value and :func:`check_timestamp` checks it, purely, against the
  ``timestamp`` trust store.
"""

from typing import TYPE_CHECKING

from provsdk._lazy import exports as _exports

if TYPE_CHECKING:
    from provsdk.timestamps.check import TimestampCheck, check_timestamp
    from provsdk.timestamps.request import check_tsa_url, request_timestamp
else:
    __getattr__, __dir__ = _exports(
        __name__,
        {
            "TimestampCheck": "provsdk.timestamps.check",
            "check_timestamp": "provsdk.timestamps.check",
            "check_tsa_url": "provsdk.timestamps.request",
            "request_timestamp": "provsdk.timestamps.request",
        },
    )

__all__ = ["TimestampCheck", "check_timestamp", "check_tsa_url", "request_timestamp"]
