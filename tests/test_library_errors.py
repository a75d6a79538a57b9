"""Mistakes a developer makes calling the library, and the errors Python code expects for them:
a bad value is a ValueError, a wrong type a TypeError, both still ProvsdkErrors; and the
command line's answers to the same mistakes (the hint shown, an existing output kept)."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import provsdk
from provsdk import (
    ArgumentTypeError,
    AsyncClient,
    Client,
    InputError,
    InvalidArgumentError,
    ProvsdkError,
    UnknownModelError,
)
from provsdk.credentials import Role, load_signer
from provsdk.errors import CredentialError, RateLimitError
from provsdk.grants import create_grant, sign_grant
from provsdk.home import ProvsdkHome
from provsdk.providers import get_provider
from provsdk_cli.main import cli


def _generate(tmp_path: Path, home: ProvsdkHome, prompt: Any = "warm lofi beat", **kw: Any) -> None:
    with Client(home=home) as client:
        client.generate(prompt, out=tmp_path / "out.wav", **{"duration": 1.0, **kw})


@pytest.mark.parametrize("duration", [0, 0.0, -1, -0.5])
def test_duration_zero_is_a_value_error(duration: float, tmp_path: Path, home: ProvsdkHome) -> None:
    with pytest.raises(ValueError, match="positive number of seconds") as caught:
        _generate(tmp_path, home, duration=duration)
    assert isinstance(caught.value, InvalidArgumentError)
    assert not list(tmp_path.iterdir()), "nothing is written for a refused argument"


@pytest.mark.parametrize("duration", [math.nan, math.inf, -math.inf])
def test_duration_nan_or_infinite_is_a_value_error(
    duration: float, tmp_path: Path, home: ProvsdkHome
) -> None:
    with pytest.raises(ValueError, match="positive number of seconds"):
        _generate(tmp_path, home, duration=duration)


@pytest.mark.parametrize("duration", ["30", True, None])
def test_duration_as_string_or_bool_is_a_type_error(
    duration: object, tmp_path: Path, home: ProvsdkHome
) -> None:
    with pytest.raises(TypeError, match="duration must be a number") as caught:
        _generate(tmp_path, home, duration=duration)
    assert isinstance(caught.value, ArgumentTypeError)
    assert isinstance(caught.value, ProvsdkError)


@pytest.mark.parametrize("seed", ["7", 7.0, True])
def test_seed_as_string_is_a_type_error(seed: object, tmp_path: Path, home: ProvsdkHome) -> None:
    with pytest.raises(TypeError, match="seed must be an integer"):
        _generate(tmp_path, home, seed=seed)


def test_prompt_not_a_string_is_a_type_error(tmp_path: Path, home: ProvsdkHome) -> None:
    with pytest.raises(TypeError, match="prompt must be a string, not bytes"):
        _generate(tmp_path, home, prompt=b"warm lofi beat")


@pytest.mark.parametrize("prompt", ["", "   "])
def test_empty_prompt_is_a_value_error(prompt: str, tmp_path: Path, home: ProvsdkHome) -> None:
    with pytest.raises(ValueError, match="prompt is empty"):
        _generate(tmp_path, home, prompt=prompt)


def test_async_client_checks_the_same_arguments(tmp_path: Path, home: ProvsdkHome) -> None:
    async def main() -> None:
        async with AsyncClient(home=home) as client:
            await client.generate("beat", out=tmp_path / "a.wav", duration=math.nan)

    with pytest.raises(ValueError, match="positive number of seconds"):
        asyncio.run(main())


def test_unknown_model_for_local_provider_is_refused(tmp_path: Path, home: ProvsdkHome) -> None:
    with pytest.raises(UnknownModelError, match="local: unknown model 'musicgen'") as caught:
        _generate(tmp_path, home, model="musicgen")
    assert isinstance(caught.value, ValueError)
    assert "provsdk-local" in str(caught.value), "the error names the model there is"
    assert caught.value.known == ("provsdk-local",)


def test_local_provider_takes_its_own_model_by_name(tmp_path: Path, home: ProvsdkHome) -> None:
    _generate(tmp_path, home, model="provsdk-local")
    assert (tmp_path / "out.wav").is_file()


@pytest.mark.parametrize(
    ("provider", "known"),
    [("stability", "stable-audio-2.5, stable-audio-2"), ("elevenlabs", "music_v1")],
)
def test_unknown_model_for_commercial_provider_names_the_known_ones(
    provider: str, known: str
) -> None:
    with pytest.raises(UnknownModelError, match=f"its models: {known}"):
        get_provider(provider, api_key="k", model="no-such-model")


def test_model_for_a_provider_that_takes_none_is_refused(tmp_path: Path, home: ProvsdkHome) -> None:
    # Beatoven.ai's API takes no model: a model asked for would silently not be used.
    with (
        pytest.raises(UnknownModelError, match="beatoven: unknown model 'v2'; its models: none"),
        Client("beatoven", home=home, provider_options={"api_key": "k"}) as client,
    ):
        client.generate("beat", out=tmp_path / "b.wav", duration=5, model="v2")


def test_every_error_type_is_importable_from_provsdk() -> None:
    for name in provsdk.errors.__all__:
        assert getattr(provsdk, name) is getattr(provsdk.errors, name)
        assert name in provsdk.__all__


def _grant_token(home: ProvsdkHome) -> str:
    grant = create_grant(
        licensor="Label", licensee="Studio", purposes=["commercial"], scope_model="provsdk-local"
    )
    return sign_grant(grant, load_signer(Role.LICENSOR, home=home, use_env=False))


def test_grant_neither_path_nor_jws_names_which(tmp_path: Path, home: ProvsdkHome) -> None:
    token = _grant_token(home)
    with pytest.raises(ValueError, match=r"grant 2: 'foo\.jws' is not a file and not JWS text"):
        _generate(tmp_path, home, grants=[token, "foo.jws"])


def test_grant_file_that_is_not_a_grant_names_the_file(tmp_path: Path, home: ProvsdkHome) -> None:
    bad = tmp_path / "grant.jws"
    bad.write_text("hello")
    with pytest.raises(InputError, match=r"grant 1 \(file .*grant\.jws\): "):
        _generate(tmp_path, home, grants=[bad])


def test_grant_text_that_is_not_a_jws_says_it_was_read_as_text(
    tmp_path: Path, home: ProvsdkHome
) -> None:
    with pytest.raises(ValueError, match=r"grant 1 \(JWS text\): "):
        _generate(tmp_path, home, grants=["aaa.bbb.ccc"])


def test_grants_given_as_one_string_is_a_type_error(tmp_path: Path, home: ProvsdkHome) -> None:
    # A string is a sequence of characters: it must not be read as one grant per character.
    with pytest.raises(TypeError, match="grants takes a list"):
        _generate(tmp_path, home, grants=_grant_token(home))


def test_grant_as_file_or_text_is_embedded(tmp_path: Path, home: ProvsdkHome) -> None:
    token = _grant_token(home)
    path = tmp_path / "g.jws"
    path.write_text(token)
    with Client(home=home) as client:
        track = client.generate("beat", out=tmp_path / "g.wav", duration=1, grants=[path, token])
    assert track.report.grants is not None and track.report.grants.count == 2


def test_missing_keys_hint_says_what_to_run() -> None:
    assert "provsdk keys init" in (CredentialError("no key").hint or "")
    assert "wait 60 s" in (RateLimitError("busy", provider="p", retry_after=60).hint or "")
    assert CredentialError("x", hint="own").hint == "own", "a given hint wins"


def _invoke(home: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--home", str(home), *args])


def test_cli_shows_the_hint_without_debug(tmp_path: Path) -> None:
    empty = tmp_path / "empty-home"
    result = _invoke(empty, "generate", "beat", "-o", str(tmp_path / "x.wav"), "--duration", "1")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("provsdk: ")
    assert len(lines) == 2 and lines[1].startswith("hint: ") and "keys init" in lines[1]


def test_generate_refuses_to_overwrite_without_force(tmp_path: Path, home: ProvsdkHome) -> None:
    out = tmp_path / "beat.wav"
    out.write_bytes(b"my earlier mix")
    result = _invoke(home.root, "generate", "beat", "-o", str(out), "--duration", "1")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"provsdk: {out}: already exists; give --force to replace it"
    ]
    assert out.read_bytes() == b"my earlier mix"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["beat.wav"], "nothing generated"


def test_generate_with_force_replaces_the_output(tmp_path: Path, home: ProvsdkHome) -> None:
    out = tmp_path / "beat.wav"
    out.write_bytes(b"my earlier mix")
    result = _invoke(home.root, "generate", "beat", "-o", str(out), "--duration", "1", "--force")
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes()[:4] == b"RIFF"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["beat.wav"], "no temporary left"


@pytest.mark.parametrize("duration", [10**400], ids=["int-beyond-float"])
def test_duration_too_large_for_a_float_is_a_value_error(duration: int, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="duration"):
        Client().generate("x", out=tmp_path / "o.wav", duration=duration)


@pytest.mark.parametrize("seed", [-5, 2**70], ids=["negative", "beyond-63-bits"])
def test_seed_out_of_the_recorded_range_is_a_value_error(seed: int, tmp_path: Path) -> None:
    # The CLI refuses these; the library did not, and a 2**70 seed was recorded as no seed.
    with pytest.raises(ValueError, match="seed"):
        Client().generate("x", out=tmp_path / "o.wav", seed=seed)
