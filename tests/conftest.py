"""Shared fixtures: the real test vectors, a development PKI made once per session, signed files.

Everything here is real: keys are generated, files are signed by c2pa and read back by c2pa.
Signing happens in session-scoped fixtures so the suite stays fast.

Tests that take more than a few seconds are marked ``slow`` (the marker is registered in
pyproject.toml); ``pytest -m "not slow"`` is the quick loop, plain ``pytest`` runs everything.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from provsdk.credentials import Role, TrustConfig, init_dev_pki, load_signer
from provsdk.credentials.signers import KeySigner
from provsdk.home import ProvsdkHome
from provsdk.manifest import ManifestSpec
from provsdk.models import DigitalSourceType, SoftwareAgent
from provsdk.sign import sign_file

# Variables that change which credentials or home provsdk picks up. Tests start without them.
CREDENTIAL_ENV = (
    "PROVSDK_SIGNING_KEY",
    "PROVSDK_SIGNING_CERT",
    "PROVSDK_HOME",
    "PROVSDK_KEY_PASSWORD",
)

UNSIGNED_FORMATS = ("wav", "mp3", "flac", "m4a")


@contextlib.contextmanager
def _clean_env() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        for name in CREDENTIAL_ENV:
            mp.delenv(name, raising=False)
        yield


@pytest.fixture(scope="session")
def vectors() -> Path:
    """``../shared/vectors`` beside the repository; skips when it is not there."""
    folder = Path(__file__).resolve().parents[1].parent / "shared" / "vectors"
    if not folder.is_dir():
        pytest.skip("shared test vectors not present")
    return folder


@pytest.fixture(scope="session")
def _isolated_user_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-data")


@pytest.fixture(autouse=True)
def _no_credential_env(monkeypatch: pytest.MonkeyPatch, _isolated_user_data: Path) -> None:
    """Tests start without signing variables or PROVSDK_HOME; tests that need them set them.

    The platform user-data folder (the fallback home) is pointed at an empty temporary folder
    so that no test can read or write a developer's real provsdk keys.
    """
    for name in CREDENTIAL_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(_isolated_user_data))


@pytest.fixture(scope="session")
def dev_home(tmp_path_factory: pytest.TempPathFactory) -> ProvsdkHome:
    """A PROVSDK_HOME holding a development PKI (ES256), made once per session."""
    home = ProvsdkHome(tmp_path_factory.mktemp("home"))
    with _clean_env():
        init_dev_pki(home)
    return home


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, dev_home: ProvsdkHome) -> ProvsdkHome:
    """``dev_home``, also set as ``PROVSDK_HOME`` for the duration of the test."""
    monkeypatch.setenv("PROVSDK_HOME", str(dev_home.root))
    return dev_home


@pytest.fixture(scope="session")
def producer_signer(dev_home: ProvsdkHome) -> KeySigner:
    with _clean_env():
        return load_signer(Role.PRODUCER, home=dev_home, use_env=False)


@pytest.fixture(scope="session")
def trust(dev_home: ProvsdkHome) -> TrustConfig:
    return TrustConfig.load(dev_home)


@pytest.fixture(scope="session")
def spec() -> ManifestSpec:
    return ManifestSpec(
        title="test",
        source_type=DigitalSourceType.ALGORITHMIC_MEDIA,
        software_agent=SoftwareAgent("tests", "1"),
    )


@pytest.fixture(scope="session")
def signed_files(
    vectors: Path,
    producer_signer: KeySigner,
    spec: ManifestSpec,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Path]:
    """The four unsigned vectors, each signed once with the dev producer key: ext -> path.

    Treat these as read-only; copy one before changing it.
    """
    folder = tmp_path_factory.mktemp("signed")
    out: dict[str, Path] = {}
    for ext in UNSIGNED_FORMATS:
        dest = folder / f"signed.{ext}"
        sign_file(vectors / f"sample1.{ext}", dest, spec, producer_signer)
        out[ext] = dest
    return out


@dataclass(frozen=True)
class Ffmpeg:
    """The ffmpeg binary shipped by imageio-ffmpeg, for independent checks of audio files."""

    exe: str

    def decode(self, path: Path) -> subprocess.CompletedProcess[str]:
        """Decode the whole file to nothing; returncode 0 and empty stderr when it is clean."""
        return subprocess.run(
            [self.exe, "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def audio_md5(self, path: Path) -> str:
        """MD5 of the decoded audio samples: equal when two files carry the same audio."""
        result = subprocess.run(
            [self.exe, "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a", "-f", "md5", "-"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-500:]
        return result.stdout.strip()

    def duration(self, path: Path) -> float:
        """The duration ffmpeg reports in its "Duration:" line, in seconds."""
        result = subprocess.run(
            [self.exe, "-nostdin", "-hide_banner", "-i", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        match = re.search(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)", result.stderr)
        assert match, f"ffmpeg reported no duration for {path}: {result.stderr[-500:]}"
        hours, minutes, seconds = match.groups()
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@pytest.fixture(scope="session")
def ffmpeg() -> Ffmpeg:
    import imageio_ffmpeg

    exe = str(imageio_ffmpeg.get_ffmpeg_exe())
    assert os.access(exe, os.X_OK)
    return Ffmpeg(exe)


@pytest.fixture(scope="session")
def harbor_grant(dev_home: ProvsdkHome) -> Callable[[str], str]:
    """A commercial US grant from "Harbor Music" to the dev PKI for the model it is given
    ("name version"), signed by the dev licensor key: the compact JWS ``grant attach`` takes."""
    from provsdk.grants import create_grant, sign_grant

    licensor = load_signer(Role.LICENSOR, home=dev_home, use_env=False)

    def signed(scope_model: str) -> str:
        grant = create_grant(
            licensor="Harbor Music",
            licensee="provsdk development PKI",
            purposes=["commercial"],
            territories=["US"],
            until="2030-12-31",
            scope_model=scope_model,
        )
        return sign_grant(grant, licensor)

    return signed
