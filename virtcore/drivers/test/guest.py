"""Guest-facing calls of the test driver: agent queries, keys, time, screenshots, power.

What libvirt 9.0's test driver answers, with its fixed data: the guest's
host name is ``<domain name>host``; each interface reports one address (for
a NIC on a virtual network, the network's first DHCP address plus an offset
derived from the domain id and the NIC's position, otherwise
``192.168.0.N/24``); the first disk carries ``/`` and ``/boot`` ext4 file
systems that can be frozen and thawed; the guest clock starts at
627319920 s and the control state is derived from it; key codes are checked
against each code set's key map; a screenshot is a 1120x832 PNG image;
"guest memory" read with ``virDomainMemoryPeek`` counts up from the start
address; signals (to pid 1 only) and passwords are accepted and ignored.

Power management (``virDomainPMSuspendForDuration``/``virDomainPMWakeup``)
is absent from libvirt's test driver; virtcore follows the QEMU driver with
a cooperative guest: suspending to memory (or hybrid) moves a running domain
to ``PMSUSPENDED`` with ``PMSUSPEND`` and ``PMSUSPENDED``/``MEMORY`` events,
suspending to disk emits ``PMSUSPEND_DISK`` and ``PMSUSPENDED``/``DISK`` and
then the guest powers off (``STOPPED``/``SHUTDOWN``), and waking up returns
to ``RUNNING``/``WAKEUP`` with ``PMWAKEUP`` and ``STARTED``/``WAKEUP`` events.
"""

from __future__ import annotations

import errno
import functools
import ipaddress
import logging
import struct
import zlib
from typing import TYPE_CHECKING

from lxml import etree

from virtcore.drivers.test.domaincommon import (
    AFFECT_CONFIG,
    AFFECT_LIVE,
    DomainTableBase,
    api_error,
    check_flags,
)
from virtcore.drivers.test.xmlutil import child, children, parse_xml
from virtcore.enums.domain import DomainRunningReason, DomainShutoffReason, DomainState
from virtcore.enums.domain_events import (
    DomainEventID,
    DomainEventPMSuspendedDetailType,
    DomainEventStartedDetailType,
    DomainEventStoppedDetailType,
    DomainEventType,
)
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    ArgumentUnsupportedError,
    InternalError,
    InvalidArgError,
    NoNetworkError,
    OperationInvalidError,
    SystemCallError,
)
from virtcore.objects import StreamBackend

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore.drivers.test.state import DomainObj
    from virtcore.objects import Domain, Stream

__all__ = ["GuestCalls", "screenshot_png"]

logger = logging.getLogger(__name__)

_TEST = ErrorDomain.TEST
_DOM = ErrorDomain.DOMAIN
_MOUNTS = ("/", "/boot")
_MAX_KEYS = 16
_CODESETS = ("linux", "xt", "atset1", "atset2", "atset3", "os_x", "xt_kbd", "usb", "win32",
             "qnum")  # fmt: skip
# The key codes each code set's key map knows (hexadecimal ranges), as libvirt 9.0 accepts them.
_KEYMAPS = (
    "0-109 110-117 120-12b 12f-13e 140-147 14a-151 160-1b7 1c0-1c3 1d0-1e4 1f1-1fa 200-20c",
    "0-5f 63-6d 6f-79 7b 7d-7e e001-e00c e00e-e010 e012-e029 e02b-e036 e038-e05f e063-e06d "
    "e06f-e079 e07b e07d",
    "0-5f 63-6d 6f-79 7b 7d-7e e001-e00c e00e-e010 e012-e029 e02b-e036 e038-e05f e063-e06d "
    "e06f-e079 e07b e07d",
    "0-1 3-7 9-f 11-16 1a-1e 21-27 29-2f 31-37 3a-3f 41-46 49-4e 51-52 54-55 58-5b 5d 5f 61-64 "
    "66-67 69-6d 70-7f 83 e010-e012 e014-e015 e018 e01f-e021 e023 e027-e028 e02b e02f-e030 e032 "
    "e034 e037-e038 e03a-e03b e03f-e040 e048 e04a e04d e050 e05a e05e e069 e06b-e06c e06f-e072 "
    "e074-e075 e077 e079-e07a e07d",
    "0 7-3f 41-47 49-4f 52 54-67 69-76 79-7a 7c-83 85-87 8b-8e 91 93-98 9a-a3",
    "0-33 35-41 43 45 47-4c 4e-6b 6d-6f 71-7e ff",
    "0-5f 63-6d 6f-79 7b 7d-7e 101-10c 10e-110 112-129 12b-136 138-15f 163-16d 16f-179 17b 17d",
    "0 4-30 32-77 79-7d 85 87-8c 90-94 b6-b7 e0-fb",
    "0-2 4-6 8-9 d 11-16 1a-1d 20-2a 2c-39 41-5d 5f-87 90-91 a0-a1 a3 a5-b4 ba-c0 db-de e2 f2 "
    "fa-fb",
    "0-5f 63-6d 6f-79 7b 7d-7e 81-8c 8e-90 92-a9 ab-b6 b8-df e3-ed ef-f9 fb fd",
)
_SUSPEND_MEM, _SUSPEND_DISK, _SUSPEND_HYBRID = 0, 1, 2
_SIGNALS = 65  # VIR_DOMAIN_PROCESS_SIGNAL_LAST
_SCREEN_SIZE = (1120, 832)


@functools.cache
def _keymap(codeset: int) -> tuple[tuple[int, int], ...]:
    ranges = []
    for item in _KEYMAPS[codeset].split():
        low, _, high = item.partition("-")
        ranges.append((int(low, 16), int(high or low, 16)))
    return tuple(ranges)


@functools.cache
def screenshot_png() -> bytes:
    """The test screen: a 1120x832 8-bit greyscale PNG (a framed gradient)."""
    width, height = _SCREEN_SIZE
    gradient = bytes(x * 192 // width for x in range(width))
    frame = b"\xff" * 8
    rows = []
    for y in range(height):
        if y < 8 or y >= height - 8:
            line = b"\xff" * width
        else:
            shift = bytes((value + y * 63 // height) & 0xFF for value in range(256))
            line = frame + gradient[8:-8].translate(shift) + frame
        rows.append(b"\0" + line)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


class _ImageStream(StreamBackend):
    """A read-only stream serving one in-memory image, like libvirt's fd stream on its file.

    libvirt's test driver hands out the image through a stream on a file
    opened read-only: writing fails as ``write(2)`` on that descriptor does
    (EBADF), and once the stream is finished or aborted its descriptor is
    gone, so reading or writing fails with "stream is not open" while
    finishing or aborting again succeeds.
    """

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0
        self._open = True

    def _check_open(self) -> None:
        if not self._open:
            raise InternalError("stream is not open", domain=ErrorDomain.STREAMS)

    def recv(self, nbytes: int) -> bytes:
        self._check_open()
        chunk = self._data[self._pos : self._pos + max(nbytes, 0)]
        self._pos += len(chunk)
        return chunk

    def send(self, data: bytes) -> int:
        self._check_open()
        raise SystemCallError.from_os_error(
            "cannot write to stream", OSError(errno.EBADF, ""), domain=ErrorDomain.STREAMS
        )

    def finish(self) -> None:
        self._open = False

    def abort(self) -> None:
        self._open = False


def _network_address(net_xml: str, offset: int) -> tuple[int, str, int]:
    """(type, address, prefix) a NIC on the network described by *net_xml* reports."""
    root = parse_xml(net_xml, "(network_definition)", domain=ErrorDomain.NETWORK)
    ip = child(root, "ip")
    if ip is None:
        raise InternalError("network has no IP address", domain=_TEST)
    base = ipaddress.ip_address(ip.get("address", "0.0.0.0"))
    prefix_attr = ip.get("prefix")
    if prefix_attr is not None and int(prefix_attr) > 0:
        prefix = int(prefix_attr)
    elif ip.get("netmask"):
        prefix = ipaddress.ip_network(f"0.0.0.0/{ip.get('netmask')}").prefixlen
    elif base.version == 6:
        prefix = 64
    else:
        first = int(base) >> 24
        prefix = 8 if first < 128 else 16 if first < 192 else 24
    dhcp = child(ip, "dhcp")
    ranges = children(dhcp, "range") if dhcp is not None else []
    start = ipaddress.ip_address(ranges[0].get("start", "")) if ranges else base
    if start.version == 6:
        raw = bytearray(start.packed)
        raw[15] = (raw[15] + offset) & 0xFF
        return 1, str(ipaddress.IPv6Address(bytes(raw))), prefix
    return 0, str(ipaddress.IPv4Address((int(start) + offset) & 0xFFFFFFFF)), prefix


class GuestCalls(DomainTableBase):
    """Host name, addresses, file systems, time, keys, NMI, screenshots, messages, power."""

    def domain_get_hostname(self, conn: Connection, dom: Domain, flags: int) -> str:
        """``<name>host``, named after the handle's domain name."""
        check_flags(flags, 0, "testDomainGetHostname")
        with self.state.lock:
            self._active(dom)
        return f"{dom.name}host"

    def domain_interface_addresses(
        self, conn: Connection, dom: Domain, source: int, flags: int
    ) -> list[tuple[str | None, str | None, list[tuple[int, str, int]]]]:
        """(name, MAC, [(type, address, prefix)]) of each interface of a running domain."""
        check_flags(flags, 0, "testDomainInterfaceAddresses")
        if not 0 <= source < 3:
            raise ArgumentUnsupportedError(f"Unknown IP address data source {source}", domain=_TEST)
        with self.state.lock:
            obj = self._active(dom)
            nets = [d for d in obj.def_.devices if d.tag == "interface"]
            out: list[tuple[str | None, str | None, list[tuple[int, str, int]]]] = []
            for index, net in enumerate(nets):
                target = child(net, "target")
                mac = child(net, "mac")
                name = target.get("dev") if target is not None else None
                hwaddr = mac.get("address") if mac is not None else None
                if net.get("type") == "network":
                    source_elem = child(net, "source")
                    net_name = source_elem.get("network", "") if source_elem is not None else ""
                    network = self.state.networks.get(net_name)
                    if network is None:
                        raise NoNetworkError(
                            f"no network with matching name '{net_name}'", domain=_TEST
                        )
                    offset = 20 * (obj.id - 1) + index + 1
                    address = _network_address(network.def_.format(), offset)
                else:
                    address = (0, f"192.168.0.{index + 1}", 24)
                out.append((name, hwaddr, [address]))
            return out

    # -- file systems -------------------------------------------------------------------

    def domain_get_fs_info(
        self, conn: Connection, dom: Domain, flags: int
    ) -> list[tuple[str, str, str, list[str]]]:
        """``/`` and ``/boot`` on the first disk: (mount point, device, type, disk targets)."""
        check_flags(flags, 0, "testDomainGetFSInfo")
        with self.state.lock:
            obj = self._active(dom)
            for disk in obj.def_.devices:
                if disk.tag == "disk" and disk.get("device", "disk") == "disk":
                    target = child(disk, "target")
                    dev = target.get("dev", "") if target is not None else ""
                    return [("/", f"{dev}1", "ext4", [dev]), ("/boot", f"{dev}2", "ext4", [dev])]
            return []

    def _frozen(self, dom: Domain) -> list[bool]:
        return self._runtime(self._active(dom)).frozen

    def domain_fs_freeze(
        self, conn: Connection, dom: Domain, mountpoints: list[str] | None, flags: int
    ) -> int:
        """Freeze ``/`` and/or ``/boot``; returns how many were not frozen yet."""
        return self._freeze(dom, mountpoints, flags, True, "testDomainFSFreeze")

    def domain_fs_thaw(
        self, conn: Connection, dom: Domain, mountpoints: list[str] | None, flags: int
    ) -> int:
        """Thaw ``/`` and/or ``/boot``; returns how many were frozen."""
        return self._freeze(dom, mountpoints, flags, False, "testDomainFSThaw")

    def _freeze(
        self, dom: Domain, mountpoints: list[str] | None, flags: int, freeze: bool, fn: str
    ) -> int:
        check_flags(flags, 0, fn)
        with self.state.lock:
            frozen = self._frozen(dom)
            if not mountpoints:
                changed = sum(1 for f in frozen if f != freeze)
                frozen[:] = [freeze, freeze]
                return changed
            wanted = list(frozen)
            changed = 0
            for mount in mountpoints:
                if mount not in _MOUNTS:
                    raise OperationInvalidError(f"mount point not found: {mount}", domain=_TEST)
                index = _MOUNTS.index(mount)
                if wanted[index] != freeze:
                    wanted[index] = freeze
                    changed += 1
            frozen[:] = wanted
            return changed

    def domain_fs_trim(
        self, conn: Connection, dom: Domain, mountpoint: str | None, minimum: int, flags: int
    ) -> None:
        """Nothing to trim; only ``/`` and ``/boot`` exist."""
        check_flags(flags, 0, "testDomainFSTrim")
        with self.state.lock:
            self._active(dom)
            if mountpoint is not None and mountpoint not in _MOUNTS:
                raise OperationInvalidError(f"mount point not found: {mountpoint}", domain=_TEST)

    # -- time and control state -----------------------------------------------------------

    def domain_get_time(self, conn: Connection, dom: Domain, flags: int) -> tuple[int, int]:
        """The guest clock (seconds, nanoseconds); the domain must be running, not paused."""
        check_flags(flags, 0, "testDomainGetTime")
        with self.state.lock:
            obj = self._obj(dom)
            if obj.state != DomainState.RUNNING:
                raise OperationInvalidError("domain is not running", domain=_TEST)
            runtime = self._runtime(obj)
            return runtime.seconds, runtime.nseconds

    def domain_set_time(
        self, conn: Connection, dom: Domain, seconds: int, nseconds: int, flags: int
    ) -> None:
        """Set the guest clock (``SYNC`` is accepted and changes nothing)."""
        check_flags(flags, 1, "testDomainSetTime")
        with self.state.lock:
            runtime = self._runtime(self._active(dom))
            runtime.seconds, runtime.nseconds = int(seconds), int(nseconds)

    def domain_get_control_info(
        self, conn: Connection, dom: Domain, flags: int
    ) -> tuple[int, int, int]:
        """(state, details, state time) derived from the guest clock, as libvirt's test driver."""
        check_flags(flags, 0, "testDomainGetControlInfo")
        with self.state.lock:
            seconds = self._runtime(self._active(dom)).seconds
        if 0 < seconds < 10000:
            return 1, 0, seconds
        if 10000 <= seconds < 30000:
            return 2, 0, seconds - 10000
        if 30000 <= seconds < 60000:
            return 3, seconds % 4, seconds - 30000
        return 0, 0, 0

    # -- input ---------------------------------------------------------------------------

    def domain_inject_nmi(self, conn: Connection, dom: Domain, flags: int) -> None:
        """Accepted for a running domain; nothing happens."""
        check_flags(flags, 0, "testDomainInjectNMI")
        with self.state.lock:
            self._active(dom)

    def domain_send_key(  # noqa: PLR0917 - libvirt's driver signature
        self,
        conn: Connection,
        dom: Domain,
        codeset: int,
        holdtime: int,
        keycodes: list[int],
        flags: int,
    ) -> None:
        """Check each key code against *codeset*'s key map; nothing else happens."""
        if not keycodes:
            raise api_error("nkeycodes in virDomainSendKey must be greater than zero")
        if len(keycodes) > _MAX_KEYS:
            raise api_error(f"nkeycodes in virDomainSendKey must be <= {_MAX_KEYS}")
        if not 0 <= codeset < len(_CODESETS):
            raise api_error(f"Unsupported codeset '{codeset}'")
        check_flags(flags, 0, "testDomainSendKey")
        with self.state.lock:
            self._active(dom)
        keymap = _keymap(codeset)
        for code in keycodes:
            if not any(low <= code <= high for low, high in keymap):
                raise InternalError(
                    f"invalid keycode {code} of {_CODESETS[codeset]} codeset", domain=_TEST
                )

    # -- screenshots, messages, security ----------------------------------------------------

    def domain_screenshot(
        self, conn: Connection, dom: Domain, stream: Stream, screen: int, flags: int
    ) -> str:
        """Attach the test screen's PNG to *stream*; returns its MIME type."""
        check_flags(flags, 0, "testDomainScreenshot")
        stream.bind(_ImageStream(screenshot_png()))
        return "image/png"

    def domain_get_messages(self, conn: Connection, dom: Domain, flags: int) -> list[str]:
        """Deprecation and tainting messages: virtcore's test domains have none."""
        check_flags(flags, 0x3, "testDomainGetMessages")
        with self.state.lock:
            self._obj(dom)
        return []

    def domain_get_security_label(self, conn: Connection, dom: Domain) -> tuple[str, int]:
        """``libvirt-test`` (enforcing) for a running domain, an empty label otherwise."""
        with self.state.lock:
            obj = self._obj(dom)
            return ("libvirt-test", 1) if obj.is_active() else ("", 0)

    # -- odds and ends ----------------------------------------------------------------------

    def domain_memory_peek(
        self, conn: Connection, dom: Domain, start: int, size: int, flags: int
    ) -> bytes:
        """*size* bytes of "guest memory": byte *n* is ``(start + n) & 0xff``."""
        if flags & 0x1 and flags & 0x2:
            raise api_error(
                "Flags 'VIR_MEMORY_VIRTUAL' and 'VIR_MEMORY_PHYSICAL' are mutually exclusive"
            )
        check_flags(flags, 0x3, "testDomainMemoryPeek")
        if flags not in (0x1, 0x2):
            raise InvalidArgError(
                "flags parameter must be VIR_MEMORY_VIRTUAL or VIR_MEMORY_PHYSICAL", domain=_TEST
            )
        with self.state.lock:
            self._active(dom)
        return bytes((start + n) & 0xFF for n in range(size))

    def domain_send_process_signal(
        self, conn: Connection, dom: Domain, pid: int, signum: int, flags: int
    ) -> None:
        """Accept a signal for the guest's init (pid 1); nothing happens."""
        check_flags(flags, 0, "testDomainSendProcessSignal")
        if pid != 1:
            raise InvalidArgError("only sending a signal to pid 1 is supported", domain=_TEST)
        if not 0 <= signum < _SIGNALS:
            raise InvalidArgError(f"signum value {signum} is out of range", domain=_TEST)
        with self.state.lock:
            self._obj(dom)

    def domain_set_user_password(
        self, conn: Connection, dom: Domain, user: str, password: str, flags: int
    ) -> None:
        """Accept a password for a running guest (``ENCRYPTED`` allowed); nothing changes."""
        check_flags(flags, 0x1, "testDomainSetUserPassword")
        with self.state.lock:
            self._active(dom)

    def domain_get_launch_security_info(
        self, conn: Connection, dom: Domain, flags: int
    ) -> dict[str, object]:
        """No launch security: no parameters."""
        check_flags(flags, 0, "testDomainGetLaunchSecurityInfo")
        return {}

    def domain_set_memory_stats_period(
        self, conn: Connection, dom: Domain, period: int, flags: int
    ) -> None:
        """Set the memory balloon's statistics period (seconds)."""
        check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "testDomainSetMemoryStatsPeriod")
        with self.state.lock:
            definition, _ = self._one_def(self._obj(dom), flags)
            balloon = next((d for d in definition.devices if d.tag == "memballoon"), None)
            if balloon is None or balloon.get("model") == "none":
                raise InternalError(
                    "No memory balloon device configured, can not set the collection period",
                    domain=_TEST,
                )
            stats = child(balloon, "stats")
            if stats is None:
                stats = etree.Element("stats")
                balloon.insert(0, stats)
            stats.attrib.clear()
            stats.set("period", str(period))

    # -- power management (QEMU driver semantics) ------------------------------------------

    def domain_pm_suspend_for_duration(
        self, conn: Connection, dom: Domain, target: int, duration: int, flags: int
    ) -> None:
        """Suspend a running guest to memory, disk or both (see the module notes)."""
        check_flags(flags, 0, "testDomainPMSuspendForDuration")
        if duration:
            raise InvalidArgError("Duration not supported. Use 0 for now", domain=_TEST)
        if target not in (_SUSPEND_MEM, _SUSPEND_DISK, _SUSPEND_HYBRID):
            raise InvalidArgError(f"Unknown suspend target: {target}", domain=_TEST)
        with self.state.lock:
            obj = self._active(dom)
            if obj.state != DomainState.RUNNING:
                raise OperationInvalidError("domain is not running", domain=_TEST)
            if target == _SUSPEND_DISK:
                self._emit(obj, DomainEventID.PMSUSPEND_DISK, 0)
                self.state.emit_domain(
                    obj, DomainEventType.PMSUSPENDED, DomainEventPMSuspendedDetailType.DISK
                )
                self._power_off(dom, obj)
                return
            obj.set_state(DomainState.PMSUSPENDED, 0)
            self._emit(obj, DomainEventID.PMSUSPEND, 0)
            self.state.emit_domain(
                obj, DomainEventType.PMSUSPENDED, DomainEventPMSuspendedDetailType.MEMORY
            )

    def _power_off(self, dom: Domain, obj: DomainObj) -> None:
        self.state.stop_domain(obj, DomainShutoffReason.SHUTDOWN)
        self.state.emit_domain(obj, DomainEventType.STOPPED, DomainEventStoppedDetailType.SHUTDOWN)
        if not obj.persistent:
            self.state.remove_domain(obj)
        dom.set_id(-1)

    def domain_pm_wakeup(self, conn: Connection, dom: Domain, flags: int) -> None:
        """Wake a guest suspended to memory."""
        check_flags(flags, 0, "testDomainPMWakeup")
        with self.state.lock:
            obj = self._active(dom)
            if obj.state != DomainState.PMSUSPENDED:
                raise OperationInvalidError(
                    "Unable to wake up domain which is not suspended", domain=_TEST
                )
            obj.set_state(DomainState.RUNNING, DomainRunningReason.WAKEUP)
            self._emit(obj, DomainEventID.PMWAKEUP, 0)
            self.state.emit_domain(
                obj, DomainEventType.STARTED, DomainEventStartedDetailType.WAKEUP
            )
