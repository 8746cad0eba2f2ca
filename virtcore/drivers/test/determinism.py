"""Deterministic mode for test hosts: seeded UUID/MAC generation and a virtual clock.

libvirt's test driver gives a domain defined without ``<uuid>`` a random
(RFC 4122 version 4) UUID and a NIC without ``<mac address>`` a random
``52:54:00:xx:xx:xx`` address, and it derives ``cpuTime`` from the wall
clock. Both make test output unpredictable. Each test host has a
:class:`Determinism` (obtain it with :func:`determinism`) that can fix them:

* **Seeded generation** - after :meth:`Determinism.set_seed`, every UUID and
  MAC address the host generates comes from a pseudo-random stream derived
  from the seed: the same sequence of calls yields the same values, in the
  same formats libvirt uses. UUIDs and MACs have separate streams, so adding a
  NIC does not shift the UUIDs of later domains. Generation covers the XML
  documents of define/create calls (domains, networks, pools, secrets,
  nwfilters, network ports) and of device attach/update calls, and - for a
  host loaded from a configuration file with a seed - the objects in the file.
  The documents are completed (missing ``<uuid>`` and ``<mac address>``
  filled in) before the driver parses them; documents that lack nothing are
  passed on untouched.
* **Virtual clock** - after :meth:`Determinism.enable_clock`, time on the
  host stands still until the test calls :meth:`VirtualClock.advance`.
  ``virDomainGetInfo``'s ``cpuTime`` then follows a CPU accounting model
  instead of the wall clock: a domain accrues ``load x vCPUs`` nanoseconds of
  CPU time per virtual nanosecond while it is running (paused, crashed and
  shut off domains accrue nothing), starts from 0 each time it starts, and
  reports 0 while inactive - as real hypervisors report it, where libvirt's
  test driver reports the wall clock for every domain. Code that needs the
  host's notion of "now" (snapshot creation times, job timings, statistics)
  calls :func:`host_time_ns`.

Both are also configurable from a configuration file; see
:mod:`virtcore.drivers.test.extconfig`.
"""

from __future__ import annotations

import logging
import os
import random
import tempfile
import threading
import time
import uuid as _uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lxml import etree

from virtcore.drivers.test.state import DomainObj, TestState
from virtcore.enums.domain import DomainState
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InvalidArgError, NoDomainError

if TYPE_CHECKING:
    from virtcore.objects import Domain

__all__ = [
    "DEFAULT_CLOCK_START",
    "MAC_PREFIX",
    "Determinism",
    "VirtualClock",
    "determinism",
    "find_domain",
    "host_time_ns",
    "load_config_state",
    "resolve_state",
]

logger = logging.getLogger(__name__)

DEFAULT_CLOCK_START = 1_704_067_200.0
"""Where a virtual clock starts unless told otherwise: 2024-01-01T00:00:00Z."""

MAC_PREFIX = "52:54:00"
"""The prefix libvirt gives generated MAC addresses (``VIR_MAC_PREFIX_QEMU``)."""

# Root elements of the documents whose objects carry a UUID libvirt generates.
_UUID_ROOTS = frozenset({"domain", "network", "pool", "secret", "filter", "networkport"})
# Top-level config-file objects that can lack a UUID, in the order the loader reads them.
_CONFIG_OBJECTS = ("domain", "network", "pool")
_NS = 1_000_000_000


def resolve_state(target: object) -> TestState:
    """The test host behind *target*: a connection, a private host or a state itself.

    Raises :class:`~virtcore.errors.InvalidArgError` for anything that is not
    a ``test:///`` connection or host.
    """
    if isinstance(target, TestState):
        return target
    tables = getattr(target, "tables", None)
    holder = getattr(tables, "hypervisor", None) if tables is not None else target
    state = getattr(holder, "state", None)
    if isinstance(state, TestState):
        return state
    raise InvalidArgError(
        f"{type(target).__name__} is not a test driver connection or host",
        domain=ErrorDomain.TEST,
    )


_registry_lock = threading.Lock()
_EXTENSION = "determinism"


def determinism(target: object) -> Determinism:
    """The deterministic-mode controls of the host behind *target* (see :func:`resolve_state`)."""
    state = resolve_state(target)
    found = state.extensions.get(_EXTENSION)
    if isinstance(found, Determinism):
        return found
    with _registry_lock:
        found = state.extensions.get(_EXTENSION)
        if not isinstance(found, Determinism):
            found = Determinism(state)
            state.extensions[_EXTENSION] = found
        return found


def host_time_ns(state: TestState) -> int:
    """The host's current time in nanoseconds: its virtual clock's, else the wall clock's."""
    return state.now_ns()


def _seconds(value: float | datetime) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


class VirtualClock:
    """A host clock that moves only when the test advances it, with CPU accounting.

    Thread-safe. Obtain one from :meth:`Determinism.enable_clock`.
    """

    def __init__(self, state: TestState, start: float | datetime, load: float) -> None:
        self._state = state
        self._lock = threading.Lock()
        self._now_ns = round(_seconds(start) * _NS)
        self._default_load = _check_load(load)
        self._loads: dict[str, float] = {}
        # uuid -> (the domain id the CPU time belongs to, CPU time in ns)
        self._cpu: dict[str, tuple[int, int]] = {}

    def now_ns(self) -> int:
        """The virtual time, nanoseconds since the epoch."""
        with self._lock:
            return self._now_ns

    def time(self) -> float:
        """The virtual time, seconds since the epoch (like :func:`time.time`)."""
        return self.now_ns() / _NS

    def advance(self, seconds: float = 0.0, *, ns: int = 0) -> int:
        """Let *seconds* (plus *ns* nanoseconds) of virtual time pass; returns the new time.

        Every domain running at this moment accrues CPU time for the whole
        interval: between two calls to ``advance`` nothing on the host takes
        time, so a domain's state during the interval is its state now.
        """
        delta = round(seconds * _NS) + int(ns)
        if delta < 0:
            raise InvalidArgError("a virtual clock cannot go backwards", domain=ErrorDomain.TEST)
        with self._state.lock, self._lock:
            for obj in self._state.domains():
                if obj.state != DomainState.RUNNING or not obj.is_active():
                    continue
                last_id, used = self._cpu.get(obj.uuid, (obj.id, 0))
                if last_id != obj.id:
                    used = 0
                load = self._loads.get(obj.uuid, self._default_load)
                used += round(delta * load * obj.def_.vcpus_current)
                self._cpu[obj.uuid] = (obj.id, used)
            self._now_ns += delta
            logger.debug("virtual clock advanced by %d ns", delta)
            return self._now_ns

    @property
    def default_load(self) -> float:
        """The share of each vCPU a running domain uses unless :meth:`set_load` says otherwise."""
        with self._lock:
            return self._default_load

    def set_load(self, dom: Domain | str | None, load: float) -> None:
        """Set the vCPU utilisation (0.0-1.0) of one domain (handle, name or UUID), or the default.

        Passing ``None`` for *dom* sets the default for every domain without
        a load of its own.
        """
        value = _check_load(load)
        if dom is None:
            with self._lock:
                self._default_load = value
            return
        with self._state.lock:
            obj = find_domain(self._state, dom)
            with self._lock:
                self._loads[obj.uuid] = value

    def cpu_time_ns(self, dom: Domain | str) -> int:
        """CPU time the domain (handle, name or UUID) has used since it last started."""
        with self._state.lock:
            obj = find_domain(self._state, dom)
            return self._cpu_of(obj.uuid, obj.id if obj.is_active() else None)

    def _cpu_of(self, uuid: str, dom_id: int | None) -> int:
        if dom_id is None:
            return 0
        with self._lock:
            last_id, used = self._cpu.get(uuid, (dom_id, 0))
            return used if last_id == dom_id else 0

    def __repr__(self) -> str:
        return f"<VirtualClock {self.time():.6f}>"


def _check_load(load: float) -> float:
    value = float(load)
    if not 0.0 <= value <= 1.0:
        raise InvalidArgError(f"CPU load {load} is outside 0.0-1.0", domain=ErrorDomain.TEST)
    return value


def find_domain(state: TestState, dom: Domain | str) -> DomainObj:
    """The state's domain object for a handle, a name or a UUID (caller holds the lock).

    Raises :class:`~virtcore.errors.NoDomainError` when there is none.
    """
    key = dom if isinstance(dom, str) else dom.uuid
    obj = state.find_by_uuid(key.lower()) or state.find_by_name(key)
    if obj is None:
        raise NoDomainError(
            f"no domain with matching name or uuid '{key}'", domain=ErrorDomain.TEST
        )
    return obj


class Determinism:
    """Seeded identifier generation and the virtual clock of one test host.

    Thread-safe. Obtain it with :func:`determinism`; a fresh host has no seed
    and no virtual clock, i.e. behaves exactly like libvirt's test driver.
    """

    def __init__(self, state: TestState) -> None:
        self._state = state
        self._lock = threading.Lock()
        self._seed: int | str | None = None
        self._uuids: random.Random | None = None
        self._macs: random.Random | None = None
        self._clock: VirtualClock | None = None

    # -- seeded generation ---------------------------------------------------

    @property
    def seed(self) -> int | str | None:
        """The generation seed, or ``None`` when identifiers are random (libvirt's behaviour)."""
        return self._seed

    def set_seed(self, seed: int | str | None) -> None:
        """Generate UUIDs and MACs from *seed* from now on (``None``: random again).

        Setting a seed restarts both streams, so setting the same seed twice
        repeats the same identifiers.
        """
        with self._lock:
            self._seed = seed
            if seed is None:
                self._uuids = self._macs = None
            else:
                self._uuids = random.Random(f"{seed}:uuid")
                self._macs = random.Random(f"{seed}:mac")
        logger.debug("identifier seed of test host set to %r", seed)

    def derived_random(self, purpose: str) -> random.Random | None:
        """A generator seeded from the host seed and *purpose*, or ``None`` without a seed."""
        seed = self._seed
        return None if seed is None else random.Random(f"{seed}:{purpose}")

    def new_uuid(self) -> str:
        """The next UUID: version 4, from the seeded stream or the system's randomness."""
        with self._lock:
            if self._uuids is None:
                return str(_uuid.uuid4())
            return str(_uuid.UUID(int=self._uuids.getrandbits(128), version=4))

    def new_mac(self) -> str:
        """The next MAC address, ``52:54:00:xx:xx:xx``, seeded or random."""
        with self._lock:
            source = self._macs if self._macs is not None else random.SystemRandom()
            tail = [source.randrange(256) for _ in range(3)]
        return MAC_PREFIX + "".join(f":{octet:02x}" for octet in tail)

    def complete(self, root: etree._Element, *, device: bool = False) -> bool:
        """Fill in the identifiers missing from a parsed document; whether anything changed.

        *root* is an object document (``<domain>``, ``<network>``, ...) or,
        with *device*, a device document (only ``<interface>`` gets a MAC).
        """
        changed = False
        if device:
            if root.tag == "interface":
                changed = self._complete_nic(root)
            return changed
        if root.tag not in _UUID_ROOTS:
            return False
        if _child(root, "uuid") is None:
            elem = etree.Element("uuid")
            elem.text = self.new_uuid()
            name = _child(root, "name")
            root.insert(root.index(name) + 1 if name is not None else 0, elem)
            changed = True
        if root.tag == "domain":
            devices = _child(root, "devices")
            for nic in devices.iterchildren("interface") if devices is not None else ():
                changed = self._complete_nic(nic) or changed
        return changed

    def _complete_nic(self, nic: etree._Element) -> bool:
        mac = _child(nic, "mac")
        if mac is None:
            nic.insert(0, etree.Element("mac", address=self.new_mac()))
            return True
        if mac.get("address") is None:
            mac.set("address", self.new_mac())
            return True
        return False

    def complete_text(self, text: str, *, device: bool = False) -> str:
        """*text* with its missing identifiers filled in, or *text* itself if it lacks none.

        A document this cannot read (malformed, with a DTD, ...) is returned
        unchanged for the driver to report.
        """
        root = _parse(text.encode("utf-8"))
        if root is None or not self.complete(root, device=device):
            return text
        return etree.tostring(root, encoding="unicode")

    # -- the virtual clock ---------------------------------------------------

    @property
    def clock(self) -> VirtualClock | None:
        """The host's virtual clock, or ``None`` while it follows the wall clock."""
        return self._clock

    def enable_clock(
        self, start: float | datetime | None = None, *, load: float = 1.0
    ) -> VirtualClock:
        """Give the host a virtual clock starting at *start* (default 2024-01-01T00:00:00Z).

        *load* is the default vCPU utilisation of running domains. Replaces
        any previous virtual clock.
        """
        clock = VirtualClock(self._state, DEFAULT_CLOCK_START if start is None else start, load)
        self._clock = clock
        self._state.now_ns = clock.now_ns
        # virDomainGetInfo's CPU time now comes from the clock: through the wrapper.
        from virtcore.drivers.test.faults import injector  # faults imports this module

        injector(self._state).reroute()
        logger.debug("test host switched to a virtual clock at %s", clock.time())
        return clock

    def disable_clock(self) -> None:
        """Return the host to the wall clock."""
        self._clock = None
        self._state.now_ns = time.time_ns

    def domain_info(self, dom: Domain, info: tuple[Any, ...]) -> tuple[Any, ...]:
        """*info* (a ``virDomainGetInfo`` tuple) with the virtual clock's CPU time, if any."""
        clock = self._clock
        if clock is None:
            return info
        with self._state.lock:
            obj = self._state.find_by_uuid(dom.uuid)
            active = obj is not None and obj.is_active()
            cpu = clock._cpu_of(dom.uuid, obj.id if obj is not None and active else None)
        return (*tuple(info)[:4], cpu, *tuple(info)[5:])

    def __repr__(self) -> str:
        return f"<Determinism seed={self._seed!r} clock={self._clock!r}>"


def _child(elem: etree._Element, tag: str) -> etree._Element | None:
    for sub in elem:
        if sub.tag == tag:
            return sub
    return None


_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=False
)


def _parse(data: bytes) -> etree._Element | None:
    if b"<!DOCTYPE" in data:
        return None  # left for the driver's parser to refuse
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        return None


def _parse_file(path: str) -> etree._Element | None:
    try:
        with open(path, "rb") as fh:
            return _parse(fh.read())
    except OSError:
        return None


def load_config_state(path: str, seed: int | str | None) -> TestState:
    """Load the configuration file at *path*, generating missing identifiers from *seed*.

    Without a seed this is :func:`virtcore.drivers.test.config.load_state`.
    With one, objects of the file (inline or ``file=``-referenced) that lack
    a UUID or NIC MAC get them from a :class:`Determinism` seeded with *seed*,
    in the order the loader reads the objects, and the host keeps generating
    from where the file left off.
    """
    from virtcore.drivers.test.config import load_state

    if seed is None:
        return load_state(path)
    scratch = Determinism(TestState(path))
    scratch.set_seed(seed)
    root = _parse_file(path)
    changed = root is not None and _complete_config(root, os.path.dirname(path), scratch)
    state = _load_rewritten(root, path) if changed and root is not None else load_state(path)
    det = determinism(state)
    # Hand the file's position in both streams over to the host.
    det.set_seed(seed)
    det._uuids, det._macs = scratch._uuids, scratch._macs
    return state


def _complete_config(root: etree._Element, base: str, det: Determinism) -> bool:
    changed = False
    for tag in _CONFIG_OBJECTS:
        for elem in [sub for sub in root if sub.tag == tag]:
            ref = elem.get("file")
            target: etree._Element | None = elem
            if ref is not None:
                target = _parse_file(ref if os.path.isabs(ref) else os.path.join(base, ref))
            if target is None or target.tag != tag or not det.complete(target):
                continue
            changed = True
            if target is not elem:
                root.replace(elem, target)
    if changed:
        # The rewritten file is loaded from elsewhere: keep references pointing where they did.
        for elem in root.iter():
            ref = elem.get("file")
            if ref is not None and not os.path.isabs(ref):
                elem.set("file", os.path.join(base, ref))
    return changed


def _load_rewritten(root: etree._Element, path: str) -> TestState:
    from virtcore.drivers.test.config import load_state

    fd, scratch_path = tempfile.mkstemp(prefix="virtcore-test-", suffix=".xml")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(etree.tostring(root, encoding="utf-8"))
        state = load_state(scratch_path)
    finally:
        os.unlink(scratch_path)
    state.source_path = path
    return state
