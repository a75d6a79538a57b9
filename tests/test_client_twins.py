"""``Client`` and ``AsyncClient`` are twins: the same options, the same ``generate``."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import pytest

from provsdk import AsyncClient, Client
from provsdk.errors import UnsupportedFormatError
from provsdk.home import ProvsdkHome
from provsdk.providers.base import Capability, Generation, GenerationRequest


class _Counting:
    """A provider that only counts how often it was asked: these tests never reach it."""

    name = "counting"
    capabilities = frozenset({Capability.OFFLINE})

    def __init__(self) -> None:
        self.asked = 0

    def generate(self, request: GenerationRequest) -> Generation:
        self.asked += 1
        raise AssertionError("a checked-out call must not reach the provider")


def test_both_clients_take_the_same_constructor_parameters() -> None:
    assert inspect.signature(AsyncClient) == inspect.signature(Client)
    assert "options" not in inspect.signature(AsyncClient).parameters


def test_generate_takes_the_same_parameters_in_both_clients() -> None:
    sync, awaited = inspect.signature(Client.generate), inspect.signature(AsyncClient.generate)
    assert sync == awaited
    assert list(sync.parameters)[:3] == ["self", "prompt", "out"]
    assert inspect.signature(Client().generate) == inspect.signature(AsyncClient().generate)
    assert inspect.iscoroutinefunction(AsyncClient.generate)
    assert not inspect.iscoroutinefunction(Client.generate)


def test_async_client_offers_what_callers_need_without_a_client_inside(
    dev_home: ProvsdkHome,
) -> None:
    client = AsyncClient(home=dev_home)
    assert not hasattr(client, "client")
    assert client.trust.producer and client.signer is client.signer
    assert client.provider.name == "local"
    client.close()


def test_a_bad_output_name_fails_before_the_provider_is_asked(
    dev_home: ProvsdkHome, tmp_path: Path
) -> None:
    provider = _Counting()
    with pytest.raises(UnsupportedFormatError):
        Client(provider, home=dev_home).generate("lofi", out=tmp_path / "a.txt", duration=1.0)

    async def awaited() -> None:
        await AsyncClient(provider, home=dev_home).generate("lofi", out=tmp_path / "b.txt")

    with pytest.raises(UnsupportedFormatError):
        asyncio.run(awaited())
    assert provider.asked == 0 and not list(tmp_path.iterdir())
