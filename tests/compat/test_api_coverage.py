"""API coverage: virtcore.libvirt against python3-libvirt 9.0, introspected in a subprocess.

Both modules are described by the same code (:data:`DESCRIBE`): every public
module-level name (functions with their signatures, classes, integer and
string constants with their values) and every public method of every class
with its parameter names and defaults. Nothing may be missing unless listed in
an allow-list below with its reason, and every signature must match.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import virtcore.libvirt
import virtcore.libvirt_lxc
import virtcore.libvirt_qemu
from tests.compat.oracle import run_json

DESCRIBE = r"""
import inspect, json, types

def _sig(obj):
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    params = []
    for p in sig.parameters.values():
        if p.name == "self":
            continue
        default = None if p.default is inspect.Parameter.empty else repr(p.default)
        params.append([p.name, str(p.kind), default])
    return params

def describe(mod):
    out = {"functions": {}, "classes": {}, "ints": {}, "strings": {}, "other": []}
    for name in dir(mod):
        if name.startswith("_"):
            continue
        obj = getattr(mod, name)
        if isinstance(obj, types.ModuleType):
            out["other"].append(name)
        elif getattr(obj, "__module__", None) in ("typing", "types", "builtins") and not (
            isinstance(obj, (int, str))
        ):
            out["other"].append(name)
        elif isinstance(obj, type):
            methods = {}
            for mname in dir(obj):
                if mname.startswith("_") and mname not in ("__init__", "__enter__", "__exit__"):
                    continue
                member = getattr(obj, mname)
                if callable(member):
                    methods[mname] = _sig(member)
            out["classes"][name] = methods
        elif isinstance(obj, bool):
            out["other"].append(name)
        elif isinstance(obj, int):
            out["ints"][name] = int(obj)
        elif isinstance(obj, str):
            out["strings"][name] = obj
        elif callable(obj):
            out["functions"][name] = _sig(obj)
        else:
            out["other"].append(name)
    return out
"""

ORACLE_SCRIPT = DESCRIBE + "\nimport libvirt\nprint(json.dumps(describe(libvirt)))\n"
SIDE_MODULES_SCRIPT = (
    DESCRIBE
    + "\nimport libvirt_lxc, libvirt_qemu\n"
    + "print(json.dumps({'qemu': describe(libvirt_qemu), 'lxc': describe(libvirt_lxc)}))\n"
)

# Module-level names of libvirt-python that are not API: typing helpers it
# imports for its annotations and its C extension module.
NOT_API = {
    "Any", "Callable", "Dict", "List", "Optional", "Tuple", "Type", "TypeVar",
    "TracebackType", "Union", "overload", "libvirtmod",
}  # fmt: skip

# Methods virtcore.libvirt adds (documented in docs/migrating-from-libvirt-python.md).
EXTRA_METHODS = {"native"}

# Signatures that differ on purpose, with the reason.
SIGNATURE_DIFFERENCES: dict[str, str] = {}


def _describe_virtcore(module: Any = virtcore.libvirt) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(DESCRIBE, namespace)
    described: dict[str, Any] = namespace["describe"](module)
    # Round-trip through JSON so both sides have the same types (lists, not tuples).
    result: dict[str, Any] = json.loads(json.dumps(described))
    return result


@pytest.fixture(scope="module")
def oracle() -> dict[str, Any]:
    described: dict[str, Any] = run_json(ORACLE_SCRIPT)
    return described


@pytest.fixture(scope="module")
def ours() -> dict[str, Any]:
    return _describe_virtcore()


def test_every_module_function_exists(oracle: dict[str, Any], ours: dict[str, Any]) -> None:
    assert sorted(set(oracle["functions"]) - set(ours["functions"])) == []


def test_module_function_signatures_match(oracle: dict[str, Any], ours: dict[str, Any]) -> None:
    differ = {
        name: (sig, ours["functions"][name])
        for name, sig in oracle["functions"].items()
        if ours["functions"].get(name) != sig
    }
    assert differ == {}


def test_only_non_api_module_names_are_left_out(
    oracle: dict[str, Any], ours: dict[str, Any]
) -> None:
    ours_all = set(ours["functions"]) | set(ours["classes"]) | set(ours["ints"])
    ours_all |= set(ours["strings"]) | set(ours["other"])
    assert sorted(set(oracle["other"]) - ours_all - NOT_API) == []


def test_every_class_exists(oracle: dict[str, Any], ours: dict[str, Any]) -> None:
    assert sorted(set(oracle["classes"]) - set(ours["classes"])) == []


def test_every_method_exists(oracle: dict[str, Any], ours: dict[str, Any]) -> None:
    missing = {
        f"{cls}.{method}"
        for cls, methods in oracle["classes"].items()
        for method in methods
        if method not in ours["classes"].get(cls, {})
    }
    assert sorted(missing) == []


def test_method_signatures_match(oracle: dict[str, Any], ours: dict[str, Any]) -> None:
    differ = {
        f"{cls}.{method}": (sig, ours["classes"][cls][method])
        for cls, methods in oracle["classes"].items()
        for method, sig in methods.items()
        if f"{cls}.{method}" not in SIGNATURE_DIFFERENCES
        and ours["classes"].get(cls, {}).get(method, sig) != sig
    }
    assert differ == {}


def test_no_unexplained_extra_methods(oracle: dict[str, Any], ours: dict[str, Any]) -> None:
    extra = {
        f"{cls}.{method}"
        for cls, methods in ours["classes"].items()
        if cls in oracle["classes"]
        for method in methods
        if method not in oracle["classes"][cls] and method not in EXTRA_METHODS
    }
    assert sorted(extra) == []


def test_every_integer_constant_has_libvirts_value(
    oracle: dict[str, Any], ours: dict[str, Any]
) -> None:
    differ = {
        name: (value, ours["ints"].get(name))
        for name, value in oracle["ints"].items()
        if ours["ints"].get(name) != value
    }
    assert differ == {}


def test_every_string_constant_has_libvirts_value(
    oracle: dict[str, Any], ours: dict[str, Any]
) -> None:
    differ = {
        name: (value, ours["strings"].get(name))
        for name, value in oracle["strings"].items()
        if ours["strings"].get(name) != value
    }
    assert differ == {}


def test_no_constants_beyond_libvirts(oracle: dict[str, Any], ours: dict[str, Any]) -> None:
    assert sorted(set(ours["ints"]) - set(oracle["ints"])) == []
    assert sorted(set(ours["strings"]) - set(oracle["strings"])) == []


@pytest.mark.parametrize(
    ("side", "module"), [("qemu", virtcore.libvirt_qemu), ("lxc", virtcore.libvirt_lxc)]
)
def test_qemu_and_lxc_modules_match(side: str, module: Any) -> None:
    oracle = run_json(SIDE_MODULES_SCRIPT)[side]
    ours = _describe_virtcore(module)
    functions = {name: ours["functions"].get(name) for name in oracle["functions"]}
    assert (functions, ours["ints"]) == (oracle["functions"], oracle["ints"])
