"""The reference server of the licensed generator protocol (docs/protocol.md), as a FastAPI app.

``create_app`` touches neither keys nor disk, so the OpenAPI document can be produced anywhere;
the keys are loaded, the disclosure signed and the worker pool started when the app starts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Header, Request, Response
from fastapi.responses import FileResponse
from fastapi.security import HTTPBearer
from starlette.types import Receive, Scope, Send

from provsdk.models.origin import DigitalSourceType
from provsdk.providers.local import GENERATOR_NAME, GENERATOR_VERSION
from provsdk.server.auth import Caller, KeyCheck, RateLimiter
from provsdk.server.config import ServerConfig
from provsdk.server.errors import ApiError, install_handlers
from provsdk.server.generations import MODEL_ID, Generations, Job, StoredAudio, load_credentials
from provsdk.server.middleware import CALLER_KEY, ProtocolMiddleware
from provsdk.server.schemas import (
    ErrorBody,
    GenerationCreated,
    GenerationError,
    GenerationRequest,
    GenerationStatus,
    GrantBody,
    LicenceOfferBody,
    ModelBody,
    ModelList,
)
from provsdk.server.softbinding import LARGE_BODIES, open_served_repository, softbinding_routes

__all__ = ["TITLE", "VERSION", "create_app"]

TITLE = "provsdk licensed generator protocol"
VERSION = "1"
_FORMATS: list[Any] = ["wav", "mp3", "flac", "m4a"]


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    described: dict[int | str, dict[str, Any]] = {
        status: {"model": ErrorBody, "description": _DESCRIPTIONS[status]} for status in statuses
    }
    # "default" also keeps FastAPI from documenting its own 422 shape, which we never send.
    described["default"] = {"model": ErrorBody, "description": "Any other error."}
    return described


_DESCRIPTIONS = {
    400: "invalid_request: a malformed or out-of-range request.",
    401: "unauthorized: a missing or unknown API key.",
    403: "forbidden: a licensee other than the API key's account (or any, for a key with none).",
    404: "not_found: no such generation, or nothing of this kind for it (yet).",
    409: "idempotency_conflict: the key was used with another body.",
    413: "too_large: the request body is over the limit.",
    429: "rate_limited: too many requests; wait Retry-After seconds.",
}
_OVER_BOUNDS = (
    "rate_limited: too many requests, or the API key's generations queued or running, or its "
    "seconds of audio on the server, are at their limit; wait Retry-After seconds (or delete "
    "generations it no longer needs)."
)


class _OpenFileResponse(Response):
    """Sends a file that is already open: the bytes sent are those of the file checked when
    it was opened, even if its name is deleted or reused meanwhile (a file response that opens
    by name would fail halfway, after its 200, if the file vanished in between)."""

    chunk_size = 64 * 1024

    def __init__(self, audio: StoredAudio) -> None:
        self._file = audio.file
        self._size = audio.size
        headers = {
            "content-length": str(audio.size),
            "content-disposition": f'attachment; filename="{audio.filename}"',
        }
        super().__init__(media_type=audio.content_type, headers=headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            start = {"type": "http.response.start", "status": self.status_code}
            await send({**start, "headers": self.raw_headers})
            left = self._size
            while left > 0:
                chunk = await anyio.to_thread.run_sync(self._file.read, min(left, self.chunk_size))
                if not chunk:
                    break  # cut short: the client sees a body shorter than announced
                left -= len(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            self._file.close()


def _generations(request: Request) -> Generations:
    service: Generations = request.app.state.generations
    return service


def _caller(request: Request) -> Caller:
    caller: Caller = request.scope[CALLER_KEY]
    return caller


Service = Annotated[Generations, Depends(_generations)]
Who = Annotated[Caller, Depends(_caller)]


def _status(job: Job) -> GenerationStatus:
    base = f"/v1/generations/{job.id}"
    fields: dict[str, Any] = {
        "id": job.id,
        "status": job.status,
        "model": job.request.model,
        "created_at": job.created_at,
        "seed": job.seed,
        "format": job.request.format,
        "content_type": job.content_type,
        "finish_reason": job.finish_reason,
        "error": GenerationError(code=job.error[0], message=job.error[1]) if job.error else None,
    }
    if job.status == "succeeded":
        fields.update(size=job.size, sha256=job.sha256, audio_url=f"{base}/audio")
        if job.grant is not None:
            fields["grant_url"] = f"{base}/grant"
    return GenerationStatus(**fields)


def _check(config: ServerConfig, request: GenerationRequest) -> None:
    if request.model != MODEL_ID:
        raise ApiError(400, "invalid_request", f"unknown model {request.model!r}; see /v1/models")
    if request.duration > config.duration_limit:
        raise ApiError(
            400, "invalid_request", f"duration must be at most {config.duration_limit} seconds"
        )
    if not request.prompt.strip():
        raise ApiError(400, "invalid_request", "the prompt is blank")


def _granted(who: Caller, request: GenerationRequest) -> GenerationRequest:
    """``request`` with the licensee its grant will name: always the caller's own account.

    A provider-signed grant names its licensee as a fact, so the name cannot be the caller's
    to choose: anyone holding some key could otherwise be granted rights in another company's
    name.
    """
    asked = request.licensee
    if who.account is None:
        if asked is not None:
            raise ApiError(
                403,
                "forbidden",
                "this API key belongs to no account, so no grant can be issued to "
                f"{asked!r}: omit the licensee",
            )
        return request
    if asked is not None and asked != who.account:
        raise ApiError(
            403,
            "forbidden",
            f"the licensee {asked!r} is not this API key's account ({who.account!r}): "
            "omit the licensee, or name your own account",
        )
    # Spelt out, so that naming one's own account and omitting it are the same request.
    return request.model_copy(update={"licensee": who.account})


def _routes(config: ServerConfig) -> APIRouter:
    # Authentication happens in ProtocolMiddleware; this only declares it in the OpenAPI.
    bearer = HTTPBearer(auto_error=False, description="An API key of the server.")
    router = APIRouter(prefix="/v1", dependencies=[Depends(bearer)])
    offer = config.licence_offer

    @router.get("/models", response_model=ModelList, responses=_errors(401, 429))
    async def list_models(service: Service) -> ModelList:
        """The models this server renders with, their disclosures and licence offers."""
        model = ModelBody(
            id=MODEL_ID,
            name=GENERATOR_NAME,
            version=GENERATOR_VERSION,
            digital_source_type=DigitalSourceType.ALGORITHMIC_MEDIA.short,
            formats=_FORMATS,
            max_duration=config.duration_limit,
            disclosure=service.disclosure,
            licence_offer=LicenceOfferBody(
                purposes=list(offer.purposes),
                territories=list(offer.territories),
                term_days=offer.term_days,
            ),
        )
        return ModelList(models=[model])

    @router.post(
        "/generations",
        status_code=202,
        response_model=GenerationCreated,
        responses=_errors(400, 401, 403, 409, 413, 429)
        | {
            200: {"model": GenerationCreated, "description": "A repeated request's generation."},
            429: {"model": ErrorBody, "description": _OVER_BOUNDS},
        },
    )
    async def create_generation(
        body: GenerationRequest,
        idempotency_key: Annotated[
            str, Header(alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[ -~]+$")
        ],
        response: Response,
        service: Service,
        who: Who,
    ) -> GenerationCreated:
        """Start a generation; at most one is ever made per Idempotency-Key.

        Its grant is made out to the API key's account; a key with no account gets none.
        """
        _check(config, body)
        job, created = service.submit(who.id, idempotency_key, _granted(who, body))
        if not created:
            response.status_code = 200
        response.headers["Location"] = f"/v1/generations/{job.id}"
        return GenerationCreated(
            id=job.id, status=_status(job).status, model=body.model, created_at=job.created_at
        )

    @router.get(
        "/generations/{generation_id}",
        response_model=GenerationStatus,
        response_model_exclude_unset=True,
        responses=_errors(401, 404, 429),
    )
    async def get_generation(generation_id: str, service: Service, who: Who) -> GenerationStatus:
        """The state of a generation; poll it with backoff."""
        return _status(service.get(who.id, generation_id))

    @router.delete(
        "/generations/{generation_id}",
        status_code=204,
        response_class=Response,
        responses=_errors(401, 404, 429)
        | {409: {"model": ErrorBody, "description": "not_finished: it is queued or running."}},
    )
    async def delete_generation(generation_id: str, service: Service, who: Who) -> Response:
        """Delete a finished generation and its audio, freeing the seconds it held."""
        service.delete(who.id, generation_id)
        return Response(status_code=204)

    @router.get(
        "/generations/{generation_id}/audio",
        response_class=FileResponse,
        responses=_errors(401, 404, 429)
        | {200: {"content": {f"audio/{k}": {} for k in ("wav", "mpeg", "flac", "mp4")}}},
    )
    async def get_audio(generation_id: str, service: Service, who: Who) -> Response:
        """The audio bytes of a generation that succeeded."""
        return _OpenFileResponse(service.open_audio(who.id, generation_id))

    @router.get(
        "/generations/{generation_id}/grant",
        response_model=GrantBody,
        responses=_errors(401, 404, 429),
    )
    async def get_grant(generation_id: str, service: Service, who: Who) -> GrantBody:
        """The licensor-signed rights grant for the generation's output."""
        job = service.get(who.id, generation_id)
        if job.grant is None:
            why = (
                "the API key belongs to no account"
                if job.status == "succeeded"
                else f"it is {job.status}"
            )
            raise ApiError(404, "not_found", f"the generation has no grant ({why})")
        return GrantBody(grant=job.grant)

    return router


def create_app(config: ServerConfig) -> FastAPI:
    """The server for ``config``; nothing is loaded until it starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        repository = open_served_repository(config.repository) if config.repository else None
        app.state.repository = repository
        service = Generations(config, load_credentials(config.home))
        app.state.generations = service
        try:
            yield
        finally:
            # Waits for running jobs; off the event loop so open requests can still finish.
            await anyio.to_thread.run_sync(service.close)
            if repository is not None:
                repository.close()

    app = FastAPI(
        title=TITLE,
        version=VERSION,
        description="Generators that say what their models learned from and grant rights "
        "over their outputs. See docs/protocol.md.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.config = config
    install_handlers(app)
    app.add_middleware(
        ProtocolMiddleware,
        keys=KeyCheck(config.key_accounts, insecure_no_auth=config.insecure_no_auth),
        limiter=RateLimiter(config.rate_limit),
        max_body=config.max_body,
        # An asset to match or a store to publish is a file, not a small JSON request.
        large_bodies=LARGE_BODIES if config.repository is not None else None,
    )
    app.include_router(_routes(config))
    if config.repository is not None:
        app.include_router(softbinding_routes())
    return app
