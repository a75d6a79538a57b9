"""API keys and the accounts they speak for, as ``PROVSDK_SERVE_API_KEYS`` lists them.

``key=Account Name`` entries, comma-separated: the server makes every grant out to the account of
the key that asked, never to a name the request chooses. A bare ``key`` is an anonymous caller,
which may generate but is granted nothing. Errors name entries by position and never quote a
key: they end up on terminals and in CI logs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from provsdk.errors import ConfigurationError

__all__ = [
    "API_KEYS_ENV",
    "MAX_ACCOUNT_NAME",
    "ApiKeys",
    "account_name_problem",
    "key_problem",
    "parse_api_keys",
]

API_KEYS_ENV = "PROVSDK_SERVE_API_KEYS"
# The same bound and alphabet as a request's "licensee", so an account can always name itself.
MAX_ACCOUNT_NAME = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot be an API key, or None. Never mentions the key itself."""
    if not key:
        return "is empty"
    # A key travels as "Authorization: Bearer <key>": printable ASCII, no spaces.
    if not (key.isascii() and key.isprintable()) or any(c.isspace() for c in key):
        return "holds a space or a character an Authorization header cannot carry"
    return None


def account_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an account's name, or None."""
    if not name.strip():
        return "is blank"
    if name != name.strip():
        return "has spaces around it"
    if len(name) > MAX_ACCOUNT_NAME:
        return f"is over {MAX_ACCOUNT_NAME} characters"
    if _CONTROL.search(name):
        return "holds a control character"
    return None


@dataclass(frozen=True)
class ApiKeys:
    """The keys a server accepts: ``accounts`` maps a key to its account's name; ``anonymous``
    keys have no account."""

    accounts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    anonymous: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.accounts or self.anonymous)

    def __len__(self) -> int:
        return len(self.accounts) + len(self.anonymous)

    def __repr__(self) -> str:
        # Account names are fine to show; keys never are.
        names = sorted(set(self.accounts.values()))
        return f"ApiKeys(accounts={names!r}, anonymous=<{len(self.anonymous)} keys>)"


def parse_api_keys(value: str | None) -> ApiKeys:
    """The keys of ``value`` (``key=Account Name`` or a bare ``key``, comma-separated).

    Strict, because a typo here is a security setting gone wrong: an empty entry, a key with
    no name after ``=``, a name with no key before it, or a key listed twice is a
    :class:`ConfigurationError`. Unset or blank means no keys at all.
    """
    if value is None or not value.strip():
        return ApiKeys()
    accounts: dict[str, str] = {}
    anonymous: set[str] = set()
    first_seen: dict[str, int] = {}
    for number, entry in enumerate(value.split(","), start=1):
        where = f"{API_KEYS_ENV}: entry {number}"
        if not entry.strip():
            raise ConfigurationError(f"{where} is empty (a stray comma?)")
        key, equals, name = (part.strip() for part in entry.partition("="))
        if equals and not key:
            raise ConfigurationError(f"{where} has '=' with no key before it")
        problem = key_problem(key)
        if problem is not None:
            raise ConfigurationError(f"{where}: the key {problem}")
        if key in first_seen:
            raise ConfigurationError(
                f"{API_KEYS_ENV}: entries {first_seen[key]} and {number} have the same key"
            )
        first_seen[key] = number
        if not equals:
            anonymous.add(key)
            continue
        problem = account_name_problem(name)
        if problem is not None:
            raise ConfigurationError(
                f"{where}: the account name after '=' {problem} "
                "(write key=Account Name, or a bare key for an anonymous caller)"
            )
        accounts[key] = name
    return ApiKeys(MappingProxyType(accounts), frozenset(anonymous))
