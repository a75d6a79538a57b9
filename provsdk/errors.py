"""Errors raised by provsdk.

Every error provsdk raises derives from :class:`ProvsdkError`. ``str(error)`` is one line that
names the file (when there is one) and the cause; :meth:`ProvsdkError.diagnostics` adds what a
person can do about it. A failed *verification* is not an error: it is a report with verdict
``fail``. Errors mean the question could not be asked at all.

The tree, with the command-line exit code each maps to::

    ProvsdkError
    ├── InputError                  (2) a file we were given cannot be used
    │   ├── UnsupportedFormatError  (2)   not WAV/MP3/FLAC/M4A, by content
    │   └── CorruptAudioError       (2)   claims to be one of them, but its structure is broken
    │       └── AmbiguousAudioError (2)     decoders and provsdk could play different audio
    ├── CredentialError             (2) keys, certificates, trust anchors missing or unusable
    ├── ConfigurationError          (2) a setting, option or argument that cannot work
    │   ├── InvalidArgumentError    (2)   an argument of the right type but an unusable value
    │   │   │                             (also a ValueError)
    │   │   └── UnknownModelError   (2)     a model the provider does not have
    │   └── ArgumentTypeError       (2)   an argument of the wrong type (also a TypeError)
    ├── SigningError                (2) the C2PA library refused to sign
    │   └── TimestampError          (2)   the time-stamp authority gave no usable token
    ├── OutputError                 (2) the output could not be written (disk full, permissions)
    └── ProviderError               (3) a generator failed to produce audio
        ├── AuthenticationError     (3)   the provider refused our key (401) or this request (403)
        ├── RateLimitError          (3)   too many requests, even after waiting as asked
        ├── ContentFilteredError    (3)   the provider refused the prompt or the output
        ├── ProviderTimeoutError    (3)   no answer in time
        └── ProviderResponseError   (3)   an answer we cannot use (status, body, audio)

Every ProviderError carries the provider's name and, when the provider gave one, its request
id, so a support ticket can name the exact request.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AmbiguousAudioError",
    "ArgumentTypeError",
    "AuthenticationError",
    "ConfigurationError",
    "ContentFilteredError",
    "CorruptAudioError",
    "CredentialError",
    "InputError",
    "InvalidArgumentError",
    "OutputError",
    "ProviderError",
    "ProviderResponseError",
    "ProviderTimeoutError",
    "ProvsdkError",
    "RateLimitError",
    "SigningError",
    "TimestampError",
    "UnknownModelError",
    "UnsupportedFormatError",
]


class ProvsdkError(Exception):
    """Base of every provsdk error.

    ``path`` is the file the error is about, if any; ``hint`` is a sentence telling a person what
    to do next. The message itself never contains key material: callers pass causes, not secrets.
    """

    exit_code: int = 2
    # What to do next when the raiser knows nothing more specific: each class that has advice
    # worth giving for any of its errors says it here, so every such error carries a hint.
    default_hint: str | None = None

    def __init__(self, message: str, *, path: str | Path | None = None, hint: str | None = None):
        self.message = message
        self.path = Path(path) if path is not None else None
        self.hint = hint if hint is not None else type(self).default_hint
        super().__init__(self._one_line())

    def _one_line(self) -> str:
        # One line, always: a cause from a library may carry newlines.
        text = " ".join(self.message.split())
        if self.path is None:
            return text
        return f"{' '.join(str(self.path).splitlines())}: {text}"

    def diagnostics(self) -> str:
        """A short human explanation: what went wrong and, when we know, what to do."""
        lines = [f"{type(self).__name__}: {self._one_line()}"]
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


class InputError(ProvsdkError):
    """A file we were asked to read cannot be used (missing, empty, unreadable)."""


class UnsupportedFormatError(InputError):
    """The content is not a format provsdk can embed a manifest into."""


class CorruptAudioError(InputError):
    """The content looks like a supported format but its structure is broken or hostile."""


class AmbiguousAudioError(CorruptAudioError):
    """Which bytes are the audio depends on who reads the file (two 'data' chunks, sample
    tables pointing outside the media data, MPEG frames after a tag...), so no digest can name
    the recording and no signature should vouch for it. ``reason`` is that layout, in a
    sentence. :func:`~provsdk.audio.probe` still reads such a file, so verification can say
    why a recording-bound grant does not cover it; signing and attaching refuse it."""

    def __init__(self, reason: str, *, path: str | Path | None = None, hint: str | None = None):
        self.reason = reason
        super().__init__(f"ambiguous audio: {reason}", path=path, hint=hint)


class CredentialError(ProvsdkError):
    """A key, certificate chain or trust anchor is missing, malformed or unfit for its role."""

    default_hint = (
        "`provsdk keys init` makes a development PKI; `provsdk trust --help` manages anchors"
    )


class ConfigurationError(ProvsdkError):
    """An option or setting that cannot work as given."""


class InvalidArgumentError(ConfigurationError, ValueError):
    """An argument of the right type whose value cannot work (a duration of 0, an empty
    prompt). Also a :class:`ValueError`, as Python code expects of a bad value."""


class ArgumentTypeError(ConfigurationError, TypeError):
    """An argument of the wrong type (a seed given as a string). Also a :class:`TypeError`."""


class UnknownModelError(InvalidArgumentError):
    """A model the provider does not have; ``known`` are the ones it has."""

    def __init__(
        self, provider: str, model: str, known: tuple[str, ...], *, message: str | None = None
    ):
        self.provider, self.model, self.known = provider, model, known
        offered = ", ".join(known) if known else "none (it takes no model)"
        super().__init__(
            message or f"{provider}: unknown model {model!r}; its models: {offered}",
            hint="leave the model out for the provider's default",
        )


class SigningError(ProvsdkError):
    """The C2PA library refused to sign; nothing was written."""


class TimestampError(SigningError):
    """The time-stamp authority gave no usable token, so nothing was signed or written."""


class OutputError(ProvsdkError):
    """The output file could not be written; nothing was left behind."""

    default_hint = "check that the folder exists, is writable and has free space"


class ProviderError(ProvsdkError):
    """A generator could not produce audio."""

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        request_id: str | None = None,
        path: str | Path | None = None,
        hint: str | None = None,
    ):
        self.provider = provider
        self.request_id = request_id
        suffix = f" (request id {request_id})" if request_id else ""
        super().__init__(f"{provider}: {message}{suffix}", path=path, hint=hint)


class AuthenticationError(ProviderError):
    """The provider refused the API key (HTTP 401) or this request on its behalf (HTTP 403)."""


class RateLimitError(ProviderError):
    """The provider kept answering 429; ``retry_after`` is its last advice, in seconds."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        request_id: str | None = None,
        retry_after: float | None = None,
        hint: str | None = None,
    ):
        self.retry_after = retry_after
        if hint is None:
            wait = f"wait {retry_after:g} s" if retry_after else "wait a while"
            hint = f"{wait} before trying again, or lower the batch's --concurrency"
        super().__init__(message, provider=provider, request_id=request_id, hint=hint)


class ContentFilteredError(ProviderError):
    """The provider's moderation refused the prompt or withheld the output."""

    default_hint = "reword the prompt; a retry of the same prompt is likely refused again"


class ProviderTimeoutError(ProviderError):
    """The provider did not answer within the timeout."""

    default_hint = "try again later, or ask for a shorter duration"


class ProviderResponseError(ProviderError):
    """An answer that cannot be used: an unexpected status, a malformed body, audio that is
    truncated, oversized or not of the announced type."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        request_id: str | None = None,
        status: int | None = None,
        hint: str | None = None,
    ):
        self.status = status
        super().__init__(message, provider=provider, request_id=request_id, hint=hint)
