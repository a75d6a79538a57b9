"""The public surface: every package's ``__all__`` is sorted, complete and importable."""

from __future__ import annotations

import importlib
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]

PACKAGES = [
    "provsdk.audio",
    "provsdk.credentials",
    "provsdk.errors",
    "provsdk.manifest",
    "provsdk.models",
    "provsdk.sign",
    "provsdk.verify",
]


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def _declared(name: str) -> list[str]:
    module = _module(name)
    names = getattr(module, "__all__", None)
    if names is None:
        pytest.skip(f"{name} has no __all__ (see test_all_exists)")
    return list(names)


def _natural(text: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _isort_style(names: list[str]) -> list[str]:
    """ruff RUF022 order: SCREAMING_CASE constants, then CamelCase classes, then the rest."""

    def key(name: str) -> tuple[int, list[object]]:
        bare = name.lstrip("_")
        if bare.isupper() and len(bare) > 1:
            group = 0
        elif bare[:1].isupper():
            group = 1
        else:
            group = 2
        return group, _natural(name)

    return sorted(names, key=key)


@pytest.mark.parametrize("name", PACKAGES)
def test_all_exists(name: str) -> None:
    module = _module(name)
    assert hasattr(module, "__all__"), f"{name} has no __all__"
    assert isinstance(module.__all__, (list, tuple))
    assert all(isinstance(n, str) for n in module.__all__)
    assert module.__all__, f"{name}.__all__ is empty"


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_without_duplicates(name: str) -> None:
    names = _declared(name)
    assert len(names) == len(set(names)), f"duplicates in {name}.__all__"
    assert names in (sorted(names), _isort_style(names)), (
        f"{name}.__all__ is not sorted; expected {_isort_style(names)}"
    )


@pytest.mark.parametrize("name", PACKAGES)
def test_every_name_in_all_resolves(name: str) -> None:
    module = _module(name)
    missing = [n for n in _declared(name) if not hasattr(module, n)]
    assert missing == [], f"{name}.__all__ names what the module does not have: {missing}"
    namespace: dict[str, object] = {}
    exec(f"from {name} import *", namespace)  # the star import must work too
    assert set(_declared(name)) <= set(namespace)


def _unexported(name: str) -> list[str]:
    """Public classes and functions of provsdk present in the module but not in __all__."""
    module = _module(name)
    declared = set(_declared(name))
    found = []
    for attr, value in vars(module).items():
        if attr.startswith("_") or attr in declared:
            continue
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        if (getattr(value, "__module__", "") or "").split(".")[0] == "provsdk":
            found.append(attr)
    return sorted(found)


EXPORT_PARAMS = [
    "provsdk.audio",
    "provsdk.credentials",
    "provsdk.errors",
    "provsdk.manifest",
    "provsdk.models",
    "provsdk.providers",
    "provsdk.sign",
    "provsdk.verify",
]


@pytest.mark.parametrize("name", EXPORT_PARAMS)
def test_every_public_definition_is_in_all(name: str) -> None:
    assert _unexported(name) == []


def test_top_level_package_all() -> None:
    import provsdk

    names = getattr(provsdk, "__all__", None)
    if names is None:
        pytest.skip("provsdk.__all__ does not exist yet")
    names = list(names)
    assert len(names) == len(set(names))
    assert names in (sorted(names), _isort_style(names))
    missing = [n for n in names if not hasattr(provsdk, n)]
    assert missing == []
    assert _unexported("provsdk") == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        "provsdk",
        "provsdk.home",
        "provsdk.audio.formats",
        "provsdk.audio.containers",
        "provsdk.audio.codec",
        *PACKAGES,
    ],
)
def test_module_imports_in_a_fresh_interpreter(name: str) -> None:
    """No import cycle: each module imports first, on its own."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", f"import {name}"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_errors_form_the_documented_tree() -> None:
    from provsdk import errors

    assert issubclass(errors.UnsupportedFormatError, errors.InputError)
    assert issubclass(errors.CorruptAudioError, errors.InputError)
    for name in (
        "InputError",
        "CredentialError",
        "ConfigurationError",
        "SigningError",
        "OutputError",
        "ProviderError",
    ):
        cls = getattr(errors, name)
        assert issubclass(cls, errors.ProvsdkError)
    assert errors.ProviderError("x", provider="p").exit_code == 3
    assert errors.InputError("x").exit_code == 2
    error = errors.InputError("two\nlines  here", path="f.wav", hint="do this")
    assert str(error) == "f.wav: two lines here"
    assert error.diagnostics() == "InputError: f.wav: two lines here\nhint: do this"
    assert str(errors.ProviderError("down", provider="acme", request_id="r1")) == (
        "acme: down (request id r1)"
    )
    # Bad arguments are what Python code expects them to be, and still ProvsdkErrors.
    assert issubclass(errors.InvalidArgumentError, ValueError)
    assert issubclass(errors.InvalidArgumentError, errors.ConfigurationError)
    assert issubclass(errors.ArgumentTypeError, TypeError)
    assert issubclass(errors.ArgumentTypeError, errors.ConfigurationError)
    assert issubclass(errors.UnknownModelError, errors.InvalidArgumentError)


def test_every_error_is_exported_from_the_top_level_package() -> None:
    import provsdk
    from provsdk import errors

    assert [n for n in errors.__all__ if n not in provsdk.__all__] == []
    # And every error is documented in the errors module's tree.
    tree = (errors.__doc__ or "").split("::", 1)[1]
    assert [n for n in errors.__all__ if n not in tree.split()] == []


def _provsdk_imports(module: str) -> set[str]:
    """Every provsdk module ``module`` imports, at any depth of its source and TYPE_CHECKING too."""
    import ast

    path = REPO / (module.replace(".", "/") + ".py")
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] == "provsdk"}


def test_reason_depends_on_nothing_and_report_serialize_form_no_cycle() -> None:
    assert _provsdk_imports("provsdk.models.reason") == set()
    assert "provsdk.models.report" not in _provsdk_imports("provsdk.models.serialize")
    from provsdk.models import Reason as FromPackage
    from provsdk.models.reason import Reason
    from provsdk.models.report import Reason as FromReport

    assert Reason is FromPackage is FromReport
