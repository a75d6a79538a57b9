"""Checking a signer's certificate chain against the trust store of the role it signs for.

A signed statement carries its signer's chain in ``x5c`` (leaf first, then intermediates, the
anchor usually left out). :func:`validate_chain` answers one question: does a path lead from
that leaf to an anchor of *this role's* store, valid at the check date, with a leaf fit to
sign? Every reason it does not is reported as a :class:`Reason`: a stable code and a sentence.

Why a path builder of our own rather than ``cryptography.x509.verification``: that verifier
is a Web PKI verifier. Its extension policies can be relaxed far enough for our leaves (an end
entity policy of ``ExtensionPolicy.permit_all()`` accepts a leaf with no SAN and no clientAuth
EKU), but the public key and signature algorithms it accepts are the CA/Browser Forum list,
fixed, with no Python API to change them (pyca/cryptography issue 13391). It refuses Ed25519
keys ("Forbidden public key algorithm"), and Ed25519 is one of the algorithms provsdk signs
with. Using the library for EC and RSA and our own code for Ed25519 would give two sets of
rules depending on the key type, so every chain goes through the builder below. The library
also reports a failure as one free-text message, where callers here need a code per cause.

The rules, all failing closed:

* ``chain[0]`` is always the leaf: it holds the key the statement's signature is checked with,
  so it is never reordered. The other certificates may come in any order and may include junk
  or the anchor itself; the search tries every issuer whose subject equals the certificate's
  issuer name (exact attribute equality, stricter than RFC 5280's caseless matching).
* Each link's signature is verified with the issuer's public key, which must be an EC key on
  P-256, P-384 or P-521, an RSA key of 2048 bits or more (PKCS#1 v1.5 or PSS), or Ed25519;
  digests other than SHA-256/384/512 are refused. A link that fails is not a link: when no path
  remains, the result is ``chain.untrusted`` plus a ``chain.bad-signature`` entry per failed link,
  which is what a forged issuer name (right name, other key) or someone else's development PKI
  (every ``keys init`` names its roots alike) looks like.
* An anchor is reached when a certificate equals a store anchor byte for byte, or has its
  subject and public key (a re-issued root). Anchors are trusted by configuration, so their
  self-signature is not checked, but their validity period, CA flags and path length
  constraint are: an expired root is not trusted.
* Every certificate on the path, anchor included, must be valid at ``at``; every issuer must
  have basic constraints with the CA flag and a key usage with keyCertSign (a missing key usage
  counts as missing keyCertSign, as the C2PA profile requires it on CAs); pathLenConstraint is
  enforced, self-issued intermediates not counting. ``make_root`` roots carry pathLen 0, so they
  certify leaves directly and refuse any intermediate.
* A critical extension this module does not process (name constraints, policy constraints,
  anything unrecognised) on any certificate of the path makes it untrusted
  (``chain.unsupported-extension``), as RFC 5280 requires; so do extensions that cannot be parsed.
  EKU is not checked on CAs.
* Paths hold at most ``MAX_PATH`` certificates, leaf and anchor included; the search stops after
  ``_MAX_STEPS`` issuer candidates, so a hostile chain cannot make it run long.
* When several paths reach an anchor, a clean one wins; otherwise the problems of the path with
  the fewest are reported.
* The leaf's profile (:func:`profile_problems`) is checked at ``at``, one ``chain.profile`` entry
  per violation. Its date rules are left out because the leaf's validity is already reported as
  ``chain.expired`` / ``chain.not-yet-valid``; the same fact under two codes would only confuse.
* A leaf that is itself an anchor (a pinned self-signed signer) is trusted only if it meets the
  profile, so a pinned root can never sign statements with its CA key.
* An empty store trusts nothing: ``chain.no-anchors``, and no search.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from provsdk.credentials.profile import profile_problems
from provsdk.credentials.trust import TrustStore
from provsdk.models.reason import Reason

__all__ = [
    "MAX_PATH",
    "MAX_X5C",
    "ChainCheck",
    "chain_from_x5c",
    "validate_chain",
    "x5c_from_chain",
]

MAX_X5C = 10  # certificates accepted in one x5c header
MAX_PATH = 8  # certificates on a path, leaf and anchor included
_MAX_STEPS = 256  # issuer candidates tried in one validation
_MAX_X5C_CHARS = 65536  # one base64 certificate; real ones are a few kilobytes

_DIGESTS = frozenset({"sha256", "sha384", "sha512"})
_CURVES = frozenset({"secp256r1", "secp384r1", "secp521r1"})
_MIN_RSA_BITS = 2048
# Critical extensions whose meaning this module applies (or, for EKU and SAN, that constrain
# nothing a path depends on); any other critical extension fails the path.
_PROCESSED = frozenset(
    {
        x509.BasicConstraints.oid,
        x509.KeyUsage.oid,
        x509.ExtendedKeyUsage.oid,
        x509.SubjectAlternativeName.oid,
        x509.SubjectKeyIdentifier.oid,
        x509.AuthorityKeyIdentifier.oid,
    }
)


@dataclass(frozen=True)
class ChainCheck:
    """The verdict on one chain: trusted, or the reasons it is not."""

    trusted: bool
    problems: tuple[Reason, ...]
    subject: str | None
    anchor: str | None

    @property
    def codes(self) -> tuple[str, ...]:
        """The code of each problem, in order (``"chain.expired"``, ...)."""
        return tuple(p.code for p in self.problems)

    def to_dict(self) -> dict[str, object]:
        return {
            "trusted": self.trusted,
            "problems": [str(p) for p in self.problems],
            "subject": self.subject,
            "anchor": self.anchor,
        }


def x5c_from_chain(chain: Sequence[x509.Certificate]) -> list[str]:
    """The ``x5c`` header value for ``chain``: standard base64 DER, as RFC 7515 §4.1.6 says."""
    return [
        base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii") for c in chain
    ]


def chain_from_x5c(x5c: Sequence[str]) -> list[x509.Certificate]:
    """The certificates of an ``x5c`` header, in order; ValueError says what is wrong.

    The header comes from an unverified token, so its shape is checked before anything is
    decoded, and the messages never quote the input.
    """
    if isinstance(x5c, str | bytes | bytearray) or not isinstance(x5c, Sequence):
        raise ValueError("x5c must be a list of base64 certificates")
    if not x5c:
        raise ValueError("x5c is empty; it must hold at least the signing certificate")
    if len(x5c) > MAX_X5C:
        raise ValueError(f"x5c holds {len(x5c)} certificates; at most {MAX_X5C} are accepted")
    chain: list[x509.Certificate] = []
    for i, item in enumerate(x5c):
        if not isinstance(item, str):
            raise ValueError(f"x5c[{i}] is a {type(item).__name__}, not a base64 string")
        if len(item) > _MAX_X5C_CHARS:
            raise ValueError(f"x5c[{i}] is longer than {_MAX_X5C_CHARS} characters")
        try:
            # validate=True refuses whitespace and the base64url alphabet instead of silently
            # dropping them: RFC 7515 §4.1.6 specifies plain base64 here, unlike the rest of JWS.
            der = base64.b64decode(item, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(
                f"x5c[{i}] is not standard padded base64 (x5c uses base64, not base64url)"
            ) from None
        try:
            cert = x509.load_der_x509_certificate(der)
            # cryptography decodes names lazily; decode them now, so a name that is not valid
            # (a UTF8String that is not UTF-8, say) is this function's error, not a crash later.
            cert.subject.rfc4514_string()
            cert.issuer.rfc4514_string()
        except (ValueError, x509.InvalidVersion):
            raise ValueError(f"x5c[{i}] is not a DER-encoded X.509 certificate") from None
        chain.append(cert)
    return chain


def validate_chain(
    chain: Sequence[x509.Certificate], store: TrustStore, at: dt.datetime | None = None
) -> ChainCheck:
    """Whether ``chain`` (leaf first) leads to an anchor of ``store`` at ``at`` (default: now).

    Naive datetimes are taken as UTC. Unreadable extensions, keys and signature algorithms
    are reported as problems rather than raised.
    """
    when = _as_utc(at)
    no_anchors = [Reason("chain.no-anchors", store.empty_reason())] if not store.anchors else []
    if not chain:
        return ChainCheck(
            trusted=False,
            problems=(Reason("chain.empty", "no certificate was given"), *no_anchors),
            subject=None,
            anchor=None,
        )
    leaf = chain[0]
    problems = no_anchors + _validity(leaf, when) + _extension_problems(leaf)
    anchor: x509.Certificate | None = None
    if store.anchors:
        search = _Search(leaf, chain[1:], store.anchors, when)
        search.run()
        if search.best is not None:
            path_problems, anchor = search.best
            problems += path_problems
        else:
            problems += search.failure(store)
    problems += _profile(leaf, when)
    trusted = anchor is not None and not problems
    return ChainCheck(
        trusted=trusted,
        problems=tuple(problems),
        subject=_subject(leaf),
        anchor=_subject(anchor) if trusted and anchor is not None else None,
    )


def _as_utc(at: dt.datetime | None) -> dt.datetime:
    if at is None:
        return dt.datetime.now(dt.UTC)
    if at.tzinfo is None:
        return at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC)


def _subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or "(empty subject)"


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _spki(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    except (ValueError, UnsupportedAlgorithm):
        return None


def _identity(cert: x509.Certificate) -> tuple[bytes, bytes]:
    # Subject and key, not the DER: two certificates for the same name and key (a re-issue,
    # a cross-certificate) are the same CA, and a path must not pass through it twice.
    return cert.subject.public_bytes(), _spki(cert) or _der(cert)


def _extensions(cert: x509.Certificate) -> x509.Extensions | None:
    try:
        return cert.extensions
    except ValueError:
        # cryptography parses extensions lazily and raises on duplicates or bad encodings.
        return None


def _validity(cert: x509.Certificate, at: dt.datetime) -> list[Reason]:
    stamp = "%Y-%m-%d %H:%M:%S UTC"
    if at > cert.not_valid_after_utc:
        return [
            Reason(
                "chain.expired",
                f"{_subject(cert)} expired at {cert.not_valid_after_utc:{stamp}} "
                f"(checked at {at:{stamp}})",
            )
        ]
    if at < cert.not_valid_before_utc:
        return [
            Reason(
                "chain.not-yet-valid",
                f"{_subject(cert)} is not valid before "
                f"{cert.not_valid_before_utc:{stamp}} (checked at {at:{stamp}})",
            )
        ]
    return []


def _extension_problems(cert: x509.Certificate) -> list[Reason]:
    code = "chain.unsupported-extension"
    exts = _extensions(cert)
    if exts is None:
        return [Reason(code, f"{_subject(cert)} has extensions that cannot be read")]
    return [
        Reason(
            code,
            f"{_subject(cert)} has a critical {_extension_name(ext)} "
            "extension this verifier does not process",
        )
        for ext in exts
        if ext.critical and ext.oid not in _PROCESSED
    ]


def _extension_name(ext: x509.Extension[x509.ExtensionType]) -> str:
    if isinstance(ext.value, x509.UnrecognizedExtension):
        return ext.oid.dotted_string
    return type(ext.value).__name__


def _ca_problems(issuer: x509.Certificate, child: x509.Certificate) -> list[Reason]:
    exts = _extensions(issuer)
    if exts is None:
        return []  # already reported as chain.unsupported-extension
    issued = f"{_subject(issuer)} issued {_subject(child)}"
    problems: list[Reason] = []
    try:
        if not exts.get_extension_for_class(x509.BasicConstraints).value.ca:
            problems.append(Reason("chain.not-a-ca", f"{issued} but is not a CA"))
    except x509.ExtensionNotFound:
        problems.append(
            Reason("chain.not-a-ca", f"{issued} but has no basic constraints making it a CA")
        )
    try:
        if not exts.get_extension_for_class(x509.KeyUsage).value.key_cert_sign:
            problems.append(Reason("chain.not-a-ca", f"{issued} without keyCertSign usage"))
    except x509.ExtensionNotFound:
        problems.append(
            Reason("chain.not-a-ca", f"{issued} but has no key usage allowing keyCertSign")
        )
    return problems


def _path_length_problem(issuer: x509.Certificate, below: int) -> list[Reason]:
    exts = _extensions(issuer)
    if exts is None:
        return []
    try:
        limit = exts.get_extension_for_class(x509.BasicConstraints).value.path_length
    except x509.ExtensionNotFound:
        return []  # reported by _ca_problems
    if limit is None or below <= limit:
        return []
    return [
        Reason(
            "chain.path-length",
            f"{_subject(issuer)} allows {limit} intermediate CA(s) below it, the path has {below}",
        )
    ]


def _key_problem(cert: x509.Certificate) -> str | None:
    """Why ``cert``'s key may not certify others, or None."""
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return f"the public key of {_subject(cert)} cannot be read"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return None if key.curve.name in _CURVES else f"{key.curve.name} is not an accepted curve"
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < _MIN_RSA_BITS:
            return f"its {key.key_size}-bit RSA key is below {_MIN_RSA_BITS} bits"
        return None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return None
    return f"its {type(key).__name__} key is not an accepted type"


def _link_problem(child: x509.Certificate, issuer: x509.Certificate) -> Reason | None:
    """Why ``issuer`` did not sign ``child`` by our rules, or None when it did."""
    why = _link_fault(child, issuer)
    if why is None:
        return None
    return Reason(
        "chain.bad-signature",
        f"{_subject(child)} does not verify against {_subject(issuer)}: {why}",
    )


def _link_fault(child: x509.Certificate, issuer: x509.Certificate) -> str | None:
    weak = _key_problem(issuer)
    if weak is not None:
        return weak
    try:
        digest = child.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return "its signature algorithm is not supported"
    is_eddsa = isinstance(issuer.public_key(), ed25519.Ed25519PublicKey)
    if (digest is None) != is_eddsa or (digest is not None and digest.name not in _DIGESTS):
        name = digest.name if digest is not None else "no digest"
        return f"it is signed with {name}, which is not accepted"
    try:
        # The library checks the signature with the parameters the certificate declares
        # (PKCS#1 v1.5 or PSS for RSA, ECDSA with the digest, pure Ed25519) and that the key
        # type matches the declared algorithm.
        child.verify_directly_issued_by(issuer)
    except InvalidSignature:
        return "the signature was made with another key"
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return "its signature algorithm does not match the issuer's key"
    return None


@dataclass
class _Search:
    """Depth-first search for paths from the leaf to an anchor, keeping the best one."""

    leaf: x509.Certificate
    given: Sequence[x509.Certificate]
    anchors: tuple[x509.Certificate, ...]
    at: dt.datetime
    best: tuple[list[Reason], x509.Certificate] | None = None
    steps: int = 0
    cut_short: bool = False
    too_deep: bool = False
    bad_links: list[Reason] = field(default_factory=list)
    _links: dict[tuple[bytes, bytes], Reason | None] = field(default_factory=dict)
    _pool: list[x509.Certificate] = field(default_factory=list)

    def run(self) -> None:
        # The pool holds the given intermediates once each; a given copy of an anchor is left
        # out, because reaching that anchor through the store is the same and uses the store's
        # copy (which may be a re-issue with other dates).
        seen = {_der(self.leaf)}
        for cert in self.given:
            der = _der(cert)
            if der not in seen and self._anchor_for(cert) is None:
                seen.add(der)
                self._pool.append(cert)
        self._walk([self.leaf])

    def _anchor_for(self, cert: x509.Certificate) -> x509.Certificate | None:
        der, spki = _der(cert), _spki(cert)
        for anchor in self.anchors:
            if _der(anchor) == der:
                return anchor
        for anchor in self.anchors:
            if spki is not None and anchor.subject == cert.subject and _spki(anchor) == spki:
                return anchor
        return None

    def _clean(self) -> bool:
        return self.best is not None and not self.best[0]

    def _walk(self, path: list[x509.Certificate]) -> None:
        current = path[-1]
        anchor = self._anchor_for(current)
        if anchor is not None:
            self._consider(path, anchor)
            return
        if len(path) >= MAX_PATH:
            self.too_deep = True
            return
        on_path = {_identity(c) for c in path}
        # Anchors first: the shortest path is the likeliest, and it ends the search early.
        for issuer in [*self.anchors, *self._pool]:
            if issuer.subject != current.issuer or _identity(issuer) in on_path:
                continue
            if self._clean():
                return
            if self.steps >= _MAX_STEPS:
                self.cut_short = True
                return
            self.steps += 1
            problem = self._link(current, issuer)
            if problem is not None:
                if problem not in self.bad_links:
                    self.bad_links.append(problem)
                continue
            self._walk([*path, issuer])

    def _link(self, child: x509.Certificate, issuer: x509.Certificate) -> Reason | None:
        key = (_der(child), _der(issuer))
        if key not in self._links:
            self._links[key] = _link_problem(child, issuer)
        return self._links[key]

    def _consider(self, path: list[x509.Certificate], anchor: x509.Certificate) -> None:
        problems: list[Reason] = []
        for i in range(1, len(path)):
            issuer = path[i]
            problems += _validity(issuer, self.at)
            problems += _extension_problems(issuer)
            problems += _ca_problems(issuer, path[i - 1])
            # RFC 5280 §4.2.1.9: pathLen counts the intermediates between this CA and the
            # leaf, not counting self-issued ones (key rollover certificates).
            below = sum(1 for c in path[1:i] if c.subject != c.issuer)
            problems += _path_length_problem(issuer, below)
        if len(path) == 1 and _der(anchor) != _der(self.leaf):
            # The leaf is pinned through a different copy of itself; that copy must hold too.
            problems += _validity(anchor, self.at) + _extension_problems(anchor)
        if self.best is None or len(problems) < len(self.best[0]):
            self.best = (problems, anchor)

    def failure(self, store: TrustStore) -> list[Reason]:
        """The problems to report when no path reached an anchor."""
        why = f"no path from {_subject(self.leaf)} to an anchor of the {store.role} trust store"
        if self.cut_short:
            why += f" (search stopped after {_MAX_STEPS} candidate issuers)"
        problems = [Reason("chain.untrusted", why), *self.bad_links]
        if self.too_deep:
            problems.append(
                Reason("chain.path-length", f"no anchor within {MAX_PATH} certificates of the leaf")
            )
        return problems


def _profile(leaf: x509.Certificate, at: dt.datetime) -> list[Reason]:
    if _extensions(leaf) is None:
        return []  # profile_problems would raise; reported as chain.unsupported-extension
    # profile_problems also judges the dates; _validity already reported them (same strict
    # comparisons), so its two date sentences are dropped rather than said twice.
    dated = {
        f"it expired on {leaf.not_valid_after_utc:%Y-%m-%d}",
        f"it is not valid before {leaf.not_valid_before_utc:%Y-%m-%d}",
    }
    return [Reason("chain.profile", p) for p in profile_problems(leaf, at) if p not in dated]
