"""The JSON bodies of the protocol (docs/protocol.md), as pydantic models for the OpenAPI."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from provsdk.server.accounts import MAX_ACCOUNT_NAME

__all__ = [
    "MAX_PROMPT_CHARS",
    "ErrorBody",
    "ErrorDetail",
    "GenerationCreated",
    "GenerationError",
    "GenerationRequest",
    "GenerationStatus",
    "GrantBody",
    "LicenceOfferBody",
    "ModelBody",
    "ModelList",
]

MAX_PROMPT_CHARS = 2000

Format = Literal["wav", "mp3", "flac", "m4a"]
Status = Literal["queued", "running", "succeeded", "failed"]


class ErrorDetail(BaseModel):
    code: str = Field(examples=["rate_limited"])
    message: str = Field(description="One line for a person.")
    request_id: str = Field(examples=["req_0f3c..."])


class ErrorBody(BaseModel):
    error: ErrorDetail


class LicenceOfferBody(BaseModel):
    purposes: list[str]
    territories: list[str]
    term_days: int
    grant: Literal["per-output"] = "per-output"


class ModelBody(BaseModel):
    id: str
    name: str
    version: str
    digital_source_type: str
    formats: list[Format]
    max_duration: int = Field(description="Seconds.")
    disclosure: str = Field(description="Compact JWS: the provider-signed training disclosure.")
    licence_offer: LicenceOfferBody


class ModelList(BaseModel):
    models: list[ModelBody]


class GenerationRequest(BaseModel):
    # Unknown fields are refused: a misspelt field would otherwise be silently ignored.
    model_config = ConfigDict(extra="forbid")

    model: str = Field(examples=["provsdk-local-1"])
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    duration: float = Field(gt=0, allow_inf_nan=False, description="Seconds.")
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1, strict=True)
    format: Format = "wav"
    licensee: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ACCOUNT_NAME,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="Must be your account's name, or omitted: the grant is always made out "
        "to the account of the API key (a key with no account gets none; naming another is 403).",
    )


class GenerationCreated(BaseModel):
    id: str
    status: Status
    model: str
    created_at: str


class GenerationError(BaseModel):
    code: str
    message: str


class GenerationStatus(BaseModel):
    id: str
    status: Status
    model: str
    created_at: str
    seed: int
    format: Format
    content_type: str
    finish_reason: Literal["success", "content_filtered", "error"] | None
    error: GenerationError | None
    size: int | None = Field(default=None, description="Once succeeded.")
    sha256: str | None = Field(default=None, description="Hex digest of the audio bytes.")
    audio_url: str | None = Field(default=None, description="Once succeeded.")
    grant_url: str | None = Field(
        default=None, description="Once succeeded, for an API key with an account."
    )


class GrantBody(BaseModel):
    grant: str = Field(description="Compact JWS: the licensor-signed rights grant.")
