"""The public entry point: generate → encode → sign → verify, one call, one :class:`Track`."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import math
import os
import tempfile
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from provsdk.audio.codec import decode, encode, encode_stream
from provsdk.audio.formats import AudioFormat, format_for_name
from provsdk.credentials.roles import Role
from provsdk.credentials.signers import Signer, load_signer
from provsdk.credentials.trust import TrustConfig
from provsdk.disclosure.statement import sign_disclosure
from provsdk.errors import (
    ArgumentTypeError,
    ConfigurationError,
    CredentialError,
    InputError,
    InvalidArgumentError,
    UnsupportedFormatError,
)
from provsdk.grants import load_grant_token, read_grant
from provsdk.home import ProvsdkHome
from provsdk.manifest.build import ManifestSpec
from provsdk.models.origin import TrainingMining
from provsdk.models.track import Track
from provsdk.progress import Progress
from provsdk.providers import Provider, get_provider
from provsdk.providers.base import (
    AsyncProvider,
    EncodedAudio,
    Generation,
    GenerationRequest,
    PcmAudio,
    PcmStream,
    check_model,
)
from provsdk.sign import sign_file
from provsdk.sign.atomic import TEMP_SUFFIX, check_destination
from provsdk.verify import verify_file
from provsdk.verify.policy import DEFAULT_POLICY, Policy

__all__ = ["AsyncClient", "Client"]

_C = TypeVar("_C", bound="_Core")
_R = TypeVar("_R")
_P = ParamSpec("_P")
_F = TypeVar("_F", bound=Callable[..., Any])


@dataclass(frozen=True)
class _Order:
    """One call of ``generate``, its parameters checked and resolved."""

    request: GenerationRequest
    dest: Path
    format: AudioFormat
    disclosure: str | None
    grants: tuple[str, ...]
    progress: Progress | None


def _order(
    prompt: str,
    *,
    out: str | Path,
    duration: float = 30.0,
    seed: int | None = None,
    format: str | AudioFormat | None = None,
    sample_rate: int = 44100,
    channels: int = 2,
    model: str | None = None,
    disclosure: str | None = None,
    grants: Sequence[str | Path] = (),
    licensee: str | None = None,
    progress: Progress | None = None,
) -> _Order:
    """Generate ``prompt`` into ``out``, signed and verified.

    The format comes from ``format`` or else from ``out``'s suffix. The file appears at
    ``out`` only once it is signed; on any failure nothing is left behind. ``disclosure``
    (a provider-signed JWS) replaces the provider's own; ``grants`` are licensor-signed
    JWS to embed, each a file or the JWS text itself; ``licensee`` is who the output is for,
    for providers that grant rights. ``progress``, a callable, hears
    ``(provsdk.progress.RENDER, frames done, frames in all)`` while the audio is rendered and
    encoded, then the signing's own calls (see :mod:`provsdk.progress`); if it raises, the
    generation stops with that exception and nothing is left behind.

    A prompt that is not a non-empty string, a duration that is not a positive finite number
    or a seed that is not an integer raise :class:`~provsdk.errors.InvalidArgumentError` (a
    ``ValueError``) or :class:`~provsdk.errors.ArgumentTypeError` (a ``TypeError``) at once.
    """
    _check_arguments(prompt, duration, seed)
    dest = Path(out)
    fmt = _output_format(dest, format)
    request = GenerationRequest(
        prompt, duration, seed, sample_rate, channels, model, format=fmt, licensee=licensee
    )
    if progress is not None and not callable(progress):
        raise ArgumentTypeError(f"progress must be callable, not {type(progress).__name__}")
    return _Order(request, dest, fmt, disclosure, _grant_tokens(grants), progress)


MAX_SEED = 2**63 - 1


def _check_arguments(prompt: object, duration: object, seed: object) -> None:
    if not isinstance(prompt, str):
        raise ArgumentTypeError(f"the prompt must be a string, not {type(prompt).__name__}")
    if not prompt.strip():
        raise InvalidArgumentError("the prompt is empty")
    if isinstance(duration, bool) or not isinstance(duration, (int, float)):
        raise ArgumentTypeError(
            f"the duration must be a number of seconds, not {type(duration).__name__}"
        )
    try:
        finite = math.isfinite(duration)
    except OverflowError:  # an int too large for a float: no finite number of seconds
        finite = False
    if not finite or duration <= 0:
        raise InvalidArgumentError(
            f"the duration must be a positive number of seconds, not {duration!r}"
        )
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ArgumentTypeError(f"the seed must be an integer, not {type(seed).__name__}")
    # The range the CLI takes and the manifest records (a JSON reader may not hold more).
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise InvalidArgumentError(f"the seed must be from 0 to {MAX_SEED}, not {seed}")


def _grant_tokens(grants: object) -> tuple[str, ...]:
    """Each grant's JWS text, read from a file or checked as given; an error says which."""
    if isinstance(grants, (str, bytes, Path)):
        raise ArgumentTypeError("grants takes a list of grants (files or JWS text), not one")
    if not isinstance(grants, Sequence):
        raise ArgumentTypeError(f"grants takes a list, not {type(grants).__name__}")
    return tuple(_grant_token(n, g) for n, g in enumerate(grants, 1))


def _grant_token(n: int, grant: object) -> str:
    if not isinstance(grant, (str, Path)):
        raise ArgumentTypeError(f"grant {n}: a file path or JWS text, not {type(grant).__name__}")
    text = str(grant).strip()
    if isinstance(grant, Path) or _is_file(text):
        try:
            return load_grant_token(grant)
        except InputError as exc:
            raise InputError(f"grant {n} (file {grant}): {exc.message}") from None
    if (text.count(".") == 2 and "\n" not in text) or text.startswith("{"):
        try:
            return read_grant(text).token
        except InputError as exc:
            raise InvalidArgumentError(f"grant {n} (JWS text): {exc.message}") from None
    shown = text if len(text) <= 60 else f"{text[:57]}..."
    raise InvalidArgumentError(f"grant {n}: {shown!r} is not a file and not JWS text")


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except (OSError, ValueError):  # too long or not a valid path: not a file
        return False


def _shown_as(wrapper: _F, parse: Callable[..., _Order], method: Callable[..., Any]) -> _F:
    """``wrapper`` shown (signature, name, help) as ``method`` taking ``parse``'s parameters."""
    shown = inspect.signature(parse)
    me = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    wrapper.__signature__ = shown.replace(  # type: ignore[attr-defined]
        parameters=[me, *shown.parameters.values()],
        return_annotation=inspect.signature(method).return_annotation,
    )
    wrapper.__name__, wrapper.__qualname__ = method.__name__, method.__qualname__
    wrapper.__doc__ = "\n\n".join(inspect.cleandoc(d) for d in (parse.__doc__, method.__doc__) if d)
    return wrapper


def _parameters_of(
    parse: Callable[_P, _Order],
) -> Callable[[Callable[[_C, _Order], _R]], Callable[Concatenate[_C, _P], _R]]:
    """A method taking an order, made to take ``parse``'s parameters instead: both clients'
    ``generate`` have them written once."""

    def decorate(method: Callable[[_C, _Order], _R]) -> Callable[Concatenate[_C, _P], _R]:
        def generate(self: _C, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
            return method(self, parse(*args, **kwargs))

        return _shown_as(generate, parse, method)

    return decorate


def _awaited_parameters_of(
    parse: Callable[_P, _Order],
) -> Callable[
    [Callable[[_C, _Order], Awaitable[_R]]],
    Callable[Concatenate[_C, _P], Coroutine[Any, Any, _R]],
]:
    """The same for a coroutine method, which stays one: the parameters are checked when it is
    awaited, as for any ``async def``."""

    def decorate(
        method: Callable[[_C, _Order], Awaitable[_R]],
    ) -> Callable[Concatenate[_C, _P], Coroutine[Any, Any, _R]]:
        async def generate(self: _C, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
            return await method(self, parse(*args, **kwargs))

        return _shown_as(generate, parse, method)

    return decorate


class _Core:
    """What both clients are: the options, the provider, credentials and trust loaded on first
    use, and the finish step (encode, sign, verify) after a generation."""

    def __init__(
        self,
        provider: str | Provider = "local",
        *,
        signer: Signer | None = None,
        home: str | Path | ProvsdkHome | None = None,
        trust: TrustConfig | None = None,
        policy: Policy = DEFAULT_POLICY,
        training_mining: TrainingMining | None = None,
        include_prompt: bool = True,
        tsa_url: str | None = None,
        provider_options: dict[str, Any] | None = None,
        provider_signer: Signer | None = None,
    ) -> None:
        self.provider = (
            get_provider(provider, **(provider_options or {}))
            if isinstance(provider, str)
            else provider
        )
        self.home = home if isinstance(home, ProvsdkHome) else ProvsdkHome(home)
        self._signer = signer
        self._trust = trust
        self.policy = policy
        self.training_mining = training_mining or TrainingMining()
        self.include_prompt = include_prompt
        self.tsa_url = tsa_url
        self._provider_signer = provider_signer

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            self._signer = load_signer(Role.PRODUCER, home=self.home)
        return self._signer

    @property
    def trust(self) -> TrustConfig:
        if self._trust is None:
            self._trust = TrustConfig.load(self.home)
        return self._trust

    def close(self) -> None:
        """Release what the provider holds (HTTP connections, its download folder)."""
        close = getattr(self.provider, "close", None)
        if callable(close):
            close()

    def _ready(self, order: _Order) -> Signer:
        """The signer, once everything that can fail without a generation has been tried:
        credentials, trust (loaded here once, not racing in worker threads) and the output."""
        check_model(self.provider, order.request.model)
        signer, _ = self.signer, self.trust
        check_destination(order.dest)
        return signer

    def _sign_disclosure(self, generation: Generation) -> str | None:
        """The provider-signed disclosure for this generation, if there is one to be had."""
        if generation.disclosure is not None:
            return generation.disclosure
        if generation.unsigned_disclosure is None:
            return None
        signer = self._provider_signer
        if signer is None:
            try:
                signer = load_signer(Role.PROVIDER, home=self.home, use_env=False)
            except CredentialError:
                return None  # no provider key here: the track goes out without a disclosure
        return sign_disclosure(generation.unsigned_disclosure, signer)

    def _finish(self, generation: Generation, order: _Order, signer: Signer) -> Track:
        """Encode (if needed), sign and verify a generation into the order's output.

        Takes ownership of an encoded file the provider left: it is removed either way.
        """
        dest, fmt = order.dest, order.format
        try:
            record = generation.record
            if not self.include_prompt:
                record = dataclasses.replace(record, prompt=None)
            spec = ManifestSpec(
                title=dest.name,
                source_type=generation.source_type,
                software_agent=generation.software_agent,
                training_mining=self.training_mining,
                generation=record,
                disclosure=order.disclosure or self._sign_disclosure(generation),
                declared_disclosure=generation.declared_disclosure,
                grants=(*generation.grants, *order.grants),
            )
            with _scratch_file(dest, fmt) as scratch:
                source = _encoded(generation.audio, fmt, scratch, order.progress)
                signed = sign_file(
                    source,
                    dest,
                    spec,
                    signer,
                    tsa_url=self.tsa_url,
                    anchors=self.trust.producer,
                    progress=order.progress,
                )
        finally:
            if isinstance(generation.audio, EncodedAudio):
                generation.audio.path.unlink(missing_ok=True)
        report = verify_file(dest, trust=self.trust, policy=self.policy)
        return Track(
            path=dest,
            format=fmt,
            duration=signed.audio.duration or 0.0,
            sample_rate=signed.audio.sample_rate or 0,
            channels=signed.audio.channels or 0,
            generation=record,
            report=report,
        )


class Client(_Core):
    """Generates tracks that carry their own signed evidence.

    >>> track = Client().generate("warm lofi beat", duration=30, out="beat.mp3")
    >>> track.report.verdict.value
    'pass'

    Credentials default to the producer key of ``PROVSDK_HOME`` (or the
    ``PROVSDK_SIGNING_KEY``/``PROVSDK_SIGNING_CERT`` environment variables); trust defaults to
    the stores of ``PROVSDK_HOME``. Both load on first use, not at construction.
    """

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @_parameters_of(_order)
    def generate(self, order: _Order) -> Track:
        """Credentials and the output are checked before the generation is paid for."""
        signer = self._ready(order)
        generation = self.provider.generate(order.request)
        return self._finish(generation, order, signer)


class AsyncClient(_Core):
    """The async twin of :class:`Client`: the same options, ``await client.generate(...)``.

    Providers with a native async path (HTTP) are awaited; others run in a worker thread, as do
    encoding, signing and verifying, so many generations can be in flight at once.
    """

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @_awaited_parameters_of(_order)
    async def generate(self, order: _Order) -> Track:
        """Awaitable: many may be in flight at once."""
        signer = self._ready(order)
        provider = self.provider
        if isinstance(provider, AsyncProvider):
            generation = await provider.agenerate(order.request)
        else:
            generation = await asyncio.to_thread(provider.generate, order.request)
        return await asyncio.to_thread(self._finish, generation, order, signer)


def _encoded(
    audio: PcmAudio | PcmStream | EncodedAudio,
    fmt: AudioFormat,
    scratch: Path,
    progress: Progress | None,
) -> Path:
    """A file of ``audio`` in ``fmt``: the provider's own when it already is, else ``scratch``.

    Samples are encoded as they come: a stream's blocks are rendered while they are written.
    """
    if isinstance(audio, EncodedAudio):
        if audio.format is fmt:
            return audio.path
        samples, rate = decode(audio.path, audio.format)
        encode(samples, rate, fmt, scratch, progress=progress)
    elif isinstance(audio, PcmStream):
        encode_stream(
            audio,
            audio.sample_rate,
            fmt,
            scratch,
            channels=audio.channels,
            frames=audio.frames,
            progress=progress,
        )
    else:
        encode(audio.samples, audio.sample_rate, fmt, scratch, progress=progress)
    return scratch


def _output_format(dest: Path, fmt: str | AudioFormat | None) -> AudioFormat:
    if isinstance(fmt, AudioFormat):
        chosen = fmt
    elif fmt is not None:
        chosen = format_for_name(fmt)
    elif dest.suffix:
        try:
            chosen = format_for_name(dest.suffix)
        except UnsupportedFormatError as exc:
            raise UnsupportedFormatError(exc.message, path=dest) from None
    else:
        raise ConfigurationError(
            "cannot tell the output format: give a suffix or a format", path=dest
        )
    named = _suffix_format(dest)
    if named is not None and named is not chosen:
        raise ConfigurationError(
            f"the output is named {dest.suffix} but the format asked for is {chosen}", path=dest
        )
    return chosen


def _suffix_format(dest: Path) -> AudioFormat | None:
    try:
        return format_for_name(dest.suffix) if dest.suffix else None
    except UnsupportedFormatError:
        return None


@contextlib.contextmanager
def _scratch_file(dest: Path, fmt: AudioFormat) -> Any:
    """A temporary file for the unsigned encoding, beside the output, always removed.

    Named like the signer's own temporary files (destination, process id), so what a killed
    process leaves is swept by the next write of the same output.
    """
    if not dest.parent.is_dir():
        raise ConfigurationError("the output folder does not exist", path=dest.parent)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed at once, removed in finally
        dir=dest.parent,
        prefix=f".{dest.name}.{os.getpid()}.unsigned-",
        suffix=f".{fmt.extension}{TEMP_SUFFIX}",
        delete=False,
    )
    handle.close()
    path = Path(handle.name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)
