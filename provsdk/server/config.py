"""What a reference server is told at start: keys, limits, and the licence it offers."""

from __future__ import annotations

from dataclasses import dataclass, field

from provsdk.home import ProvsdkHome

__all__ = ["API_KEYS_ENV", "LicenceOffer", "ServerConfig", "parse_api_keys"]

API_KEYS_ENV = "PROVSDK_SERVE_API_KEYS"


@dataclass(frozen=True)
class LicenceOffer:
    """The terms every output is granted on when the request names a licensee."""

    purposes: tuple[str, ...] = ("commercial", "editorial")
    territories: tuple[str, ...] = ("WORLD",)
    term_days: int = 3650


@dataclass(frozen=True)
class ServerConfig:
    """Settings of one server.

    ``api_keys`` empty means every request is refused (fail closed) unless ``insecure_no_auth``
    turns authentication off, which is only for experiments on one's own machine.
    ``latency`` is an artificial delay, in seconds, added to every generation job (benchmarks
    use it to imitate a slow remote model). ``rate_limit`` is requests per second per API key.
    """

    home: ProvsdkHome
    api_keys: frozenset[str] = frozenset()
    insecure_no_auth: bool = False
    latency: float = 0.0
    workers: int = 4
    max_duration: int = 600
    max_body: int = 64 * 1024
    rate_limit: float = 50.0
    licence_offer: LicenceOffer = field(default_factory=LicenceOffer)
    # The provider's name: it signs the disclosure and is the licensor of every output.
    provider_name: str = "provsdk"
    # An RFC 3161 authority that timestamps every grant issued, so grants outlive the
    # licensor certificate. A job whose grant cannot be timestamped fails.
    tsa_url: str | None = None

    def __post_init__(self) -> None:
        if self.latency < 0 or self.workers < 1 or self.max_duration <= 0:
            raise ValueError("latency must be >= 0, workers >= 1 and max_duration > 0")
        if self.max_body < 1 or self.rate_limit <= 0:
            raise ValueError("max_body and rate_limit must be positive")

    def __repr__(self) -> str:
        # Never show the keys themselves: a repr ends up in logs and tracebacks.
        return (
            f"ServerConfig(home={self.home!r}, api_keys=<{len(self.api_keys)} keys>, "
            f"insecure_no_auth={self.insecure_no_auth}, latency={self.latency}, "
            f"workers={self.workers}, rate_limit={self.rate_limit})"
        )


def parse_api_keys(value: str | None) -> frozenset[str]:
    """The keys of a comma-separated list such as ``PROVSDK_SERVE_API_KEYS``; blanks dropped."""
    return frozenset(k.strip() for k in (value or "").split(",") if k.strip())
