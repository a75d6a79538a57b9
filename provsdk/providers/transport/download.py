"""Streaming a download to a temporary file: size cap, audio check, digest, cleanup."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, NoReturn

import httpx

from provsdk.audio.formats import AudioFormat, detect_format
from provsdk.errors import (
    InputError,
    OutputError,
)
from provsdk.providers.transport.rules import Call, Rules, content_length, request_id_of
from provsdk.sign.atomic import TEMP_SUFFIX


@dataclass(frozen=True)
class DownloadedFile:
    """A downloaded file, checked: audio of ``format``, ``size`` bytes, with this SHA-256."""

    path: Path
    format: AudioFormat
    size: int
    sha256: str
    request_id: str | None


class Sink:
    """A download's temporary file: created in ``dest_dir``, filled, checked, and removed on
    any failure (KeyboardInterrupt and cancellation included), so nothing partial is left."""

    def __init__(
        self,
        rules: Rules,
        call: Call,
        dest_dir: Path,
        expect: AudioFormat | None,
        sha256: str | None,
    ) -> None:
        self._rules, self._call, self._dest_dir = rules, call, Path(dest_dir)
        self._expect, self._sha256 = expect, sha256.lower() if sha256 else None
        self._hash = hashlib.sha256()
        self._size = 0
        self._response: httpx.Response | None = None

    def __enter__(self) -> Sink:
        try:
            fd, name = tempfile.mkstemp(prefix=".download-", suffix=TEMP_SUFFIX, dir=self._dest_dir)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise OutputError(
                f"cannot create a download file: {reason}", path=self._dest_dir
            ) from exc
        self.path = Path(name)
        self._file: IO[bytes] = os.fdopen(fd, "wb")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self._file.close()
            self.path.unlink(missing_ok=True)

    def begin(self, response: httpx.Response) -> None:
        """Accept the answer's status and headers; a non-success body must have been read."""
        self._rules.check(response, self._call)
        self._response = response
        length = content_length(response.headers)
        if length is not None and length > self._rules.max_download:
            self._too_large(response)

    def _too_large(self, response: httpx.Response) -> NoReturn:
        limit = self._rules.max_download
        self._rules.refuse(
            f"the download is larger than the limit of {limit} bytes", self._call, response
        )

    def write(self, chunk: bytes) -> None:
        assert self._response is not None  # begin() comes first
        self._size += len(chunk)
        if self._size > self._rules.max_download:  # counts decoded bytes: no gzip bomb either
            self._too_large(self._response)
        self._hash.update(chunk)
        try:
            self._file.write(chunk)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise OutputError(f"cannot write the download: {reason}", path=self._dest_dir) from exc

    def finish(self) -> DownloadedFile:
        """Check the whole file and hand it over (it is the caller's to remove from now on)."""
        response = self._response
        assert response is not None
        self._file.close()
        expected = content_length(response.headers)
        if expected is not None and response.num_bytes_downloaded < expected:
            # httpx notices a short body itself; this covers transports that do not.
            exc = httpx.RemoteProtocolError(
                f"received {response.num_bytes_downloaded} of {expected} bytes"
            )
            raise self._rules.failed(exc, self._call, response)
        try:
            found = detect_format(self.path)
        except InputError as exc:
            self._rules.refuse(
                f"the download is not usable audio: {exc.message}", self._call, response
            )
        if self._expect is not None and found is not self._expect:
            self._rules.refuse(
                f"announced {self._expect} audio but sent {found}", self._call, response
            )
        digest = self._hash.hexdigest()
        if self._sha256 is not None and digest != self._sha256:
            self._rules.refuse(
                f"the download's SHA-256 is {digest}, not the announced {self._sha256}",
                self._call,
                response,
            )
        return DownloadedFile(self.path, found, self._size, digest, request_id_of(response.headers))
