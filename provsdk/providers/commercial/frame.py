"""What the commercial adapters share beyond the remote-provider frame
(:mod:`provsdk.providers.remote`): their error dialects on the wire, download links fetched
without the key, and audio that arrives as the answer's body.

**Declared disclosures.** Stability AI, ElevenLabs and Beatoven.ai sign no training-data
statement. Each adapter says what the provider has said in public about its training data as a
:class:`~provsdk.models.disclosure.DeclaredDisclosure` (the disclosure, its source addresses,
who wrote it down), returned by ``declared_disclosure()`` and put on every generation as
``Generation.declared_disclosure``, never as ``disclosure`` (which means "signed by the
provider") nor as ``unsigned_disclosure`` (which the client would sign with the caller's
provider key, making it the caller's own statement).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Unpack

import httpx

from provsdk.audio.containers import probe
from provsdk.audio.formats import AudioFormat, detect_format
from provsdk.errors import ConfigurationError, InputError, OutputError, ProviderResponseError
from provsdk.models.disclosure import (
    Dataset,
    DeclaredDisclosure,
    Disclosure,
    ModelIdentity,
    OptOutPolicy,
    ProviderIdentity,
)
from provsdk.providers.base import EncodedAudio, Generation, GenerationRequest
from provsdk.providers.commercial.wire import AsyncWire, Fault, Wire, WireRules, no_dialect
from provsdk.providers.remote import RemoteOptions, RemoteProvider
from provsdk.providers.steps import Download, Job
from provsdk.providers.transport import request_id_of
from provsdk.sign.atomic import TEMP_SUFFIX

__all__ = ["AdapterOptions", "CommercialProvider", "licensed_music"]


def licensed_music(
    *,
    provider: tuple[str, str],
    model: tuple[str, str],
    size: str | None,
    datasets: tuple[Dataset, ...],
    measures: str,
    sources: tuple[str, ...],
) -> DeclaredDisclosure:
    """What a provider (name, address) says in public of a music model (name, version) it says
    it trained on licensed data only: opt-outs are respected by taking nothing unlicensed, as
    ``measures`` words it."""
    disclosure = Disclosure(
        provider=ProviderIdentity(name=provider[0], url=provider[1]),
        model=ModelIdentity(name=model[0], version=model[1]),
        modalities=("audio",),
        training_data_size=size,
        datasets=datasets,
        opt_out=OptOutPolicy(respected=True, measures=measures),
    )
    return DeclaredDisclosure(disclosure=disclosure, sources=sources)


class AdapterOptions(RemoteOptions, total=False):
    """The options every adapter takes: the remote ones, and the API's address."""

    base_url: str | None  # default: the provider's public API


class CommercialProvider(RemoteProvider):
    """The frame of an adapter. ``timeout`` (default 300) is the most seconds to wait for one
    generation; ``base_url`` replaces the provider's public API. See
    :class:`~provsdk.providers.remote.RemoteOptions` for the other options.
    """

    default_base_url: str
    default_timeout = 300.0

    def __init__(self, *, base_url: str | None = None, **options: Unpack[RemoteOptions]) -> None:
        super().__init__(base_url or self.default_base_url, **options)

    # -- what each adapter provides -------------------------------------------------------------

    def _dialect(self, status: int, data: dict[str, Any]) -> Fault:
        raise NotImplementedError

    def _generation(self, request: GenerationRequest) -> Job[Generation]:
        """The adapter's job, for a request already found sound."""
        raise NotImplementedError

    def _job(self, request: GenerationRequest) -> Job[Generation]:
        # Checked before any step: none of these APIs makes a track of no length.
        if request.duration <= 0:
            raise ConfigurationError(f"{self.name}: the duration must be positive")
        return self._generation(request)

    def declared_disclosure(self) -> DeclaredDisclosure:
        """What the provider says in public about its training data, with the sources: put on
        every generation as declared, never as provider-signed."""
        raise NotImplementedError

    def _http_timeout(self) -> httpx.Timeout:
        """Per-request timeouts; a synchronous provider waits ``timeout`` for its answer."""
        return httpx.Timeout(connect=10.0, read=self.timeout, write=60.0, pool=10.0)

    # -- the wire and download links ------------------------------------------------------------

    def _rules(self, keyed: bool) -> WireRules:
        if keyed:
            return WireRules(
                self.name, self._dialect, self.key_env, (self._key,), self._max_download
            )
        return WireRules(self.name, no_dialect, None, (), self._max_download)

    def _wire(
        self, inner: httpx.BaseTransport | None, url: str, keyed: bool
    ) -> httpx.BaseTransport:
        return Wire(inner, self._rules(keyed), url)

    def _async_wire(
        self, inner: httpx.AsyncBaseTransport | None, url: str, keyed: bool
    ) -> httpx.AsyncBaseTransport:
        return AsyncWire(inner, self._rules(keyed), url)

    def _origin(self, step: Download) -> str:
        """Every download is a link the API handed out: its origin, once found acceptable."""
        try:
            target = httpx.URL(step.path)
        except httpx.InvalidURL:
            raise ProviderResponseError(
                "the download link is not a URL", provider=self.name
            ) from None
        # Plain http only where the API itself is plain http (a test server on loopback).
        allowed = {"https", httpx.URL(self.base_url).scheme}
        if target.scheme not in allowed or not target.host or target.userinfo:
            raise ProviderResponseError(
                f"refusing the download link on {target.host or 'no host'} "
                f"({target.scheme or 'no scheme'}): not an https URL without credentials",
                provider=self.name,
            )
        return str(target.copy_with(raw_path=b"/", fragment=None))

    # -- audio files -----------------------------------------------------------------------------

    def keep_answer(self, answer: httpx.Response, expect: AudioFormat | None) -> EncodedAudio:
        """The audio an answer carries as its body, written to a checked file of our own."""
        rid = request_id_of(answer.headers)
        content = answer.content
        if len(content) > self._max_download:  # decoded size: the wire capped the encoded one
            raise ProviderResponseError(
                f"the audio is larger than the limit of {self._max_download} bytes",
                provider=self.name,
                request_id=rid,
            )
        folder = self.downloads()
        try:
            fd, name = tempfile.mkstemp(prefix=".answer-", suffix=TEMP_SUFFIX, dir=folder)
        except OSError as exc:
            raise OutputError(
                f"cannot create an audio file: {exc.strerror or exc}", path=folder
            ) from exc
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
            return self.checked(path, expect, rid)
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise OutputError(
                f"cannot write the audio: {exc.strerror or exc}", path=folder
            ) from exc
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    def checked(self, path: Path, expect: AudioFormat | None, rid: str | None) -> EncodedAudio:
        """``path`` as EncodedAudio once it is found to be usable audio of ``expect``."""
        try:
            found = detect_format(path)
            if expect is not None and found is not expect:
                raise ProviderResponseError(
                    f"asked for {expect} audio but received {found}",
                    provider=self.name,
                    request_id=rid,
                )
            info = probe(path)
        except InputError as exc:
            raise ProviderResponseError(
                f"the audio received is not usable: {exc.message}",
                provider=self.name,
                request_id=rid,
            ) from None
        return EncodedAudio(path, found, info.duration, info.sample_rate, info.channels)
