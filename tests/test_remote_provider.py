"""Every remote provider stands in one frame: key, transports, job driver, downloads, polling."""

from __future__ import annotations

from pathlib import Path

import pytest

from provsdk.errors import ConfigurationError
from provsdk.providers.commercial import BeatovenProvider, ElevenLabsProvider, StabilityProvider
from provsdk.providers.commercial.frame import CommercialProvider
from provsdk.providers.http import HttpProvider
from provsdk.providers.remote import RemoteProvider, resolve_api_key

_FRAME = ("generate", "agenerate", "close", "downloads", "_download", "_adownload", "_poll")


@pytest.mark.parametrize(
    "kind",
    [HttpProvider, CommercialProvider, StabilityProvider, ElevenLabsProvider, BeatovenProvider],
)
def test_remote_providers_leave_the_frame_to_the_frame(kind: type[RemoteProvider]) -> None:
    assert issubclass(kind, RemoteProvider)
    assert not set(_FRAME) & set(vars(kind))


@pytest.mark.parametrize("key", ["two words", "caf\u00e9", "tab\there"])
def test_every_remote_provider_refuses_a_key_a_header_cannot_carry(
    key: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError, match="cannot carry") as caught:
        HttpProvider("http://127.0.0.1:9", api_key=key, download_dir=tmp_path)
    assert key not in str(caught.value)
    with pytest.raises(ConfigurationError, match="cannot carry"):
        StabilityProvider(api_key=key, download_dir=tmp_path)


def test_the_key_comes_from_the_option_before_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOME_KEY", "from-env")
    assert resolve_api_key(" given ", "SOME_KEY", "p") == "given"
    assert resolve_api_key(None, "SOME_KEY", "p") == "from-env"
    monkeypatch.delenv("SOME_KEY")
    with pytest.raises(ConfigurationError, match="the p provider needs an API key"):
        resolve_api_key(None, "SOME_KEY", "p")


@pytest.mark.parametrize("timeout", [0.0, -1.0, float("nan"), float("inf")])
def test_a_timeout_that_is_not_a_positive_number_is_refused(timeout: float) -> None:
    with pytest.raises(ConfigurationError, match="timeout must be a positive number"):
        HttpProvider("http://127.0.0.1:9", api_key="k", timeout=timeout)
