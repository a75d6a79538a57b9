"""The one path that writes signed files: check the input, sign last, rename into place.

Nothing here generates or encodes audio; callers hand over a finished file. The input is
only read. The output appears whole, at once, or not at all.
"""

from provsdk.sign.atomic import TEMP_SUFFIX, atomic_output, remove_stale_temporaries
from provsdk.sign.strategy import C2paBuilderStrategy, DataHashedStrategy, SigningStrategy
from provsdk.sign.writer import SignResult, read_parent, sign_file

__all__ = [
    "TEMP_SUFFIX",
    "C2paBuilderStrategy",
    "DataHashedStrategy",
    "SignResult",
    "SigningStrategy",
    "atomic_output",
    "read_parent",
    "remove_stale_temporaries",
    "sign_file",
]
