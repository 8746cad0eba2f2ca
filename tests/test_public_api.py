"""The public API surface is deliberate: these lists change only on purpose."""

from __future__ import annotations

import subprocess
import sys

import virtcore
from virtcore import hookspecs


def test_top_level_names_are_pinned() -> None:
    assert sorted(virtcore.__all__) == sorted([
        "URI", "Auth", "Connection", "ConnectionClosedError", "Credential", "Domain",
        "DomainCheckpoint", "DomainSnapshot", "Event", "EventKind", "Interface",
        "InvalidArgError", "NWFilter", "NWFilterBinding", "Network", "NetworkPort",
        "NoDomainError", "NoSupportError", "NodeDevice", "NotFoundError",
        "OperationDeniedError", "OperationInvalidError", "OperationTimeoutError", "Secret",
        "StoragePool", "StorageVol", "Stream", "VirtError", "XMLError", "__version__",
        "hookimpl", "open", "open_auth", "open_read_only",
    ])  # fmt: skip
    for name in virtcore.__all__:
        assert hasattr(virtcore, name), name


def test_the_plugin_contract_names_are_stable() -> None:
    assert hookspecs.PROJECT_NAME == "virtcore"
    specs = {name for name in dir(hookspecs) if name.startswith("virtcore_")}
    assert specs == {"virtcore_connect_drivers", "virtcore_state_drivers"}


def test_importing_virtcore_loads_no_backend_and_no_heavy_dependency() -> None:
    code = (
        "import sys, virtcore; "
        "bad = [m for m in sys.modules if m.startswith(('virtcore_', 'pyVmomi', 'winrm', "
        "'paramiko'))]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_package_is_typed() -> None:
    from importlib.resources import files

    assert files("virtcore").joinpath("py.typed").is_file()


def test_failed_calls_print_nothing() -> None:
    code = (
        "import virtcore\n"
        "try:\n    virtcore.open('nosuchdrv:///x')\nexcept virtcore.VirtError:\n    pass\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (out.stdout, out.stderr) == ("", "")
