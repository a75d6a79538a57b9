"""provsdk: AI-generated music that carries its own evidence.

Generate a track, sign it with a C2PA manifest, verify it::

    from provsdk import Client, verify_file

    track = Client().generate("warm lofi beat", duration=30, out="beat.mp3")
    report = verify_file("beat.mp3")
    print(report.verdict, report.integrity.state)

The parts, one module each: ``audio`` (formats, structure checks, encoding), ``credentials``
(keys, signers, trust stores), ``manifest`` (definitions in, records out), ``sign`` (the one
writer of signed files), ``verify`` (layers and policy), ``providers`` (generators), ``client``.
"""

from typing import TYPE_CHECKING

from provsdk._lazy import exports as _exports
from provsdk._version import __version__

if TYPE_CHECKING:
    from provsdk.audio.formats import AudioFormat
    from provsdk.client import AsyncClient, Client
    from provsdk.credentials import (
        Algorithm,
        CallbackSigner,
        KeySigner,
        Role,
        Signer,
        TrustConfig,
        TrustStore,
        init_dev_pki,
        load_signer,
    )
    from provsdk.errors import (
        AmbiguousAudioError,
        ArgumentTypeError,
        AuthenticationError,
        ConfigurationError,
        ContentFilteredError,
        CorruptAudioError,
        CredentialError,
        InputError,
        InvalidArgumentError,
        OutputError,
        ProviderError,
        ProviderResponseError,
        ProviderTimeoutError,
        ProvsdkError,
        RateLimitError,
        SigningError,
        TimestampError,
        UnknownModelError,
        UnsupportedFormatError,
    )
    from provsdk.home import ProvsdkHome
    from provsdk.manifest.build import ManifestSpec
    from provsdk.models import (
        C2paState,
        DigitalSourceType,
        SoftwareAgent,
        Track,
        TrainingMining,
        Verdict,
        VerificationReport,
    )
    from provsdk.sign import SignResult, sign_file
    from provsdk.verify import verify_file
else:
    __getattr__, __dir__ = _exports(
        __name__,
        {
            "AudioFormat": "provsdk.audio.formats",
            "AsyncClient": "provsdk.client",
            "Client": "provsdk.client",
            "Algorithm": "provsdk.credentials",
            "CallbackSigner": "provsdk.credentials",
            "KeySigner": "provsdk.credentials",
            "Role": "provsdk.credentials",
            "Signer": "provsdk.credentials",
            "TrustConfig": "provsdk.credentials",
            "TrustStore": "provsdk.credentials",
            "init_dev_pki": "provsdk.credentials",
            "load_signer": "provsdk.credentials",
            "AmbiguousAudioError": "provsdk.errors",
            "ArgumentTypeError": "provsdk.errors",
            "AuthenticationError": "provsdk.errors",
            "ConfigurationError": "provsdk.errors",
            "ContentFilteredError": "provsdk.errors",
            "CorruptAudioError": "provsdk.errors",
            "CredentialError": "provsdk.errors",
            "InputError": "provsdk.errors",
            "InvalidArgumentError": "provsdk.errors",
            "OutputError": "provsdk.errors",
            "ProviderError": "provsdk.errors",
            "ProviderResponseError": "provsdk.errors",
            "ProviderTimeoutError": "provsdk.errors",
            "ProvsdkError": "provsdk.errors",
            "RateLimitError": "provsdk.errors",
            "SigningError": "provsdk.errors",
            "TimestampError": "provsdk.errors",
            "UnknownModelError": "provsdk.errors",
            "UnsupportedFormatError": "provsdk.errors",
            "ProvsdkHome": "provsdk.home",
            "ManifestSpec": "provsdk.manifest.build",
            "C2paState": "provsdk.models",
            "DigitalSourceType": "provsdk.models",
            "SoftwareAgent": "provsdk.models",
            "Track": "provsdk.models",
            "TrainingMining": "provsdk.models",
            "Verdict": "provsdk.models",
            "VerificationReport": "provsdk.models",
            "SignResult": "provsdk.sign",
            "sign_file": "provsdk.sign",
            "verify_file": "provsdk.verify",
        },
    )

__all__ = [
    "Algorithm",
    "AmbiguousAudioError",
    "ArgumentTypeError",
    "AsyncClient",
    "AudioFormat",
    "AuthenticationError",
    "C2paState",
    "CallbackSigner",
    "Client",
    "ConfigurationError",
    "ContentFilteredError",
    "CorruptAudioError",
    "CredentialError",
    "DigitalSourceType",
    "InputError",
    "InvalidArgumentError",
    "KeySigner",
    "ManifestSpec",
    "OutputError",
    "ProviderError",
    "ProviderResponseError",
    "ProviderTimeoutError",
    "ProvsdkError",
    "ProvsdkHome",
    "RateLimitError",
    "Role",
    "SignResult",
    "Signer",
    "SigningError",
    "SoftwareAgent",
    "TimestampError",
    "Track",
    "TrainingMining",
    "TrustConfig",
    "TrustStore",
    "UnknownModelError",
    "UnsupportedFormatError",
    "Verdict",
    "VerificationReport",
    "__version__",
    "init_dev_pki",
    "load_signer",
    "sign_file",
    "verify_file",
]
