"""What verification remembers per process (c2pa contexts, disclosure checks) is keyed by
everything the answer depends on: a file or statement judged once against one trust store is
never judged by that answer against another, nor at another instant, nor in a forked child."""

from __future__ import annotations

import dataclasses
import datetime as dt
import multiprocessing
from pathlib import Path
from typing import Any

from provsdk.credentials import Role, TrustConfig, TrustStore, load_signer
from provsdk.disclosure import sign_disclosure
from provsdk.disclosure.statement import no_training_data
from provsdk.home import ProvsdkHome
from provsdk.manifest.build import DISCLOSURE
from provsdk.models.report import C2paState
from provsdk.models.store import Manifest
from provsdk.verify.read import read_evidence
from provsdk.verify.statement_layers import disclosure_layer

NOW = dt.datetime.now(dt.UTC)


def _state(path: Path, producer: TrustStore) -> C2paState | None:
    store = read_evidence(path, producer).store
    return store.state if store else None


def test_a_file_trusted_under_one_store_is_judged_again_under_a_store_without_its_root(
    signed_files: dict[str, Path], trust: TrustConfig
) -> None:
    wav = signed_files["wav"]
    empty = TrustStore(Role.PRODUCER)
    assert _state(wav, trust.producer) is C2paState.TRUSTED
    assert _state(wav, empty) is not C2paState.TRUSTED
    # Another store that happens to hold other roots is another context too.
    others = TrustStore(Role.PRODUCER).adding(trust.provider.anchors)
    assert _state(wav, others) is not C2paState.TRUSTED
    assert _state(wav, trust.producer) is C2paState.TRUSTED


def _state_in_child(path: str, home: str) -> str:
    store = read_evidence(Path(path), TrustConfig.load(ProvsdkHome(Path(home))).producer).store
    return store.state.value if store else "none"


def test_a_forked_child_does_not_use_the_parents_c2pa_context(
    signed_files: dict[str, Path], trust: TrustConfig, dev_home: ProvsdkHome
) -> None:
    wav = signed_files["wav"]
    assert _state(wav, trust.producer) is C2paState.TRUSTED  # the parent's context is cached
    with multiprocessing.get_context("fork").Pool(1) as pool:
        state = pool.apply(_state_in_child, (str(wav), str(dev_home.root)))
    assert state == C2paState.TRUSTED.value


def _carrying(token: str) -> Manifest:
    return Manifest(
        label="urn:c2pa:test",
        title=None,
        claim_generator=(),
        assertions=((DISCLOSURE, {"jws": token}),),
        algorithm=None,
        signed_at=None,
        certificate=None,
    )


def test_a_remembered_disclosure_check_is_not_reused_for_another_store_or_instant(
    dev_home: ProvsdkHome, trust: TrustConfig
) -> None:
    provider = load_signer(Role.PROVIDER, home=dev_home, use_env=False)
    token = sign_disclosure(no_training_data("provsdk", "m", "1"), provider)
    manifest = _carrying(token)
    assert disclosure_layer(manifest, trust.provider, NOW).trusted is True
    # The same token, against a provider store that lacks its root: not trusted.
    assert disclosure_layer(manifest, TrustStore(Role.PROVIDER), NOW).trusted is False
    # The licensor's roots are not the provider's, though the store is not empty.
    as_licensor = dataclasses.replace(trust.licensor, role=Role.PROVIDER)
    assert disclosure_layer(manifest, as_licensor, NOW).trusted is False
    # Judged long after its certificate expired: not trusted, though trusted a moment ago.
    later = NOW + dt.timedelta(days=365 * 50)
    assert disclosure_layer(manifest, trust.provider, later).trusted is False
    assert disclosure_layer(manifest, trust.provider, NOW).trusted is True


def test_a_remembered_chain_is_not_reused_for_another_store_instant_or_certificate(
    dev_home: ProvsdkHome, trust: TrustConfig, tmp_path_factory: Any
) -> None:
    """Two statements by one licensor share a chain, whose check is remembered; a statement
    under another certificate, another store or another instant is judged afresh."""
    from provsdk.credentials import init_dev_pki
    from provsdk.jws import check_statement, read_statement, sign_statement

    licensor = load_signer(Role.LICENSOR, home=dev_home, use_env=False)
    first = read_statement(sign_statement({"n": 1}, licensor, "test"))
    second = read_statement(sign_statement({"n": 2}, licensor, "test"))
    assert check_statement(first, trust.licensor, at=NOW).trusted
    assert check_statement(second, trust.licensor, at=NOW).trusted
    assert not check_statement(second, TrustStore(Role.LICENSOR), at=NOW).trusted
    later = NOW + dt.timedelta(days=365 * 50)
    assert not check_statement(second, trust.licensor, at=later).trusted
    stranger_home = ProvsdkHome(tmp_path_factory.mktemp("stranger"))
    init_dev_pki(stranger_home)
    stranger = load_signer(Role.LICENSOR, home=stranger_home, use_env=False)
    forged = read_statement(sign_statement({"n": 1}, stranger, "test"))
    assert not check_statement(forged, trust.licensor, at=NOW).trusted
    assert check_statement(first, trust.licensor, at=NOW).trusted
