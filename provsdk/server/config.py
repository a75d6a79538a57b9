"""What a reference server is told at start: keys and their accounts, limits, and the licence
it offers."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from cryptography import x509

from provsdk.credentials.profile import subject_names
from provsdk.errors import ConfigurationError
from provsdk.grants.vocabulary import purpose_name, territory_code
from provsdk.home import ProvsdkHome
from provsdk.server.accounts import (
    API_KEYS_ENV,
    ApiKeys,
    account_name_problem,
    key_problem,
    parse_api_keys,
)

__all__ = [
    "API_KEYS_ENV",
    "PROVIDER_NAME_ENV",
    "ApiKeys",
    "LicenceOffer",
    "ServerConfig",
    "check_host",
    "is_loopback_host",
    "parse_api_keys",
    "provider_name_of",
    "provider_name_problem",
]

PROVIDER_NAME_ENV = "PROVSDK_SERVE_PROVIDER_NAME"
# The name when the provider certificate names nobody usable.
FALLBACK_PROVIDER_NAME = "provsdk"

# Idempotency keys, and the generations they name, are forgotten after a day.
KEEP_SECONDS = 24 * 3600


@dataclass(frozen=True)
class LicenceOffer:
    """The terms every output is granted on, to the account of the key that asked for it."""

    purposes: tuple[str, ...] = ("commercial", "editorial")
    territories: tuple[str, ...] = ("WORLD",)
    term_days: int = 3650

    def __post_init__(self) -> None:
        # Checked at start-up, as grant create checks them: a misspelt offer would otherwise
        # fail every generation's grant, long after the operator walked away.
        if not self.purposes or not self.territories:
            raise ConfigurationError("the licence offer needs a purpose and a territory")
        object.__setattr__(self, "purposes", tuple(purpose_name(p) for p in self.purposes))
        object.__setattr__(self, "territories", tuple(territory_code(t) for t in self.territories))
        if self.term_days < 1:
            raise ConfigurationError(
                f"the licence offer's term must be a day or more, not {self.term_days}"
            )


@dataclass(frozen=True)
class ServerConfig:
    """Settings of one server.

    ``accounts`` maps an API key to the name of the account it speaks for: that account is the
    licensee of every grant issued for the key's generations. ``api_keys`` are keys of no
    account: accepted, but granted nothing. Neither means every request is refused (fail
    closed) unless ``insecure_no_auth`` turns authentication off, which is only for experiments
    on one's own machine and issues no grants either.

    ``latency`` is an artificial delay, in seconds, added to every generation job (benchmarks
    use it to imitate a slow remote model). ``rate_limit`` is requests per second per API key.
    Per API key too: at most ``max_outstanding`` generations queued or running, and at most
    ``max_stored_seconds`` of audio kept (or being made) on the server; a generation holds its
    seconds until it fails, is deleted or expires ``keep_seconds`` after it was asked for.

    ``storage_dir`` is the folder in which the server makes its private folder for rendered
    audio (default: the system's temporary folder). If that private folder vanishes while
    the server runs, the next generation makes a new one; if ``storage_dir`` itself is gone,
    generations fail (``unavailable``) until it is back: it is the operator's, not ours to
    recreate (a missing mount point would fill the disk beneath it).
    """

    home: ProvsdkHome
    api_keys: frozenset[str] = frozenset()
    # hash=False: a mapping cannot be hashed, and the keys need not be part of a hash anyway.
    accounts: Mapping[str, str] = field(default_factory=dict, hash=False)
    insecure_no_auth: bool = False
    latency: float = 0.0
    workers: int = 4
    max_duration: int = 600
    max_body: int = 64 * 1024
    rate_limit: float = 50.0
    max_outstanding: int = 4
    max_stored_seconds: int = 600
    keep_seconds: float = KEEP_SECONDS
    licence_offer: LicenceOffer = field(default_factory=LicenceOffer)
    # The provider's name: it signs the disclosure and is the licensor of every output.
    # None: the provider certificate's organisation, else its common name (provider_name_of).
    provider_name: str | None = None
    # An RFC 3161 authority that timestamps every grant issued, so grants outlive the
    # licensor certificate. A job whose grant cannot be timestamped fails.
    tsa_url: str | None = None
    storage_dir: Path | None = None
    # A manifest repository (a SQLite file) to serve over the C2PA soft-binding resolution API
    # under /v1 (provsdk.server.softbinding); None: those routes do not exist.
    repository: Path | None = None

    def __post_init__(self) -> None:
        if self.latency < 0 or self.workers < 1 or self.max_duration <= 0:
            raise ValueError("latency must be >= 0, workers >= 1 and max_duration > 0")
        if self.max_body < 1 or self.rate_limit <= 0:
            raise ValueError("max_body and rate_limit must be positive")
        if self.max_outstanding < 1 or self.max_stored_seconds < 1 or self.keep_seconds <= 0:
            raise ValueError(
                "max_outstanding, max_stored_seconds and keep_seconds must be positive"
            )
        # A copy the caller cannot change under a running server.
        object.__setattr__(self, "accounts", MappingProxyType(dict(self.accounts)))
        for key in (*self.api_keys, *self.accounts):
            problem = key_problem(key)
            if problem is not None:
                raise ValueError(f"an API key {problem}")
        for name in self.accounts.values():
            problem = account_name_problem(name)
            if problem is not None:
                raise ValueError(f"the account name {name!r} {problem}")
        if self.provider_name is not None:
            problem = provider_name_problem(self.provider_name)
            if problem is not None:
                raise ValueError(f"the provider name {self.provider_name!r} {problem}")
        if not self.api_keys.isdisjoint(self.accounts):
            raise ValueError("a key cannot be both anonymous and an account's")

    @property
    def key_accounts(self) -> Mapping[str, str | None]:
        """Every accepted key, with its account's name (None: anonymous)."""
        merged: dict[str, str | None] = dict.fromkeys(self.api_keys)
        merged.update(self.accounts)
        return merged

    @property
    def duration_limit(self) -> int:
        """The longest generation a key can ask for: one that fits its storage on its own."""
        return min(self.max_duration, self.max_stored_seconds)

    def __repr__(self) -> str:
        # Never show the keys themselves: a repr ends up in logs and tracebacks.
        return (
            f"ServerConfig(home={self.home!r}, api_keys=<{len(self.api_keys)} keys>, "
            f"accounts=<{len(self.accounts)} keys>, insecure_no_auth={self.insecure_no_auth}, "
            f"latency={self.latency}, workers={self.workers}, rate_limit={self.rate_limit}, "
            f"max_outstanding={self.max_outstanding}, "
            f"max_stored_seconds={self.max_stored_seconds}, repository={self.repository})"
        )


def provider_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name the provider in its disclosures and grants, or None."""
    problem = account_name_problem(name)
    if problem is None and not name.isprintable():
        problem = "holds a control or formatting character"
    return problem


def provider_name_of(leaf: x509.Certificate) -> str:
    """The name a provider certificate vouches for: its organisation, else its common name
    (the first of them fit to be shown), else ``"provsdk"``."""
    usable = (n for n in subject_names(leaf) if provider_name_problem(n) is None)
    return next(usable, FALLBACK_PROVIDER_NAME)


def is_loopback_host(host: str) -> bool:
    """``localhost`` or an address of 127.0.0.0/8 or ::1. Names are not resolved: what a name
    points to can change after the check."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False


def check_host(host: str, *, insecure_no_auth: bool) -> None:
    """Refuse to serve without authentication on an address other machines can reach."""
    if insecure_no_auth and not is_loopback_host(host):
        raise ConfigurationError(
            f"--insecure-no-auth serves this machine only: --host {host} is not a loopback "
            "address (use 127.0.0.1, ::1 or localhost, or set PROVSDK_SERVE_API_KEYS)"
        )
