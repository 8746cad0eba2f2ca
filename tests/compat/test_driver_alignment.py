"""Every compat method reaches the driver method of the right name with arguments it accepts.

Each public method of the virtcore.libvirt classes (and of libvirt_qemu and
libvirt_lxc) is called once, on a fresh test:///default host, with
libvirt-python-style arguments, while the connection's dispatch seam records
every driver call it makes: table kind, method name and arguments. Then:

* every method of the test driver's tables is reached by some compat method,
  except the few listed in :data:`NOT_REACHED_THROUGH_THE_SEAM` with why;
* every recorded call the test driver implements binds to the driver method's
  signature, and each argument has the annotated type (CPU maps as bytes, a
  stream handle as a native ``Stream``, ...);
* every recorded method name is spelled the way driver tables spell
  libvirt's fields: ``nwfilterLookupByName`` is ``nwfilter_lookup_by_name``,
  never ``n_w_filter_...``; ``domainGetIOThreadInfo`` is
  ``domain_get_iothread_info``; ``connectSetKeepAlive`` is
  ``connect_set_keepalive``.

Recording happens before the driver runs, so a call the driver then refuses
is still checked; a method whose first call fails never reaches its later
ones, which is why the placeholders below are valid on test:///default.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import re
import types
import typing
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest

import virtcore
import virtcore.objects
from virtcore import libvirt, libvirt_lxc, libvirt_qemu
from virtcore.connection import Connection
from virtcore.driver import TABLE_KINDS
from virtcore.drivers.test.driver import reset_default_host

TEST_UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f"
CLASSES = (
    "virConnect",
    "virDomain",
    "virDomainSnapshot",
    "virDomainCheckpoint",
    "virNetwork",
    "virNetworkPort",
    "virStoragePool",
    "virStorageVol",
    "virNodeDevice",
    "virInterface",
    "virSecret",
    "virNWFilter",
    "virNWFilterBinding",
)
SKIPPED = {"close", "native"}
"""Not driver calls: closing is covered elsewhere and would end the recording."""

NOT_REACHED_THROUGH_THE_SEAM: dict[tuple[str, str], str] = {
    ("hypervisor", "connect_is_alive"): (
        "virConnect.isAlive() is answered by Connection.is_alive(), which asks the driver "
        "directly so that a closed connection reports 0 instead of failing"
    ),
    ("hypervisor", "domain_set_scheduler_parameters_flags"): (
        "setSchedulerParametersFlags first reads the parameters with "
        "VIR_TYPED_PARAM_STRING_OKAY added, which the test driver refuses like libvirt's; "
        "tests/compat/test_dispatch.py checks the call with a driver that accepts it"
    ),
}

# Split acronyms and compound words are the mistakes camelCase-to-snake_case makes.
_SNAKE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]{2,})*")
_MISSPELLED = ("io_thread", "keep_alive", "nw_filter")

FILTER_XML = (
    "<filter name='clean' chain='ipv4'><uuid>11111111-2222-3333-4444-5555555555d1</uuid></filter>"
)
BINDING_XML = (
    f"<filterbinding><owner><name>test</name><uuid>{TEST_UUID}</uuid></owner>"
    "<portdev name='vnet0'/><mac address='AA:BB:CC:DD:EE:FF'/>"
    "<filterref filter='clean'/></filterbinding>"
)
SECRET_XML = (
    "<secret><uuid>11111111-2222-3333-4444-5555555555c1</uuid>"
    "<usage type='volume'><volume>/pool/disk.img</volume></usage></secret>"
)
PORT_XML = (
    "<networkport><uuid>11111111-2222-3333-4444-5555555555e1</uuid>"
    f"<owner><name>test</name><uuid>{TEST_UUID}</uuid></owner>"
    "<mac address='52:54:00:00:00:01'/></networkport>"
)

PARAMS: dict[str, dict[str, Any]] = {
    "setBlkioParameters": {"weight": 300},
    "setBlockIoTune": {"total_bytes_sec": 1000},
    "setInterfaceParameters": {"inbound.average": 100},
    "setMemoryParameters": {"hard_limit": 1000},
    "setNumaParameters": {"numa_mode": 0},
    "setPerfEvents": {"cmt": True},
    "setSchedulerParameters": {"weight": 10},
    "setSchedulerParametersFlags": {"weight": 10},
}
"""Typed parameters each setter's driver knows: the setter reads them back first."""


@dataclass(frozen=True)
class Call:
    """One driver call made by a compat method."""

    caller: str
    kind: str
    method: str
    api: str
    args: tuple[Any, ...]


class World:
    """A fresh test:///default host with one object of every kind, recording driver calls."""

    def __init__(self, scratch: Path) -> None:
        reset_default_host()
        self.conn = libvirt.open("test:///default")
        c = self.conn
        # Objects are made through the native API, so that a broken compat call
        # shows up as a failed check below rather than as a failing fixture.
        n: Connection = c.native
        dom = n.domain_lookup_by_name("test")
        net = n.network_lookup_by_name("default")
        pool = n.storage_pool_lookup_by_name("default-pool")
        self.dom = libvirt.virDomain(c, _obj=dom)
        self.net = libvirt.virNetwork(c, _obj=net)
        self.pool = libvirt.virStoragePool(c, _obj=pool)
        self.vol = libvirt.virStorageVol(
            c, _obj=pool.vol_create_xml("<volume><name>v1</name><capacity>1024</capacity></volume>")
        )
        self.secret = libvirt.virSecret(c, _obj=n.secret_define_xml(SECRET_XML))
        self.nwfilter = libvirt.virNWFilter(c, _obj=n.nwfilter_define_xml(FILTER_XML))
        self.binding = libvirt.virNWFilterBinding(
            c, _obj=n.nwfilter_binding_create_xml(BINDING_XML)
        )
        self.port = libvirt.virNetworkPort(self.net, _obj=net.port_create_xml(PORT_XML))
        self.snapshot = libvirt.virDomainSnapshot(
            self.dom,
            _obj=dom.snapshot_create_xml("<domainsnapshot><name>s1</name></domainsnapshot>"),
        )
        # A domain has either snapshots or checkpoints; calls on this one are refused
        # by the driver, which does not keep them from being recorded.
        self.checkpoint = libvirt.virDomainCheckpoint(
            self.dom, _obj=virtcore.objects.DomainCheckpoint(dom, "c1")
        )
        self.device = libvirt.virNodeDevice(c, _obj=n.node_device_lookup_by_name("computer"))
        self.iface = libvirt.virInterface(c, _obj=n.interface_lookup_by_name("eth1"))
        self.scratch = scratch
        self.calls: list[tuple[str, str, str, tuple[Any, ...]]] = []
        native: Connection = c.native
        forward = native._invoke

        def record(kind: str, method: str, api: str, *args: Any, write: bool = False) -> Any:
            self.calls.append((kind, method, api, args))
            return forward(kind, method, api, *args, write=write)

        # The dispatch seam is the one place every compat method goes through.
        native._invoke = record  # type: ignore[method-assign]

    def owner(self, cls: str) -> Any:
        """The object of compat class *cls*."""
        return {
            "virConnect": self.conn,
            "virDomain": self.dom,
            "virDomainSnapshot": self.snapshot,
            "virDomainCheckpoint": self.checkpoint,
            "virNetwork": self.net,
            "virNetworkPort": self.port,
            "virStoragePool": self.pool,
            "virStorageVol": self.vol,
            "virNodeDevice": self.device,
            "virInterface": self.iface,
            "virSecret": self.secret,
            "virNWFilter": self.nwfilter,
            "virNWFilterBinding": self.binding,
        }[cls]

    def argument(self, caller: str, param: inspect.Parameter) -> Any:
        """A libvirt-python-style value for *param* of *caller* that test:///default accepts."""
        name, hint = param.name, str(param.annotation)
        method = caller.rsplit(".", 1)[-1]
        if name == "params":
            return dict(PARAMS.get(method, {"bogus": 1}))
        if "virStream" in hint:
            return self.conn.newStream()
        cls = hint.split(" ", maxsplit=1)[0]
        if cls in CLASSES:
            # Optional objects filter events; a snapshot to revert to is needed.
            return self.owner(cls) if "None" not in hint or name == "snap" else None
        named: dict[str, Any] = {
            "uuid": uuid.UUID(TEST_UUID).bytes,
            "uuidstr": TEST_UUID,
            "doms": [self.dom],
            "cpumap": (True, False),
            "vcpumap": "0",
            "disk": "vda",
            "path": "vda",
            "device": "testnet0",
            "dev": "vda",
            "to": str(self.scratch / "image"),
            "frm": str(self.scratch / "image"),
            "file": str(self.scratch / "image"),
            "keycodes": [30],
            "nkeycodes": 1,
            "memory": 1024,
            "nvcpus": 1,
            "maxCells": 1,  # libvirt-python refuses 0 before calling libvirt
            "total": True,
            "pages": [4],
            "xmlCPUs": ["<cpu/>"],
            "value": b"secret",
            "cb": lambda *args: None,
        }
        if name in named:
            return named[name]
        by_hint: dict[str, Any] = {"int": 0, "bool": True, "bytes": b"", "Any": None}
        if hint in by_hint:
            return by_hint[hint]
        if hint.startswith("list"):
            return []
        return "x"

    def close(self) -> None:
        """Close the connection without recording."""
        native: Connection = self.conn.native
        del native._invoke
        self.conn.close()


def _method_of(cls: str, name: str) -> Callable[[World], Callable[..., Any]]:
    def bind(world: World) -> Callable[..., Any]:
        method: Callable[..., Any] = getattr(world.owner(cls), name)
        return method

    return bind


def _function_of(func: Callable[..., Any], owner: str) -> Callable[[World], Callable[..., Any]]:
    def bind(world: World) -> Callable[..., Any]:
        return functools.partial(func, world.owner(owner))

    return bind


def _targets() -> Iterator[tuple[str, Callable[[World], Callable[..., Any]]]]:
    for cls in CLASSES:
        for name in sorted(dir(getattr(libvirt, cls))):
            member = getattr(getattr(libvirt, cls), name)
            if name.startswith("_") or name in SKIPPED or not callable(member):
                continue
            yield f"{cls}.{name}", _method_of(cls, name)
    for module in (libvirt_qemu, libvirt_lxc):
        for name, func in sorted(vars(module).items()):
            if not inspect.isfunction(func) or name.startswith("_"):
                continue
            if func.__module__ != module.__name__:
                continue
            first = next(iter(inspect.signature(func).parameters), "")
            if first not in ("domain", "conn"):
                continue  # no driver behind it (lxcEnterNamespace, ...)
            owner = "virDomain" if first == "domain" else "virConnect"
            yield f"{module.__name__.rsplit('.', 1)[-1]}.{name}", _function_of(func, owner)


def _call_with_placeholders(world: World, caller: str, method: Callable[..., Any]) -> None:
    if caller.endswith("libvirt_qemu.qemuMonitorEventRegister"):
        args: list[Any] = [None, None, lambda *a: None, None, 0]
    elif caller == "virDomain.setTime":
        args = [{"seconds": 1, "nseconds": 2}]
    else:
        params = inspect.signature(method).parameters.values()
        args = [
            world.argument(caller, p)
            for p in params
            if p.default is inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD
        ]
    # The driver refusing the placeholders does not matter: the calls are recorded.
    refusals = (libvirt.libvirtError, LookupError, TypeError, ValueError, KeyError, RuntimeError)
    with contextlib.suppress(*refusals):
        method(*args)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> list[Call]:
    """Every driver call of every compat method (a fresh host each)."""
    calls: list[Call] = []
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    try:
        for caller, bind in _targets():
            world = World(tmp_path_factory.mktemp("scratch"))
            try:
                _call_with_placeholders(world, caller, bind(world))
                calls.extend(Call(caller, *call) for call in world.calls)
            finally:
                world.close()
    finally:
        libvirt.registerErrorHandler(None, None)
        reset_default_host()
    return calls


@pytest.fixture(scope="module")
def driver_methods() -> dict[tuple[str, str], Callable[..., Any]]:
    """The test driver's table methods, by (table kind, name)."""
    reset_default_host()
    conn = virtcore.open("test:///default")
    try:
        found: dict[tuple[str, str], Callable[..., Any]] = {}
        for kind in TABLE_KINDS:
            table = conn.tables.get(kind)
            if table is None:
                continue
            real = getattr(table, "target", table)
            for name in dir(real):
                member = getattr(real, name)
                if name.startswith("_") or not callable(member):
                    continue
                if name in ("event_source", "connect_close"):
                    continue
                found[(kind, name)] = member
        return found
    finally:
        conn.close()
        reset_default_host()


def _hints(func: Callable[..., Any]) -> dict[str, Any]:
    names = {n: getattr(virtcore.objects, n) for n in virtcore.objects.__all__}
    names.update(Connection=Connection, Mapping=Mapping, Sequence=Sequence, Any=Any)
    module = inspect.getmodule(func)
    return typing.get_type_hints(func, vars(module) if module else None, names)


def _conforms(value: Any, hint: Any) -> bool:
    """Whether *value* has type *hint* (containers checked one level deep)."""
    if hint is Any:
        return True
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, arg) for arg in get_args(hint))
    if hint is type(None):
        return value is None
    if origin is None:
        if hint is bool:  # libvirt's booleans are C ints
            return isinstance(value, int)
        return isinstance(value, hint)
    if not isinstance(value, origin):
        return False
    args = get_args(hint)
    if origin in (list, Sequence) and args:
        return all(_conforms(item, args[0]) for item in value)
    if origin in (dict, Mapping) and len(args) == 2:
        return all(_conforms(k, args[0]) and _conforms(v, args[1]) for k, v in value.items())
    return True


IDENTITY = {
    "ID", "MACString", "UUID", "UUIDString", "c_pointer", "connect", "domain", "filterName",
    "getConnect", "getDomain", "getName", "key", "name", "network", "portDev", "usageID",
    "usageType",
}  # fmt: skip
"""Answered from the handle, as libvirt answers them from the object."""
ANSWERED_BY_THE_CONNECTION = {
    "domainEventDeregister", "domainEventDeregisterAny", "domainEventRegister",
    "domainEventRegisterAny", "getLibVersion", "getURI", "isAlive", "networkEventDeregisterAny",
    "networkEventRegisterAny", "newStream", "nodeDeviceEventDeregisterAny",
    "nodeDeviceEventRegisterAny", "registerCloseCallback", "secretEventDeregisterAny",
    "secretEventRegisterAny", "storagePoolEventDeregisterAny", "storagePoolEventRegisterAny",
    "unregisterCloseCallback", "virConnGetLastError", "virConnResetLastError",
}  # fmt: skip
"""virConnect methods the native connection answers itself (events, URI, streams, ...)."""


def test_only_identity_and_connection_calls_bypass_the_driver(recorded: list[Call]) -> None:
    called = {call.caller for call in recorded}
    silent = {caller for caller, _ in _targets()} - called
    unexplained = {
        caller
        for caller in silent
        if caller.rsplit(".", 1)[1] not in IDENTITY
        and not (caller.startswith("virConnect.") and caller[11:] in ANSWERED_BY_THE_CONNECTION)
    }
    assert sorted(unexplained) == []


def test_every_test_driver_method_is_reached(
    recorded: list[Call], driver_methods: dict[tuple[str, str], Callable[..., Any]]
) -> None:
    reached = {(call.kind, call.method) for call in recorded}
    missing = set(driver_methods) - reached - set(NOT_REACHED_THROUGH_THE_SEAM)
    assert sorted(missing) == []


def test_listed_exceptions_are_test_driver_methods(
    driver_methods: dict[tuple[str, str], Callable[..., Any]],
) -> None:
    assert set(NOT_REACHED_THROUGH_THE_SEAM) <= set(driver_methods)


def test_arguments_bind_to_the_driver_signatures(
    recorded: list[Call], driver_methods: dict[tuple[str, str], Callable[..., Any]]
) -> None:
    wrong = {}
    for call in recorded:
        func = driver_methods.get((call.kind, call.method))
        if func is None:
            continue
        try:
            inspect.signature(func).bind(None, *call.args)
        except TypeError as exc:
            wrong[call.caller] = f"{call.method}{call.args!r}: {exc}"
    assert wrong == {}


def test_arguments_have_the_annotated_types(
    recorded: list[Call], driver_methods: dict[tuple[str, str], Callable[..., Any]]
) -> None:
    wrong = {}
    for call in recorded:
        func = driver_methods.get((call.kind, call.method))
        if func is None:
            continue
        hints = _hints(func)
        params = list(inspect.signature(func).parameters)[1:]  # after the connection
        for name, value in zip(params, call.args, strict=False):
            if name in hints and not _conforms(value, hints[name]):
                wrong[f"{call.caller} -> {call.method}({name})"] = repr(value)
    assert wrong == {}


def test_method_names_follow_the_table_convention(recorded: list[Call]) -> None:
    bad = {
        call.method
        for call in recorded
        if not _SNAKE.fullmatch(call.method) or any(s in call.method for s in _MISSPELLED)
    }
    assert sorted(bad) == []


def test_table_kinds_are_connection_slots(recorded: list[Call]) -> None:
    assert {call.kind for call in recorded} <= set(TABLE_KINDS)


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("virDomain.setMemory", "domain_set_memory"),
        ("virDomain.setMaxMemory", "domain_set_max_memory"),
        ("virDomain.attachDevice", "domain_attach_device"),
        ("virDomain.pinVcpu", "domain_pin_vcpu"),
        ("virConnect.nwfilterDefineXML", "nwfilter_define_xml"),
        ("virDomain.destroy", "domain_destroy_flags"),
    ],
)
def test_calls_from_before_flags_use_the_plain_entry_when_the_driver_has_one(
    recorded: list[Call], caller: str, expected: str
) -> None:
    assert [c.method for c in recorded if c.caller == caller][-1] == expected
