"""Testing management code against virtcore's test hypervisor.

* :mod:`virtcore.testing.pytest_plugin` - the pytest plugin, registered under
  the ``pytest11`` entry point ``virtcore``: isolated test hosts, connections,
  a domain factory, fault injection, deterministic mode and the
  ``virtcore_config`` marker. See ``docs/testing-with-virtcore.md``.
* :class:`DomainFactory` and :func:`domain_xml` - minimal test domains.
* :class:`EventRecorder` - collect and await domain events.
* :func:`create_host` - a private in-memory host (re-exported from
  :mod:`virtcore.drivers.test.private`); :func:`injector` and
  :func:`determinism` - a host's fault injector and deterministic-mode
  controls.

Names are imported on first use, so importing this package (which pytest
does for the plugin in every session) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from virtcore.drivers.test.determinism import Determinism, VirtualClock, determinism
    from virtcore.drivers.test.faults import Fault, FaultInjector, Hold, injector
    from virtcore.drivers.test.private import PrivateHost, create_host
    from virtcore.testing.factory import DomainFactory, domain_xml
    from virtcore.testing.recorder import EventRecorder, RecordedEvent

__all__ = [
    "Determinism",
    "DomainFactory",
    "EventRecorder",
    "Fault",
    "FaultInjector",
    "Hold",
    "PrivateHost",
    "RecordedEvent",
    "VirtualClock",
    "create_host",
    "determinism",
    "domain_xml",
    "injector",
]

_HOMES = {
    "Determinism": "virtcore.drivers.test.determinism",
    "VirtualClock": "virtcore.drivers.test.determinism",
    "determinism": "virtcore.drivers.test.determinism",
    "Fault": "virtcore.drivers.test.faults",
    "FaultInjector": "virtcore.drivers.test.faults",
    "Hold": "virtcore.drivers.test.faults",
    "injector": "virtcore.drivers.test.faults",
    "PrivateHost": "virtcore.drivers.test.private",
    "create_host": "virtcore.drivers.test.private",
    "DomainFactory": "virtcore.testing.factory",
    "domain_xml": "virtcore.testing.factory",
    "EventRecorder": "virtcore.testing.recorder",
    "RecordedEvent": "virtcore.testing.recorder",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
