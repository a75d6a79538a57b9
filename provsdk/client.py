"""The public entry point: generate → encode → sign → verify, one call, one :class:`Track`."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from provsdk.audio.codec import decode, encode
from provsdk.audio.formats import AudioFormat, format_for_name
from provsdk.credentials.roles import Role
from provsdk.credentials.signers import Signer, load_signer
from provsdk.credentials.trust import TrustConfig
from provsdk.disclosure.statement import sign_disclosure
from provsdk.errors import ConfigurationError, CredentialError, UnsupportedFormatError
from provsdk.home import ProvsdkHome
from provsdk.manifest.build import ManifestSpec
from provsdk.models.origin import TrainingMining
from provsdk.models.track import Track
from provsdk.providers import Provider, get_provider
from provsdk.providers.base import (
    AsyncProvider,
    EncodedAudio,
    Generation,
    GenerationRequest,
    PcmAudio,
)
from provsdk.sign import sign_file
from provsdk.sign.atomic import TEMP_SUFFIX, check_destination
from provsdk.verify import verify_file
from provsdk.verify.policy import DEFAULT_POLICY, Policy

__all__ = ["AsyncClient", "Client"]


class Client:
    """Generates tracks that carry their own signed evidence.

    >>> track = Client().generate("warm lofi beat", duration=30, out="beat.mp3")
    >>> track.report.verdict.value
    'pass'

    Credentials default to the producer key of ``PROVSDK_HOME`` (or the
    ``PROVSDK_SIGNING_KEY``/``PROVSDK_SIGNING_CERT`` environment variables); trust defaults to
    the stores of ``PROVSDK_HOME``. Both load on first use, not at construction.
    """

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

    def close(self) -> None:
        """Release what the provider holds (HTTP connections, its download folder)."""
        close = getattr(self.provider, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            self._signer = load_signer(Role.PRODUCER, home=self.home)
        return self._signer

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

    @property
    def trust(self) -> TrustConfig:
        if self._trust is None:
            self._trust = TrustConfig.load(self.home)
        return self._trust

    def generate(
        self,
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
        grants: Sequence[str] = (),
        licensee: str | None = None,
    ) -> Track:
        """Generate ``prompt`` into ``out``, signed and verified.

        The format comes from ``format`` or else from ``out``'s suffix. The file appears at
        ``out`` only once it is signed; on any failure nothing is left behind. ``disclosure``
        (a provider-signed JWS) replaces the provider's own; ``grants`` are licensor-signed
        JWS to embed; ``licensee`` is who the output is for, for providers that grant rights.
        """
        dest, fmt = Path(out), _output_format(Path(out), format)
        request = GenerationRequest(
            prompt, duration, seed, sample_rate, channels, model, format=fmt, licensee=licensee
        )
        signer = self.signer  # fail on missing credentials before spending a generation
        check_destination(dest)  # and on an output that cannot be written
        generation = self.provider.generate(request)
        return self.finish(generation, dest, fmt, signer, disclosure=disclosure, grants=grants)

    def finish(
        self,
        generation: Generation,
        dest: Path,
        fmt: AudioFormat,
        signer: Signer,
        *,
        disclosure: str | None = None,
        grants: Sequence[str] = (),
    ) -> Track:
        """Encode (if needed), sign and verify a generation into ``dest``.

        Takes ownership of an encoded file the provider left: it is removed either way.
        """
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
                disclosure=disclosure or self._sign_disclosure(generation),
                declared_disclosure=generation.declared_disclosure,
                grants=(*generation.grants, *grants),
            )
            with _scratch_file(dest, fmt) as scratch:
                source = _encoded(generation.audio, fmt, scratch)
                signed = sign_file(
                    source, dest, spec, signer, tsa_url=self.tsa_url, anchors=self.trust.producer
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


class AsyncClient:
    """The async twin of :class:`Client`: same options, ``await client.generate(...)``.

    Providers with a native async path (HTTP) are awaited; others run in a worker thread, as do
    encoding, signing and verifying, so many generations can be in flight at once.
    """

    def __init__(self, provider: str | Provider = "local", **options: Any) -> None:
        self.client = Client(provider, **options)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.client.close)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def generate(
        self,
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
        grants: Sequence[str] = (),
        licensee: str | None = None,
    ) -> Track:
        """See :meth:`Client.generate`."""
        dest, fmt = Path(out), _output_format(Path(out), format)
        request = GenerationRequest(
            prompt, duration, seed, sample_rate, channels, model, format=fmt, licensee=licensee
        )
        client = self.client
        # Load credentials and trust here, once, not racing in worker threads.
        signer, _ = client.signer, client.trust
        check_destination(dest)
        provider = client.provider
        if isinstance(provider, AsyncProvider):
            generation = await provider.agenerate(request)
        else:
            generation = await asyncio.to_thread(provider.generate, request)
        return await asyncio.to_thread(
            client.finish, generation, dest, fmt, signer, disclosure=disclosure, grants=grants
        )


def _encoded(audio: PcmAudio | EncodedAudio, fmt: AudioFormat, scratch: Path) -> Path:
    """A file of ``audio`` in ``fmt``: the provider's own when it already is, else ``scratch``."""
    if isinstance(audio, EncodedAudio):
        if audio.format is fmt:
            return audio.path
        samples, rate = decode(audio.path, audio.format)
        encode(samples, rate, fmt, scratch)
        return scratch
    encode(audio.samples, audio.sample_rate, fmt, scratch)
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
