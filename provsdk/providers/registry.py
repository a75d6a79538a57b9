"""Providers by name. Factories import their module only when asked for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from provsdk.errors import ConfigurationError
from provsdk.providers.base import Provider

__all__ = ["get_provider", "provider_names", "register_provider"]

_REGISTRY: dict[str, Callable[..., Provider]] = {}


def register_provider(name: str, factory: Callable[..., Provider]) -> None:
    """Make ``factory(**options)`` available as ``get_provider(name, **options)``."""
    _REGISTRY[name] = factory


def provider_names() -> list[str]:
    return sorted(_REGISTRY)


def get_provider(name: str, **options: Any) -> Provider:
    try:
        factory = _REGISTRY[name]
    except KeyError:
        known = ", ".join(provider_names())
        raise ConfigurationError(f"unknown provider {name!r}; available: {known}") from None
    try:
        return factory(**options)
    except TypeError as exc:  # an option the provider does not take
        raise ConfigurationError(f"provider {name!r}: {exc}") from None


def _local(**options: Any) -> Provider:
    from provsdk.providers.local_provider import LocalProvider

    if options:
        raise ConfigurationError(f"the local provider takes no options (got {sorted(options)})")
    return LocalProvider()


def _http(**options: Any) -> Provider:
    from provsdk.providers.http import HttpProvider

    return HttpProvider(**options)


def _stability(**options: Any) -> Provider:
    from provsdk.providers.commercial.stability import StabilityProvider

    return StabilityProvider(**options)


def _elevenlabs(**options: Any) -> Provider:
    from provsdk.providers.commercial.elevenlabs import ElevenLabsProvider

    return ElevenLabsProvider(**options)


def _beatoven(**options: Any) -> Provider:
    from provsdk.providers.commercial.beatoven import BeatovenProvider

    return BeatovenProvider(**options)


register_provider("local", _local)
register_provider("http", _http)
register_provider("stability", _stability)
register_provider("elevenlabs", _elevenlabs)
register_provider("beatoven", _beatoven)
