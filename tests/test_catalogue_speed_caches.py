"""What the catalogue's speed-ups remember, and what they must not: a signer parsed once from
its certificates still checks every token's own signature, and the fork server that workers
start from has made no c2pa object before it forks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from provsdk.credentials import Algorithm, Role, TrustStore
from provsdk.credentials.devpki import issue_leaf, make_root
from provsdk.credentials.signers import CallbackSigner, KeySigner
from provsdk.jws import sign_statement, verify_statement

TYPE = "provsdk-test-statement"


def test_a_forged_token_under_a_chain_met_before_still_fails_its_signature() -> None:
    root_key, root = make_root("signer cache root", Algorithm.ES256)
    key, leaf = issue_leaf(root_key, root, "signer cache leaf", Algorithm.ES256)
    store = TrustStore(Role.PROVIDER, (root,))
    honest = KeySigner(algorithm=Algorithm.ES256, chain=(leaf,), source="test", key=key)
    forger_key = ec.generate_private_key(ec.SECP256R1())
    forger = CallbackSigner(
        algorithm=Algorithm.ES256,
        chain=honest.chain,  # the very x5c strings the honest token carries
        callback=lambda data: forger_key.sign(data, ec.ECDSA(hashes.SHA256())),
    )
    good = verify_statement(sign_statement({"n": 1}, honest, TYPE), store)
    assert good.trusted is True
    # The chain (and the key parsed from it) is remembered now; the forged signature is not.
    forged = verify_statement(sign_statement({"n": 2}, forger, TYPE), store)
    assert forged.chain.trusted is True
    assert forged.signature_valid is False
    assert forged.trusted is False
    assert verify_statement(sign_statement({"n": 3}, honest, TYPE), store).trusted is True


def test_a_token_names_its_own_signer_not_one_met_before() -> None:
    root_key, root = make_root("signer names root", Algorithm.ES256)
    store = TrustStore(Role.PROVIDER, (root,))
    names = []
    for who in ("first signer", "second signer"):
        key, leaf = issue_leaf(root_key, root, who, Algorithm.ES256)
        signer = KeySigner(algorithm=Algorithm.ES256, chain=(leaf,), source=who, key=key)
        check = verify_statement(sign_statement({"who": who}, signer, TYPE), store)
        assert check.trusted is True
        names.append(check.signer_names)
    assert any("first signer" in n for n in names[0])
    assert any("second signer" in n for n in names[1])


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads in /proc")
def test_the_fork_servers_imports_make_no_c2pa_object_and_no_thread() -> None:
    # Workers fork from a process that imported these: a c2pa Context (or a native thread)
    # made at import time would be shared by every forked worker, which c2pa does not survive.
    probe = (
        "import json, os, sys\n"
        "from provsdk.catalogue.forkserver import PRELOAD as _PRELOAD\n"
        "for name in _PRELOAD: __import__(name)\n"
        "from provsdk import c2pa_access\n"
        "print(json.dumps({'contexts': len(c2pa_access._CONTEXTS),"
        " 'threads': len(os.listdir('/proc/self/task')),"
        " 'loaded': [n for n in _PRELOAD if n in sys.modules]}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    found = json.loads(done.stdout)
    assert found["loaded"] and "c2pa" in found["loaded"]
    assert found["contexts"] == 0
    assert found["threads"] == 1
