"""A repository behind ``provsdk serve``, over the C2PA soft-binding resolution API.

The lookups are the API's own routes (``/matches/byBinding``, ``/manifests/{manifestId}``);
two are provsdk extensions, because the API defines neither: ``POST /matches/byFingerprint``
(a Chromaprint fingerprint instead of the asset, so a client never uploads the audio) and
``POST /manifests`` (publishing). Every request goes through the providers' HTTP transport:
its retries, its refusal of plain http to another machine, its cap on answers, its redaction
of the API key. Nothing touches the network until a method is called.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import httpx

from provsdk.errors import ProviderResponseError
from provsdk.providers.transport import HttpTransport
from provsdk.repository import Match
from provsdk.repository.limits import LabelTaken, check_fingerprint, check_label, check_store
from provsdk.softbinding.audio_code import ALG, AudioCode
from provsdk.softbinding.fingerprint import Fingerprint

__all__ = ["API_PREFIX", "HttpRepository", "matches_from_json"]

API_PREFIX = "/v1"
_NAME = "manifest repository"
_MAX_RESULTS = 100


def matches_from_json(body: Any) -> list[Match]:
    """The matches of a ``c2pa.softBindingQueryResult``; ``ValueError`` on any other shape.

    ``score`` and ``offsetSeconds`` are provsdk's additions to each match; without them the
    API's integer ``similarityScore`` (0-100) is the score.
    """
    if not isinstance(body, dict) or not isinstance(body.get("matches"), list):
        raise ValueError("the answer has no list of matches")
    found = []
    for item in body["matches"][:_MAX_RESULTS]:
        if not isinstance(item, dict) or not isinstance(item.get("manifestId"), str):
            raise ValueError("a match names no manifestId")
        if "endpoint" in item:
            continue  # held by another repository: not followed, a key is never sent there
        score = item.get("score", item.get("similarityScore", 0) / 100)
        offset = item.get("offsetSeconds", 0.0)
        if not isinstance(score, int | float) or not isinstance(offset, int | float):
            raise ValueError("a match's score is not a number")
        found.append(Match(check_label(item["manifestId"]), float(score), float(offset)))
    return found


class HttpRepository:
    """The :class:`~provsdk.repository.Repository` of a ``provsdk serve`` at ``url``.

    ``url`` is the server (``https://host``) or its API root (``https://host/v1``). Plain
    ``http://`` is allowed to this machine only, as for every provider.
    """

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        base = url.rstrip("/")
        if not base.endswith(API_PREFIX):
            base += API_PREFIX
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = HttpTransport(base, provider=_NAME, headers=headers, transport=transport)
        self.url = base

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HttpRepository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"HttpRepository({self.url!r})"  # never the key

    def _matches(self, path: str, body: dict[str, Any]) -> list[Match]:
        # Lookups change nothing on the server: safe to retry.
        response = self._http.request("POST", path, idempotent=True, json=body)
        try:
            return matches_from_json(response.json())
        except ValueError as exc:
            raise ProviderResponseError(
                f"POST {path}: not a soft-binding query result ({exc})", provider=_NAME
            ) from None

    def publish(
        self, store: bytes, manifest: str, code: AudioCode, fingerprint: Fingerprint
    ) -> None:
        check_label(manifest)
        check_store(store, manifest)
        check_fingerprint(fingerprint)
        body = {
            "manifestId": manifest,
            "store": base64.b64encode(store).decode(),
            "alg": ALG,
            "value": code.iscc,
            "fingerprint": base64.b64encode(fingerprint.to_bytes()).decode(),
        }
        # Publishing is idempotent on the server (the same store under its label is a no-op),
        # so a retry after a lost answer cannot register anything twice.
        try:
            self._http.request("POST", "/manifests", idempotent=True, json=body)
        except ProviderResponseError as exc:
            if exc.status == 409:
                raise LabelTaken(exc.message) from None
            raise

    def matches_by_binding(self, alg: str, value: str) -> list[Match]:
        return self._matches("/matches/byBinding", {"alg": alg, "value": value})

    def matches_by_content(self, fingerprint: Fingerprint, *, limit: int = 5) -> list[Match]:
        check_fingerprint(fingerprint)
        body = {
            "fingerprint": base64.b64encode(fingerprint.to_bytes()).decode(),
            "maxResults": max(1, min(limit, _MAX_RESULTS)),
        }
        return self._matches("/matches/byFingerprint", body)[: max(0, limit)]

    def manifest_store(self, manifest: str) -> bytes | None:
        path = f"/manifests/{quote(check_label(manifest), safe=':')}"
        try:
            response = self._http.request("GET", path, idempotent=True)
        except ProviderResponseError as exc:
            if exc.status == 404:
                return None
            raise
        return response.content
