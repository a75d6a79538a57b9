"""The one path that writes signed files: check the input, sign last, rename into place.

Nothing here generates or encodes audio; callers hand over a finished file. The input is
only read. The output appears whole, at once, or not at all.

Names are imported on first use: a verifying process needs only :mod:`provsdk.sign.atomic`
(what a writer's temporary file is called), not the writer and its manifest builder.
"""

from typing import TYPE_CHECKING

from provsdk._lazy import exports as _exports

if TYPE_CHECKING:
    from provsdk.sign.atomic import TEMP_SUFFIX, atomic_output, remove_stale_temporaries
    from provsdk.sign.strategy import C2paBuilderStrategy, DataHashedStrategy, SigningStrategy
    from provsdk.sign.writer import SignResult, read_parent, sign_file
else:
    __getattr__, __dir__ = _exports(
        __name__,
        {
            "TEMP_SUFFIX": "provsdk.sign.atomic",
            "atomic_output": "provsdk.sign.atomic",
            "remove_stale_temporaries": "provsdk.sign.atomic",
            "C2paBuilderStrategy": "provsdk.sign.strategy",
            "DataHashedStrategy": "provsdk.sign.strategy",
            "SigningStrategy": "provsdk.sign.strategy",
            "SignResult": "provsdk.sign.writer",
            "read_parent": "provsdk.sign.writer",
            "sign_file": "provsdk.sign.writer",
        },
    )

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
