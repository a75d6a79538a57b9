"""Soft bindings: a fingerprint of the decoded sound, so a file whose manifest was stripped can
find it again.

``fingerprint`` runs Chromaprint through the wheel's ffmpeg; ``audio_code`` turns a fingerprint
into the ISCC Audio-Code (``io.iscc.v0``) that the ``c2pa.soft-binding`` assertion carries;
``compare`` confirms a candidate by aligning two fingerprints; ``assertion`` writes and reads
that assertion. A soft binding says which registered sound this resembles, never that these
bytes are the signed ones (docs/soft-binding.md).
"""

# Imported eagerly, not through provsdk._lazy: the modules are light (numpy and iscc-core load
# inside their functions), and the function audio_code shares its module's name, which a lazy
# lookup would hand out as the module once the module is loaded.
from provsdk.softbinding.assertion import LABEL, read_soft_binding, soft_binding_assertion
from provsdk.softbinding.audio_code import ALG, AudioCode, audio_code, hamming
from provsdk.softbinding.compare import MATCH_THRESHOLD, MIN_OVERLAP_SECONDS, Alignment, align
from provsdk.softbinding.fingerprint import ITEM_SECONDS, Fingerprint, fingerprint_file

__all__ = [
    "ALG",
    "ITEM_SECONDS",
    "LABEL",
    "MATCH_THRESHOLD",
    "MIN_OVERLAP_SECONDS",
    "Alignment",
    "AudioCode",
    "Fingerprint",
    "align",
    "audio_code",
    "fingerprint_file",
    "hamming",
    "read_soft_binding",
    "soft_binding_assertion",
]
