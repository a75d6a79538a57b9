"""Checking an RFC 3161 time-stamp response against the time-stamp trust store. Pure: no I/O.

rfc3161-client (Trail of Bits, the verifier sigstore-python uses) does the CMS work: the
signature over the TSTInfo, the TSA certificate's critical id-kp-timeStamping usage, and its
chain to one of our anchors, judged at the token's own time. What is added here is the shape
of the answer the rest of provsdk uses: a verdict, the time, and coded problems.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from cryptography import x509
from rfc3161_client import VerificationError, VerifierBuilder, decode_timestamp_response

from provsdk.credentials.trust import TrustStore

__all__ = ["MAX_RESPONSE", "TimestampCheck", "check_timestamp"]

MAX_RESPONSE = 64 * 1024  # a token is a few kilobytes: its TSA's chain and one signature

# The digests a token may commit to; weaker ones would let its imprint be forged.
_DIGESTS = {
    x509.ObjectIdentifier("2.16.840.1.101.3.4.2.1"): hashlib.sha256,
    x509.ObjectIdentifier("2.16.840.1.101.3.4.2.2"): hashlib.sha384,
    x509.ObjectIdentifier("2.16.840.1.101.3.4.2.3"): hashlib.sha512,
}


@dataclass(frozen=True)
class TimestampCheck:
    """The verdict on one token: when it says, who says so, and whether that is trusted."""

    trusted: bool
    time: dt.datetime | None = None
    authority: str | None = None
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "trusted": self.trusted,
            "time": self.time.isoformat() if self.time else None,
            "authority": self.authority,
            "problems": list(self.problems),
        }


def _authority(response: object) -> str | None:
    name = getattr(getattr(response, "tst_info", None), "name", None)
    value = getattr(name, "value", None)
    if isinstance(value, x509.Name):
        return value.rfc4514_string()
    return None


def _short(exc: Exception) -> str:
    """One readable line from rfc3161-client's error, which may embed OpenSSL's error stack."""
    text = str(exc)
    found = re.findall(r'(?:reason|data): "([^"]+)"', text)
    if found:
        return "; ".join(dict.fromkeys(f.strip(" :") for f in found if f.strip(" :")))
    return " ".join(text.split())[:200]


def check_timestamp(response_der: bytes, message: bytes, store: TrustStore) -> TimestampCheck:
    """Whether ``response_der`` is a granted token over ``message`` from a TSA of ``store``."""
    if len(response_der) > MAX_RESPONSE:
        return TimestampCheck(
            False, problems=(f"timestamp.malformed: larger than {MAX_RESPONSE} bytes",)
        )
    try:
        response = decode_timestamp_response(response_der)
        info = response.tst_info
        when = info.gen_time.astimezone(dt.UTC)
        algorithm, imprint = info.message_imprint.hash_algorithm, info.message_imprint.message
    except (ValueError, TypeError) as exc:
        return TimestampCheck(False, problems=(f"timestamp.malformed: {exc}",))
    authority = _authority(response)
    digest = _DIGESTS.get(algorithm)
    if digest is None:
        return TimestampCheck(
            False, when, authority, (f"timestamp.malformed: unsupported digest {algorithm}",)
        )
    if digest(message).digest() != imprint:
        return TimestampCheck(
            False, when, authority, ("timestamp.mismatch: the token is for other bytes",)
        )
    if not store.anchors:
        return TimestampCheck(
            False,
            when,
            authority,
            ("timestamp.no-anchors: no time-stamp authority is trusted (trust/timestamp.pem)",),
        )
    try:
        VerifierBuilder(roots=list(store.anchors)).build().verify(response, imprint)
    except (VerificationError, ValueError) as exc:
        return TimestampCheck(False, when, authority, (f"timestamp.untrusted: {_short(exc)}",))
    return TimestampCheck(True, when, authority)
