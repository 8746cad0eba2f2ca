"""What the test driver's secondary tables share, and where each of them lives.

The network, storage, node device, interface, secret and network filter
tables of a test host are in :mod:`.networks`, :mod:`.storage`,
:mod:`.nodedev`, :mod:`.interface`, :mod:`.secrets` and :mod:`.nwfilters`;
this module re-exports them (importing each on first use, so that the table
modules can build on the helpers here):

* :class:`SecondaryTable` - the base: the host state and its event source;
* :func:`state_filter` - libvirt's paired filter flags (``ACTIVE``/``INACTIVE``...);
* :func:`uuid_or_invalid` - a UUID argument in canonical form, or ``Invalid UUID``;
* :func:`emit` - queue a secondary-object event on the host;
* :class:`HostExtension` - per-host state for objects :class:`~.state.TestState`
  does not carry (secrets, network filters, interface transactions).

Errors follow libvirt 9.0's test driver: "not found" errors carry error
domain ``VIR_FROM_TEST`` (12) and libvirt's detail text (``no network with
matching name 'x'``), while parse errors carry the object's own domain.
Where libvirt's test driver has no implementation (secrets, network filters,
network ports, DHCP leases, volume upload, download, wipe and resize) the
tables follow libvirt's real drivers, as each module documents.
"""

from __future__ import annotations

import importlib
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from virtcore.drivers.test.state import TestState
from virtcore.drivers.test.xmlutil import parse_uuid
from virtcore.errors import InvalidArgError
from virtcore.events import Event, EventKind, EventSource, ObjectIdentity

if TYPE_CHECKING:
    from virtcore.drivers.test.interface import TestInterfaceDriver
    from virtcore.drivers.test.networks import TestNetworkDriver
    from virtcore.drivers.test.nodedev import NODEDEV_CAP_NAMES, TestNodeDeviceDriver
    from virtcore.drivers.test.nwfilters import TestNWFilterDriver
    from virtcore.drivers.test.secrets import TestSecretDriver
    from virtcore.drivers.test.storage import TestStorageDriver

__all__ = [
    "NODEDEV_CAP_NAMES",
    "HostExtension",
    "SecondaryTable",
    "TestInterfaceDriver",
    "TestNWFilterDriver",
    "TestNetworkDriver",
    "TestNodeDeviceDriver",
    "TestSecretDriver",
    "TestStorageDriver",
    "emit",
    "state_filter",
    "uuid_or_invalid",
]

T = TypeVar("T")

_EXPORTS = {
    "TestNetworkDriver": "networks",
    "TestStorageDriver": "storage",
    "TestNodeDeviceDriver": "nodedev",
    "NODEDEV_CAP_NAMES": "nodedev",
    "TestInterfaceDriver": "interface",
    "TestSecretDriver": "secrets",
    "TestNWFilterDriver": "nwfilters",
}


def __getattr__(name: str) -> Any:
    """Load a table module the first time one of its exports is asked for."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"virtcore.drivers.test.{module}"), name)
    globals()[name] = value  # every connection asks again: answer from the module from now on
    return value


class SecondaryTable:
    """Base of the secondary tables: the host they serve and its event source."""

    __test__ = False  # not a pytest test class

    def __init__(self, state: TestState) -> None:
        self.state = state

    def event_source(self) -> EventSource | None:
        """The host's event source (shared with the hypervisor table)."""
        return self.state.events


def state_filter(flags: int, yes_bit: int, no_bit: int, value: bool) -> bool:
    """Whether an object passes one pair of libvirt's listing filter flags.

    Without either bit everything passes; otherwise the object passes when a
    set bit matches its *value*.
    """
    if not flags & (yes_bit | no_bit):
        return True
    return bool((flags & yes_bit and value) or (flags & no_bit and not value))


def uuid_or_invalid(uuid: str, domain: int, api: str) -> str:
    """*uuid* in canonical form, or the error public API *api* gives for a malformed one."""
    canonical = parse_uuid(uuid)
    if canonical is None:
        text = f"uuidstr in {api} must be a valid UUID"
        raise InvalidArgError(text, message=text, domain=domain)
    return canonical


def emit(
    state: TestState,
    kind: EventKind,
    event_id: int,
    name: str,
    uuid: str | None,
    *args: int,
    usage_type: int = 0,
) -> None:
    """Queue an event about a secondary object for every connection to *state*.

    *usage_type* is a secret's usage type, which the handle given to callbacks carries.
    """
    ident = ObjectIdentity(kind, name, uuid, usage_type=usage_type)
    state.events.emit(Event(kind=kind, event_id=event_id, obj=ident, args=tuple(args)))


class HostExtension(Generic[T]):
    """Per-host state kept beside a :class:`~.state.TestState`, made on first use.

    The extension lives as long as its host: a discarded ``test:///default``
    host takes its secrets and filters with it. Access it under the host's
    lock like the host's own objects.
    """

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._data: weakref.WeakKeyDictionary[TestState, T] = weakref.WeakKeyDictionary()

    def of(self, state: TestState) -> T:
        """The extension state of *state*."""
        with self._lock:
            found = self._data.get(state)
            if found is None:
                found = self._factory()
                self._data[state] = found
            return found
