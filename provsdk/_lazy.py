"""Package namespaces that import a name's module the first time the name is used.

A command that only verifies, or only prints the version, should not pay for numpy, httpx or
the providers because ``provsdk/__init__.py`` once imported everything it re-exports. Each
package that re-exports keeps its real imports under ``TYPE_CHECKING`` (what type checkers and
readers see) and, at run time, a table of name -> module handed to :func:`exports`.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Mapping

__all__ = ["exports"]


def exports(
    package: str, table: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` (PEP 562) of ``package``.

    ``table`` maps each re-exported name to the module that defines it. A name is imported on
    first access and then stored in the package, so later accesses are plain lookups. Other
    public names fall back to a submodule of that name (``provsdk.client``), as eager imports
    used to make them available.
    """

    def __getattr__(name: str) -> object:
        namespace = sys.modules[package]
        where = table.get(name)
        if where is not None:
            value = getattr(importlib.import_module(where), name)
        elif not name.startswith("_") and importlib.util.find_spec(f"{package}.{name}"):
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(namespace, name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *table})

    return __getattr__, __dir__
