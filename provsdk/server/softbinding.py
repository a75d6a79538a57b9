"""The C2PA soft-binding resolution API (version 1.1.0 of its OpenAPI) over a manifest
repository, mounted under ``/v1`` when the server is given one (``ServerConfig.repository``).

The API's routes: ``GET``/``POST /matches/byBinding``, ``POST /matches/byContent`` (the asset's
bytes; the server fingerprints them), ``GET /manifests/{manifestId}`` (the store, as
``application/c2pa``) and ``GET /services/supportedAlgorithms``. Two provsdk extensions, which
the API does not define: ``POST /matches/byFingerprint`` (a Chromaprint fingerprint instead of
the asset: what :class:`~provsdk.repository.http.HttpRepository` sends, so audio never leaves
the client) and ``POST /manifests`` (publishing). Each match carries the API's
``manifestId`` and integer ``similarityScore`` (0-100) and provsdk's ``score`` (0..1) and
``offsetSeconds``.

Every route needs an API key, as generations do (the middleware checks it). What the
repository answers is a candidate: clients verify the store they fetch.
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field

from provsdk.errors import InputError
from provsdk.repository import Match
from provsdk.repository.limits import (
    MAX_FINGERPRINT_VALUES,
    MAX_LABEL_CHARS,
    MAX_STORE_BYTES,
    LabelTaken,
)
from provsdk.repository.sqlite import Entry, SqliteRepository
from provsdk.server.errors import ApiError
from provsdk.server.schemas import ErrorBody
from provsdk.softbinding.audio_code import ALG, code_from_iscc
from provsdk.softbinding.fingerprint import Fingerprint, fingerprint_file

__all__ = [
    "API_VERSION",
    "LARGE_BODIES",
    "MAX_ASSET_BYTES",
    "MAX_PUBLICATION_BYTES",
    "MatchBody",
    "QueryResult",
    "open_served_repository",
    "softbinding_routes",
]

API_VERSION = "1.1.0"
# What the two routes whose bodies are files may receive, for the middleware's per-path limits
# (every other route keeps ServerConfig.max_body): an asset of about three minutes of CD-quality
# WAV, or of hours of MP3; a publication carries a store of at most MAX_STORE_BYTES and a
# fingerprint of at most MAX_FINGERPRINT_VALUES, both in base64, and a little JSON.
MAX_ASSET_BYTES = 32 * 1024 * 1024
MAX_PUBLICATION_BYTES = (MAX_STORE_BYTES + 4 * MAX_FINGERPRINT_VALUES) * 4 // 3 + 64 * 1024
LARGE_BODIES = {"/v1/matches/byContent": MAX_ASSET_BYTES, "/v1/manifests": MAX_PUBLICATION_BYTES}
_MAX_RESULTS = 100
_DEFAULT_RESULTS = 10
_Results = Annotated[int, Query(alias="maxResults", ge=1, le=_MAX_RESULTS)]


class MatchBody(BaseModel):
    manifestId: str = Field(description="The active manifest label of the matched store.")
    similarityScore: int = Field(ge=0, le=100, description="Strength of the match, 0-100.")
    score: float = Field(ge=0, le=1, description="provsdk: the aligned score, 0..1.")
    offsetSeconds: float = Field(
        description="provsdk: where the query starts within the registered track."
    )


class QueryResult(BaseModel):
    """``c2pa.softBindingQueryResult``."""

    matches: list[MatchBody]


class BindingQuery(BaseModel):
    """``c2pa.softBindingQuery``."""

    alg: str = Field(max_length=256)
    value: str = Field(max_length=4096)


class FingerprintQuery(BaseModel):
    fingerprint: str = Field(description="Base64 of the little-endian unsigned 32-bit values.")
    maxResults: int = Field(default=_DEFAULT_RESULTS, ge=1, le=_MAX_RESULTS)


class Publication(BaseModel):
    manifestId: str = Field(max_length=MAX_LABEL_CHARS)
    store: str = Field(description="Base64 of the C2PA manifest store.")
    alg: str = Field(description=f"Only {ALG}.")
    value: str = Field(max_length=256, description="The ISCC Audio-Code, as text.")
    fingerprint: str = Field(description="Base64 of the little-endian unsigned 32-bit values.")


class Published(BaseModel):
    manifestId: str
    created: bool


def _body(match: Match) -> MatchBody:
    return MatchBody(
        manifestId=match.manifest,
        similarityScore=max(0, min(100, round(match.score * 100))),
        score=max(0.0, min(1.0, match.score)),
        offsetSeconds=match.offset_seconds,
    )


def _result(matches: list[Match], limit: int) -> QueryResult:
    return QueryResult(matches=[_body(m) for m in matches[:limit]])


def _decoded(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "invalid_request", f"{what} is not valid base64") from None


def _fingerprint(text: str) -> Fingerprint:
    try:
        return Fingerprint.from_bytes(_decoded(text, "the fingerprint"))
    except ValueError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from None


def _refused(exc: InputError) -> ApiError:
    return ApiError(400, "invalid_request", str(exc))


def _repository(request: Request) -> SqliteRepository:
    repository: SqliteRepository = request.app.state.repository
    return repository


def _check_alg(alg: str | None) -> None:
    if alg is not None and alg != ALG:
        raise ApiError(
            400, "invalid_request", f"unsupported algorithm {alg!r}; this server has {ALG}"
        )


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "invalid_request: a malformed query or asset."},
    401: {"model": ErrorBody, "description": "unauthorized: a missing or unknown API key."},
    "default": {"model": ErrorBody, "description": "Any other error."},
}


def softbinding_routes() -> APIRouter:
    bearer = HTTPBearer(auto_error=False, description="An API key of the server.")
    router = APIRouter(prefix="/v1", dependencies=[Depends(bearer)], tags=["soft binding"])

    @router.get("/matches/byBinding", response_model=QueryResult, responses=_ERRORS)
    def query_by_binding(
        request: Request,
        alg: Annotated[str, Query(max_length=256)],
        value: Annotated[str, Query(max_length=4096)],
        max_results: _Results = _DEFAULT_RESULTS,
    ) -> QueryResult:
        """Manifests registered with exactly this soft-binding value."""
        return _result(_repository(request).matches_by_binding(alg, value), max_results)

    @router.post("/matches/byBinding", response_model=QueryResult, responses=_ERRORS)
    def query_by_large_binding(
        request: Request, body: BindingQuery, max_results: _Results = _DEFAULT_RESULTS
    ) -> QueryResult:
        """The same, with the value in the body."""
        return _result(_repository(request).matches_by_binding(body.alg, body.value), max_results)

    @router.post(
        "/matches/byContent",
        response_model=QueryResult,
        responses=_ERRORS | {413: {"model": ErrorBody, "description": "too_large: the asset."}},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"audio/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        },
    )
    async def query_by_content(
        request: Request,
        alg: Annotated[str | None, Query(max_length=256)] = None,
        max_results: _Results = _DEFAULT_RESULTS,
        hint_alg: Annotated[str | None, Query(alias="hintAlg", max_length=256)] = None,
        hint_value: Annotated[str | None, Query(alias="hintValue", max_length=4096)] = None,
    ) -> QueryResult:
        """Manifests whose registered sound is in the uploaded audio (a whole track, a
        re-encode, an excerpt). A ``hintAlg``/``hintValue`` soft binding adds its matches."""
        _check_alg(alg)
        asset = await request.body()  # the middleware has read it already, within its limit
        if not asset:
            raise ApiError(400, "invalid_request", "the request body (the asset) is empty")
        repository = _repository(request)

        def lookup() -> list[Match]:
            try:
                fingerprint = _fingerprint_of(asset)
                matches = repository.matches_by_content(fingerprint, limit=max_results)
            except InputError as exc:
                raise _refused(exc) from None
            if hint_alg is not None and hint_value is not None:
                seen = {m.manifest for m in matches}
                hinted = repository.matches_by_binding(hint_alg, hint_value)
                matches += [m for m in hinted if m.manifest not in seen]
            return matches

        return _result(await anyio.to_thread.run_sync(lookup), max_results)

    @router.post("/matches/byFingerprint", response_model=QueryResult, responses=_ERRORS)
    def query_by_fingerprint(request: Request, body: FingerprintQuery) -> QueryResult:
        """provsdk extension: manifests whose registered sound contains this Chromaprint
        fingerprint's (the client fingerprints the audio; it never uploads it)."""
        try:
            found = _repository(request).matches_by_content(
                _fingerprint(body.fingerprint), limit=body.maxResults
            )
        except InputError as exc:
            raise _refused(exc) from None
        return _result(found, body.maxResults)

    @router.get(
        "/manifests/{manifestId}",
        response_class=Response,
        responses=_ERRORS
        | {
            200: {"content": {"application/c2pa": {}}, "description": "The manifest store."},
            404: {"model": ErrorBody, "description": "not_found: no such manifest."},
        },
    )
    def get_manifest(
        request: Request,
        manifest_id: Annotated[str, PathParam(alias="manifestId", max_length=MAX_LABEL_CHARS)],
        return_active: Annotated[bool, Query(alias="returnActiveManifest")] = False,
    ) -> Response:
        """The manifest store published under this manifest's label, as published."""
        if return_active:
            raise ApiError(
                501, "not_implemented", "returnActiveManifest: only whole stores are kept"
            )
        store = _repository(request).manifest_store(manifest_id)
        if store is None:
            raise ApiError(404, "not_found", "no manifest with this id in the repository")
        return Response(store, media_type="application/c2pa")

    @router.post(
        "/manifests",
        status_code=201,
        response_model=Published,
        responses=_ERRORS
        | {
            200: {"model": Published, "description": "Already published: nothing changed."},
            409: {"model": ErrorBody, "description": "conflict: another store has this id."},
        },
    )
    def publish(request: Request, body: Publication, response: Response) -> Published:
        """provsdk extension: publish a manifest store with its Audio-Code and fingerprint.
        Publishing the same store again changes nothing (200); another store under a
        manifest id already taken is refused (409)."""
        _check_alg(body.alg)
        try:
            code = code_from_iscc(body.value)
        except ValueError as exc:
            raise ApiError(400, "invalid_request", str(exc)) from None
        store = _decoded(body.store, "the store")
        fingerprint = _fingerprint(body.fingerprint)
        repository = _repository(request)
        try:
            created = repository.publish_many([Entry(store, body.manifestId, code, fingerprint)])
        except LabelTaken as exc:
            raise ApiError(409, "conflict", str(exc)) from None
        except InputError as exc:
            raise _refused(exc) from None
        if not created:
            response.status_code = 200
        return Published(manifestId=body.manifestId, created=created == 1)

    @router.get("/services/supportedAlgorithms", responses=_ERRORS)
    def supported_algorithms() -> dict[str, list[dict[str, str]]]:
        """``c2pa.softBindingAlgList``: the one fingerprint this server matches."""
        return {"watermarks": [], "fingerprints": [{"alg": ALG}]}

    return router


def open_served_repository(path: Path) -> SqliteRepository:
    """The repository a server answers from: it must exist (``provsdk repo init`` makes it),
    so that a mistyped path is an error at start, not an empty repository."""
    return SqliteRepository(path)


def _fingerprint_of(asset: bytes) -> Fingerprint:
    # ffmpeg reads a file: the upload goes to a private temporary one, removed at once.
    with tempfile.TemporaryDirectory(prefix="provsdk-asset-") as folder:
        path = Path(folder) / "asset"
        path.write_bytes(asset)
        return fingerprint_file(path)
