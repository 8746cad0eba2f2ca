"""Save and restore: a running guest's memory and device state to a file and back.

The image format is libvirt's (``src/qemu/qemu_saveimage.c``), so images are
interchangeable with libvirt's qemu driver as far as QEMU's migration stream
allows: a 96-byte header (``LibvirtQemudSave``, version 2, data length,
was-running flag, compression 0 = raw, cookie offset, 15 unused words, native
byte order), the domain XML (NUL-terminated, zero-padded so the migration
stream starts page-aligned), then QEMU's migration stream. While the stream
is written the magic says ``LibvirtQemudPart``; it becomes
``LibvirtQemudSave`` only once QEMU reported completion, so a half-written
image is recognised ("save image is incomplete").

Saving pauses the CPUs (state ``paused/save``), hands QEMU the file with
``getfd`` and runs ``migrate`` to ``fd:``; success stops the guest
(``STOPPED/SAVED``, state ``shutoff/saved``); failure resumes it
(``RESUMED``, reason ``save canceled``). Restoring starts QEMU with
``-incoming defer`` and feeds it the stream with ``migrate-incoming``:
``STARTED/RESTORED``, then either running (reason ``restored``) or
``SUSPENDED/RESTORED`` (also when the caller asked for a paused guest; the
state reason stays ``migration``, as libvirt leaves it).
A restore's resume is reported as ``RESUMED/FROM_SNAPSHOT``, libvirt's detail.
Managed save is the same with the image in ``<data_dir>/save/<name>.save``;
starting the domain restores and removes it unless ``FORCE_BOOT`` is given.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import time
from pathlib import Path
from typing import TYPE_CHECKING

from virtcore.driver import HypervisorDriver
from virtcore.enums.domain import (
    DomainPausedReason,
    DomainRunningReason,
    DomainShutoffReason,
    DomainState,
)
from virtcore.enums.domain_events import (
    DomainEventStartedDetailType,
    DomainEventStoppedDetailType,
    DomainEventSuspendedDetailType,
    DomainEventType,
)
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    InvalidArgError,
    OperationFailedError,
    OperationInvalidError,
    OperationTimeoutError,
    SystemCallError,
    VirtError,
)
from virtcore.objects import Domain
from virtcore.xml.domain import Domain as DomainDef
from virtcore_qemu.domobj import DomainObj
from virtcore_qemu.lifecycle import check_flags

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore_qemu.state import QemuDriver

__all__ = ["SaveRestoreCalls", "read_image", "restore_image", "wait_migration"]

log = logging.getLogger(__name__)

_QEMU = ErrorDomain.QEMU
SAVE_MAGIC = b"LibvirtQemudSave"
PARTIAL_MAGIC = b"LibvirtQemudPart"
SAVE_VERSION = 2
_HEADER = struct.Struct("=16s5I15I")
_PAGE = 4096
_MAX_XML = 10 * 1024 * 1024
#: Seconds a save or restore may take before it is abandoned.
MIGRATION_TIMEOUT = 600.0

_SAVE_BYPASS_CACHE = 0x1
_SAVE_RUNNING = 0x2
_SAVE_PAUSED = 0x4
_SAVE_RESET_NVRAM = 0x8
_START_PAUSED = 0x1
_START_FORCE_BOOT = 0x8


def check_save_flags(flags: int) -> None:
    """libvirt's API-level check, made before any driver code runs."""
    if flags & _SAVE_RUNNING and flags & _SAVE_PAUSED:
        text = "Flags 'VIR_DOMAIN_SAVE_RUNNING' and 'VIR_DOMAIN_SAVE_PAUSED' are mutually exclusive"
        raise InvalidArgError(text, message=text, domain=ErrorDomain.DOMAIN)


class SaveImage:
    """What a save image's header and XML say."""

    def __init__(self, xml: str, was_running: bool, data_offset: int) -> None:
        self.xml = xml
        self.was_running = was_running
        self.data_offset = data_offset


def _header(magic: bytes, data_len: int, was_running: bool) -> bytes:
    return _HEADER.pack(magic, SAVE_VERSION, data_len, int(was_running), 0, 0, *([0] * 15))


def _xml_block(xml: str) -> bytes:
    data = xml.encode("utf-8") + b"\0"
    total = _HEADER.size + len(data)
    return data + b"\0" * ((-total) % _PAGE)


def read_image(path: str) -> SaveImage:
    """Read and check the header and XML of the save image at *path*."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(_HEADER.size)
            if len(raw) != _HEADER.size:
                raise OperationFailedError("failed to read qemu header", domain=_QEMU)
            magic, version, data_len, was_running, compressed, _cookie, *_ = _HEADER.unpack(raw)
            if magic == PARTIAL_MAGIC:
                raise OperationFailedError("save image is incomplete", domain=_QEMU)
            if magic != SAVE_MAGIC:
                raise OperationFailedError("image magic is incorrect", domain=_QEMU)
            if version > SAVE_VERSION:
                raise OperationFailedError(
                    f"image version is not supported ({version} > {SAVE_VERSION})", domain=_QEMU
                )
            if data_len <= 0 or data_len > _MAX_XML:
                raise OperationFailedError("invalid header data length", domain=_QEMU)
            if compressed != 0:
                raise OperationFailedError(
                    f"Invalid compressed save format {compressed}", domain=_QEMU
                )
            data = fh.read(data_len)
            if len(data) != data_len:
                raise OperationFailedError("failed to read domain XML", domain=_QEMU)
    except OSError as exc:
        raise SystemCallError.from_os_error(
            f"Failed to open domain image file '{path}'", exc, domain=_QEMU
        ) from exc
    xml = data.split(b"\0", 1)[0].decode("utf-8", "replace")
    return SaveImage(xml, bool(was_running), _HEADER.size + data_len)


def wait_migration(obj: DomainObj, *, incoming: bool) -> None:
    """Poll ``query-migrate`` until the save (or restore) stream completed."""
    assert obj.monitor is not None
    deadline = time.monotonic() + MIGRATION_TIMEOUT
    delay = 0.002
    what = "restore" if incoming else "save"
    while True:
        info = obj.monitor.execute("query-migrate") or {}
        status = str(info.get("status", ""))
        if status == "completed":
            return
        if status in ("failed", "cancelled"):
            detail = info.get("error-desc", status)
            raise OperationFailedError(f"job '{what}' failed: {detail}", domain=_QEMU)
        if incoming and status == "" and _incoming_done(obj):
            return
        if time.monotonic() >= deadline:
            raise OperationTimeoutError(f"waiting for the {what} of '{obj.name}'", domain=_QEMU)
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def _incoming_done(obj: DomainObj) -> bool:
    assert obj.monitor is not None
    status = obj.monitor.execute("query-status") or {}
    return str(status.get("status", "")) not in ("inmigrate", "")


def save_to_file(driver: QemuDriver, obj: DomainObj, path: str, xml: str, flags: int) -> None:
    """``qemuDomainSaveInternal``: write the image, stop the guest. Caller holds the job."""
    from virtcore_qemu.process import pause_cpus, stop

    obj.check_active()
    monitor = obj.monitor
    if monitor is None:
        raise OperationFailedError("domain is no longer running", domain=_QEMU)
    was_running = obj.state == DomainState.RUNNING
    if flags & _SAVE_RUNNING:
        was_running = True
    elif flags & _SAVE_PAUSED:
        was_running = False
    if obj.state == DomainState.RUNNING:
        pause_cpus(driver, obj, DomainPausedReason.SAVE)
    block = _xml_block(xml)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        _resume_after_failure(driver, obj)
        raise SystemCallError.from_os_error(
            f"Failed to create file '{path}'", exc, domain=_QEMU
        ) from exc
    try:
        os.write(fd, _header(PARTIAL_MAGIC, len(block), was_running) + block)
        monitor.execute("migrate-set-parameters", {"max-bandwidth": 1 << 40, "downtime-limit": 300})
        monitor.execute("getfd", {"fdname": "savefile"}, fds=(fd,))
        monitor.execute("migrate", {"uri": "fd:savefile"})
        wait_migration(obj, incoming=False)
        os.pwrite(fd, SAVE_MAGIC, 0)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(path)
        _resume_after_failure(driver, obj)
        raise
    os.close(fd)
    stop(driver, obj, DomainShutoffReason.SAVED)
    driver.emit_lifecycle(obj, DomainEventType.STOPPED, DomainEventStoppedDetailType.SAVED)


def _resume_after_failure(driver: QemuDriver, obj: DomainObj) -> None:
    from virtcore_qemu.process import run_cpus as resume

    if obj.is_active() and obj.state == DomainState.PAUSED and obj.monitor is not None:
        try:
            resume(driver, obj, DomainRunningReason.SAVE_CANCELED)
        except VirtError as exc:
            log.error("cannot resume '%s' after a failed save: %s", obj.name, exc)


def restore_image(
    driver: QemuDriver,
    obj: DomainObj,
    path: str,
    image: SaveImage,
    *,
    live: DomainDef,
    flags: int,
) -> None:
    """``qemuSaveImageStartVM``: start QEMU on the image. Caller holds the job."""
    from virtcore_qemu.process import run_cpus, start

    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise SystemCallError.from_os_error(
            f"Failed to open domain image file '{path}'", exc, domain=_QEMU
        ) from exc
    try:
        os.lseek(fd, image.data_offset, os.SEEK_SET)
        start(driver, obj, paused=True, live=live, incoming_fd=fd)
    finally:
        os.close(fd)
    driver.emit_lifecycle(obj, DomainEventType.STARTED, DomainEventStartedDetailType.RESTORED)
    running = image.was_running
    if flags & _SAVE_RUNNING:
        running = True
    elif flags & _SAVE_PAUSED:
        running = False
    if running:
        obj.set_state(DomainState.PAUSED, DomainPausedReason.STARTING_UP)
        run_cpus(driver, obj, DomainRunningReason.RESTORED)
    else:
        # The incoming migration's pause stays the reason, as in libvirt.
        obj.set_state(DomainState.PAUSED, DomainPausedReason.MIGRATION)
        driver.emit_lifecycle(
            obj, DomainEventType.SUSPENDED, DomainEventSuspendedDetailType.RESTORED
        )
    driver.save_status(obj)


class SaveRestoreCalls(HypervisorDriver):
    """Save, restore and managed-save methods of the QEMU hypervisor table."""

    driver: QemuDriver

    def _obj(self, dom: Domain) -> DomainObj:
        raise NotImplementedError  # provided by the table class

    def domain_save_flags(
        self, conn: Connection, dom: Domain, path: str, dxml: str | None, flags: int
    ) -> None:
        """Save the guest to *path* and stop it; STOPPED/SAVED."""
        check_save_flags(flags)
        check_flags(flags, _SAVE_BYPASS_CACHE | _SAVE_RUNNING | _SAVE_PAUSED, "qemuDomainSaveFlags")
        obj = self._obj(dom)
        with obj.job():
            obj.check_active()
            xml = self._image_xml(obj, dxml)
            save_to_file(self.driver, obj, path, xml, flags)
            dom.set_id(-1)

    def domain_managed_save(self, conn: Connection, dom: Domain, flags: int) -> None:
        """Save to the managed image; the next start restores it."""
        check_save_flags(flags)
        check_flags(
            flags, _SAVE_BYPASS_CACHE | _SAVE_RUNNING | _SAVE_PAUSED, "qemuDomainManagedSave"
        )
        obj = self._obj(dom)
        with obj.job():
            obj.check_active()
            if not obj.persistent:
                raise OperationInvalidError(
                    "cannot do managed save for transient domain", domain=_QEMU
                )
            path = self.driver.files(obj.name).managed_save
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            save_to_file(self.driver, obj, str(path), self._image_xml(obj, None), flags)
            obj.has_managed_save = True
            dom.set_id(-1)

    def domain_has_managed_save_image(self, conn: Connection, dom: Domain, flags: int) -> int:
        """1 when a managed save image exists."""
        check_flags(flags, 0, "qemuDomainHasManagedSaveImage")
        return int(self._obj(dom).has_managed_save)

    def domain_managed_save_remove(self, conn: Connection, dom: Domain, flags: int) -> None:
        """Delete the managed save image."""
        check_flags(flags, 0, "qemuDomainManagedSaveRemove")
        obj = self._obj(dom)
        with obj.job():
            path = self.driver.files(obj.name).managed_save
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise SystemCallError.from_os_error(
                    f"Failed to remove managed save file '{path}'", exc, domain=_QEMU
                ) from exc
            obj.has_managed_save = False

    def domain_restore_flags(
        self, conn: Connection, path: str, dxml: str | None, flags: int
    ) -> None:
        """Start the guest saved in *path*; STARTED/RESTORED."""
        check_save_flags(flags)
        check_flags(
            flags,
            _SAVE_BYPASS_CACHE | _SAVE_RUNNING | _SAVE_PAUSED | _SAVE_RESET_NVRAM,
            "qemuDomainRestoreFlags",
        )
        image = read_image(path)
        definition = DomainDef.parse(dxml if dxml else image.xml)
        drv = self.driver
        with drv.domains.lock:
            existing = drv.domains.check_new(str(definition.name), str(definition.uuid), live=True)
            obj = existing
            if obj is None:
                obj = DomainObj(config=None, persistent=False, live=definition)
                drv.domains.add(obj)
        with obj.job():
            if obj.is_active():
                raise OperationInvalidError(
                    f"domain '{definition.name}' is already active", domain=_QEMU
                )
            try:
                restore_image(drv, obj, path, image, live=definition, flags=flags)
            except BaseException:
                if not obj.persistent and not obj.is_active():
                    drv.domains.remove(obj)
                raise

    def domain_save_image_get_xml_desc(self, conn: Connection, path: str, flags: int) -> str:
        """The domain definition stored in a save image."""
        check_flags(flags, 0x1, "qemuDomainSaveImageGetXMLDesc")
        return DomainDef.parse(read_image(path).xml).format(flags)

    def domain_save_image_define_xml(
        self, conn: Connection, path: str, dxml: str, flags: int
    ) -> None:
        """Replace the definition stored in a save image (and its running/paused flag)."""
        check_save_flags(flags)
        check_flags(flags, _SAVE_RUNNING | _SAVE_PAUSED, "qemuDomainSaveImageDefineXML")
        image = read_image(path)
        old = DomainDef.parse(image.xml)
        new = DomainDef.parse(dxml)
        if (new.name, str(new.uuid).lower()) != (old.name, str(old.uuid).lower()):
            raise OperationInvalidError(
                "target domain name/uuid doesn't match source", domain=_QEMU
            )
        running = image.was_running
        if flags & _SAVE_RUNNING:
            running = True
        elif flags & _SAVE_PAUSED:
            running = False
        block = _xml_block(new.format(0x2 | 0x8))
        if len(block) > image.data_offset - _SAVE_HEADER_SIZE:
            raise OperationFailedError("new xml too large to fit in file", domain=_QEMU)
        block += b"\0" * (image.data_offset - _SAVE_HEADER_SIZE - len(block))
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.pwrite(fd, _header(SAVE_MAGIC, len(block), running) + block, 0)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise SystemCallError.from_os_error(
                f"failed to write header to domain save file '{path}'", exc, domain=_QEMU
            ) from exc

    def _image_xml(self, obj: DomainObj, dxml: str | None) -> str:
        if dxml:
            new = DomainDef.parse(dxml)
            if (new.name, str(new.uuid).lower()) != (obj.name, obj.uuid):
                raise OperationInvalidError(
                    "target domain name/uuid doesn't match source", domain=_QEMU
                )
            return new.format(0x2 | 0x8)
        return obj.definition.format(0x2 | 0x8)


_SAVE_HEADER_SIZE = _HEADER.size


def managed_restore(driver: QemuDriver, obj: DomainObj, flags: int) -> bool:
    """Start *obj* from its managed save image, if it has one (caller holds the job).

    Returns False when there is nothing to restore (or ``FORCE_BOOT`` discarded it).
    """
    path: Path = driver.files(obj.name).managed_save
    if not obj.has_managed_save:
        return False
    if flags & _START_FORCE_BOOT:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        obj.has_managed_save = False
        return False
    image = read_image(str(path))
    live = DomainDef.parse(image.xml)
    restore_image(
        driver, obj, str(path), image, live=live, flags=_SAVE_PAUSED if flags & _START_PAUSED else 0
    )
    try:
        path.unlink()
    except OSError as exc:
        log.warning("cannot remove managed save image '%s': %s", path, exc)
    obj.has_managed_save = False
    return True
