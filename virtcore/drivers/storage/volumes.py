"""Volumes of directory pools: what is on disk, and how to make, copy, resize and remove it.

This is libvirt's local file backend (``storage_backend_fs.c`` with
``storage_util.c``) for the host storage driver:

* :func:`probe_volume` describes the file at a path as libvirt's pool refresh
  does: ``file`` volumes for regular files (format, virtual size and backing
  store from ``qemu-img info``; an image qemu-img cannot read is listed as
  ``raw``), ``dir`` volumes for directories; sockets,
  FIFOs, character devices and dangling symbolic links are not volumes
  (``None``);
* :func:`build_volume` creates a new volume: ``raw`` files directly (size by
  ``ftruncate``, allocation by ``fallocate``), directories with ``mkdir``,
  every other format with ``qemu-img create`` using libvirt's options
  (``compat=0.10`` unless given, ``preallocation=metadata|falloc`` for the
  ``PREALLOC_METADATA`` flag, ``backing_fmt`` with a backing store);
* :func:`build_volume_from` copies a volume (raw to raw by copying data,
  skipping zero blocks when the copy may be sparse, anything else with
  ``qemu-img convert``);
* :func:`resize_volume` and :func:`delete_volume`.

Every function works on paths only and takes no lock: the driver calls them
with the pool's volume marked as being built, outside its own lock.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import stat
from dataclasses import dataclass, field, replace

from virtcore.drivers.storage.common import open_fd, os_call, set_mode, set_owner
from virtcore.drivers.storage.qemuimg import ImageInfo, image_info, run_qemu_img
from virtcore.enums.errors import ErrorDomain
from virtcore.enums.storage import StorageVolCreateFlags as CreateFlags
from virtcore.enums.storage import StorageVolType
from virtcore.errors import (
    ConfigUnsupportedError,
    InternalError,
    NoSupportError,
    OperationInvalidError,
    OperationUnsupportedError,
    SystemCallError,
)
from virtcore.xml.storage_pool import VOLUME_FILE_FORMATS, PermissionsDef
from virtcore.xml.storage_vol import StorageVolumeDef, VolumeTargetDef

__all__ = [
    "Volume",
    "build_volume",
    "build_volume_from",
    "delete_volume",
    "probe_volume",
    "resize_volume",
]

logger = logging.getLogger(__name__)

_STORAGE = ErrorDomain.STORAGE
_DEFAULT_VOL_MODE = 0o600
_DEFAULT_DIR_MODE = 0o600  # libvirt gives directory volumes the file default
_COPY_CHUNK = 1024 * 1024
_FICLONE = 0x40049409  # _IOW(0x94, 9, int)
_VOL_TYPES = {"file": StorageVolType.FILE, "block": StorageVolType.BLOCK, "dir": StorageVolType.DIR}


@dataclass
class Volume:
    """One volume of a running pool, as the driver keeps it (``virStorageVolDef``)."""

    name: str
    path: str
    type: str = "file"
    format: str = "raw"
    capacity: int = 0
    allocation: int = 0
    physical: int = 0
    target: VolumeTargetDef = field(default_factory=VolumeTargetDef)
    backing: VolumeTargetDef | None = None
    building: bool = False
    in_use: int = 0

    @property
    def key(self) -> str:
        """The volume's key: its path, for volumes of directory pools."""
        return self.path

    @property
    def type_number(self) -> int:
        """``virStorageVolType`` of the volume."""
        return int(_VOL_TYPES.get(self.type, StorageVolType.FILE))

    def definition(self, pool_type: str) -> StorageVolumeDef:
        """The document libvirt would print for the volume."""
        return StorageVolumeDef(
            name=self.name,
            pool_type=pool_type,
            type=self.type,
            key=self.key,
            capacity=self.capacity,
            allocation=self.allocation,
            physical=self.physical,
            target=self.target,
            backing_store=self.backing,
        )

    def update_from(self, other: Volume, *, keep_details: bool = False) -> None:
        """Take over what a fresh probe found (keeping name and build state).

        With *keep_details* only sizes, permissions and timestamps change, as
        libvirt's ``refreshVol`` updates them: the format and the qcow2 details
        (compat level, cluster size, features) stay as they were known, and
        only a pool refresh, which probes every volume anew, replaces them.
        """
        self.capacity, self.allocation, self.physical = (
            other.capacity,
            other.allocation,
            other.physical,
        )
        if keep_details:
            self.target = replace(
                self.target,
                path=other.target.path,
                permissions=other.target.permissions,
                timestamps=other.target.timestamps,
            )
            return
        self.type, self.format = other.type, other.format
        self.target, self.backing = other.target, other.backing

    def take_details(self, target: VolumeTargetDef) -> None:
        """Use the compat level, cluster size and features a definition asked for."""
        self.target = replace(
            self.target,
            compat=target.compat if self.format == "qcow2" else None,
            cluster_size=target.cluster_size if self.format == "qcow2" else 0,
            features=target.features if self.format == "qcow2" else None,
        )


# -- probing ---------------------------------------------------------------------------


def _timestamp(sec: int, nsec: int) -> str:
    return f"{sec}.{nsec:09d}" if nsec else str(sec)


def _stamps(st: os.stat_result) -> tuple[tuple[str, str], ...]:
    ns = (st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns)
    values = [_timestamp(t // 1_000_000_000, t % 1_000_000_000) for t in ns]
    # Linux gives libvirt no birth time through stat(); it prints 0.
    return (("atime", values[0]), ("mtime", values[1]), ("ctime", values[2]), ("btime", "0"))


def _perms(st: os.stat_result) -> PermissionsDef:
    return PermissionsDef(mode=stat.S_IMODE(st.st_mode) & 0o777, owner=st.st_uid, group=st.st_gid)


def _known_format(name: str | None) -> str:
    if name == "parallels":
        return "ploop"
    return name if name in VOLUME_FILE_FORMATS and name not in ("none", "dir") else "raw"


def probe_volume(name: str, path: str) -> Volume | None:
    """Describe the volume at *path*; ``None`` for what libvirt's refresh ignores."""
    try:
        lst = os.lstat(path)
        st = os.stat(path) if stat.S_ISLNK(lst.st_mode) else lst
    except FileNotFoundError:
        logger.debug("ignoring dangling or vanished entry '%s'", path)
        return None
    except OSError as exc:
        raise SystemCallError.from_os_error(f"cannot stat file '{path}'", exc) from exc
    target = VolumeTargetDef(path=path, permissions=_perms(st), timestamps=_stamps(st))
    if stat.S_ISDIR(st.st_mode):
        return Volume(name, path, "dir", "dir", target=replace(target, format="dir"))
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISBLK(st.st_mode)):
        logger.debug("ignoring '%s': not a regular file, block device or directory", path)
        return None
    try:
        if stat.S_ISREG(st.st_mode) and not _looks_like_image(path):
            info = ImageInfo("raw", st.st_size, None, None, None, 0, False, False)
        else:
            info = image_info(path)
    except InternalError as exc:
        # A damaged or unreadable image must not take the whole pool down:
        # it is listed as raw data, which is all that can be said about it.
        logger.warning("cannot read image '%s', listing it as raw: %s", path, exc)
        info = ImageInfo("raw", st.st_size, None, None, None, 0, False, False)
    fmt = _known_format(info.format)
    kind = "block" if stat.S_ISBLK(st.st_mode) else "file"
    # qemu-img rounds a raw file's size to sectors; libvirt reports the file's size.
    capacity = st.st_size if fmt == "raw" and kind == "file" else info.virtual_size
    allocation = st.st_blocks * 512 if kind == "file" else info.virtual_size
    physical = st.st_size if kind == "file" else info.virtual_size
    v3 = fmt == "qcow2" and info.compat is not None and info.compat != "0.10"
    features: tuple[str, ...] | None = None
    if v3:
        flags = (("lazy_refcounts", info.lazy_refcounts), ("extended_l2", info.extended_l2))
        features = tuple(n for n, on in flags if on)
    target = replace(
        target,
        format=fmt,
        compat=info.compat if v3 else None,
        cluster_size=info.cluster_size if v3 else 0,
        features=features,
    )
    backing = None
    if info.backing_path:
        backing = _backing_target(path, info.backing_path, info.backing_format)
    return Volume(name, path, kind, fmt, capacity, allocation, physical, target, backing)


_MAGICS: tuple[tuple[int, bytes], ...] = (
    (0, b"QFI\xfb"),  # qcow, qcow2
    (0, b"QED\x00"),  # qed
    (0, b"KDMV"),  # vmdk (sparse extent)
    (0, b"# Disk DescriptorFile"),  # vmdk (descriptor)
    (0, b"conectix"),  # vpc
    (0, b"vhdxfile"),  # vhdx
    (0x40, b"\x7f\x10\xda\xbe"),  # vdi
    (0, b"Bochs Virtual HD Image"),  # bochs
    (0, b"#!/bin/sh"),  # cloop
    (0, b"WithoutFreeSpace"),  # parallels
    (0, b"WithouFreSpacExt"),  # parallels
    (0, b"LUKS\xba\xbe"),  # luks
)


def _looks_like_image(path: str) -> bool:
    """Whether the file starts like an image format qemu-img reads other than raw.

    Files that do not are raw whatever qemu-img would say, so the common case
    of raw data needs no qemu-img run. DMG images are only recognisable from
    their end (and their name, for qemu-img), so ``.dmg`` files are probed.
    """
    if path.endswith(".dmg"):
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError:
        return True  # let qemu-img report what is wrong
    return any(head[offset : offset + len(magic)] == magic for offset, magic in _MAGICS)


def _backing_target(path: str, backing: str, backing_format: str | None) -> VolumeTargetDef:
    full = backing if os.path.isabs(backing) else os.path.join(os.path.dirname(path), backing)
    try:
        st = os.stat(full)
    except OSError:
        return VolumeTargetDef(path=backing, format=_known_format(backing_format))
    if backing_format is None:
        try:
            backing_format = image_info(full).format
        except InternalError:
            backing_format = "raw"
    return VolumeTargetDef(
        path=backing,
        format=_known_format(backing_format),
        permissions=_perms(st),
        timestamps=_stamps(st),
    )


# -- building ----------------------------------------------------------------------------


def _unsupported_flags(flags: int, allowed: int, function: str) -> None:
    from virtcore.drivers.storage.common import check_flags

    check_flags(flags, allowed, function)


def _allocate(fd: int, path: str, length: int) -> None:
    try:
        os.posix_fallocate(fd, 0, length)
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
            raise SystemCallError.from_os_error(
                f"cannot allocate {length} bytes in file '{path}'", exc, domain=_STORAGE
            ) from exc
    # No fallocate on this filesystem: write zeros, as libvirt's safezero does.
    zeros = bytes(_COPY_CHUNK)
    done = 0
    while done < length:
        chunk = min(len(zeros), length - done)
        done += os.pwrite(fd, zeros[:chunk], done)


def _create_raw(vol: StorageVolumeDef, path: str, flags: int, source: Volume | None) -> None:
    if flags & CreateFlags.PREALLOC_METADATA:
        raise ConfigUnsupportedError(
            "metadata preallocation is not supported for raw volumes", domain=_STORAGE
        )
    _unsupported_flags(flags, int(CreateFlags.REFLINK), "storageBackendCreateRaw")
    if vol.target.encryption is not None:
        raise ConfigUnsupportedError(
            "storage pool does not support encrypted volumes", domain=_STORAGE
        )
    if vol.backing_store is not None:
        raise NoSupportError("backing storage not supported for raw volumes", domain=_STORAGE)
    mode = vol.target.permissions.mode
    mode = _DEFAULT_VOL_MODE if mode is None else mode
    fd = open_fd(
        path, os.O_RDWR | os.O_CREAT | os.O_EXCL, f"Failed to create file '{path}'", mode=mode
    )
    try:
        os.fchmod(fd, mode)
        capacity = vol.capacity
        os_call(f"cannot extend file '{path}'", os.ftruncate, fd, capacity)
        need_alloc = source is None or vol.allocation >= source.capacity
        if need_alloc and vol.allocation:
            _allocate(fd, path, vol.allocation)
        if source is not None and flags & CreateFlags.REFLINK:
            _reflink(source.path, fd)
        elif source is not None:
            _copy_raw(source.path, fd, path, source.capacity, sparse=not need_alloc)
        os_call(f"cannot sync data to file '{path}'", os.fsync, fd)
    finally:
        os.close(fd)
    set_owner(path, vol.target.permissions)


def _reflink(src: str, fd: int) -> None:
    """Share *src*'s blocks with *fd* (``FICLONE``), as libvirt does for ``REFLINK``."""
    in_fd = open_fd(src, os.O_RDONLY, f"could not open input path '{src}'")
    try:
        os_call(f"failed to clone files from '{src}'", fcntl.ioctl, fd, _FICLONE, in_fd)
    finally:
        os.close(in_fd)


def _copy_raw(src: str, fd: int, dst: str, length: int, *, sparse: bool) -> None:
    """Copy *length* bytes of *src* into *fd*; zero blocks become holes when *sparse*."""
    in_fd = open_fd(src, os.O_RDONLY, f"could not open input path '{src}'")
    try:
        offset = 0
        while offset < length:
            chunk = os.pread(in_fd, min(_COPY_CHUNK, length - offset), offset)
            if not chunk:
                break
            if not (sparse and chunk.count(0) == len(chunk)):
                view = memoryview(chunk)
                pos = offset
                while view:
                    written = os.pwrite(fd, view, pos)
                    view, pos = view[written:], pos + written
            offset += len(chunk)
    except OSError as exc:
        raise SystemCallError.from_os_error(
            f"failed writing output file '{dst}'", exc, domain=_STORAGE
        ) from exc
    finally:
        os.close(in_fd)


def _create_dir(vol: StorageVolumeDef, path: str, flags: int) -> None:
    _unsupported_flags(flags, 0, "createFileDir")
    if vol.backing_store is not None:
        raise NoSupportError("backing storage not supported for directories volumes")
    mode = vol.target.permissions.mode
    mode = _DEFAULT_DIR_MODE if mode is None else mode
    os_call(f"cannot create path '{path}'", os.mkdir, path, mode)
    set_mode(path, mode)
    set_owner(path, vol.target.permissions)


def _qemu_img_options(
    vol: StorageVolumeDef, fmt: str, flags: int, backing_format: str | None
) -> str:
    preallocate = bool(flags & CreateFlags.PREALLOC_METADATA)
    target = vol.target
    if preallocate and fmt != "qcow2":
        raise OperationInvalidError("metadata preallocation only available with qcow2")
    if target.compat is not None and fmt != "qcow2":
        raise ConfigUnsupportedError(
            "compatibility option only available with qcow2", domain=_STORAGE
        )
    if target.features is not None and fmt != "qcow2":
        raise ConfigUnsupportedError("format features only available with qcow2")
    if target.encryption is not None:
        raise ConfigUnsupportedError(
            "storage pool does not support encrypted volumes", domain=_STORAGE
        )
    opts: list[str] = []
    if backing_format is not None:
        if preallocate:
            raise ConfigUnsupportedError(
                "metadata preallocation conflicts with backing store", domain=_STORAGE
            )
        opts.append(f"backing_fmt={backing_format}")
    if preallocate:
        size_k = -(-vol.capacity // 1024)
        opts.append(
            "preallocation=metadata" if size_k > vol.allocation // 1024 else "preallocation=falloc"
        )
    if target.nocow:
        opts.append("nocow=on")
    if target.compat is not None:
        opts.append(f"compat={target.compat}")
    elif fmt == "qcow2":
        opts.append("compat=0.10")
    if target.cluster_size:
        opts.append(f"cluster_size={target.cluster_size}")
    for feature in target.features or ():
        opts.append("lazy_refcounts" if feature == "lazy_refcounts" else f"{feature}=on")
    # qemu-img splits options at commas; a doubled comma is a literal one.
    return ",".join(o.replace(",", ",,") for o in opts)


def _backing(vol: StorageVolumeDef, pool_path: str) -> tuple[str, str] | None:
    if vol.backing_store is None or vol.backing_store.path is None:
        return None
    path = vol.backing_store.path
    absolute = path if path.startswith("/") else f"{pool_path}/{path}"
    try:
        os.stat(absolute)
        if not os.access(absolute, os.R_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
    except OSError as exc:
        raise SystemCallError.from_os_error(
            f"inaccessible backing store volume {path}", exc, domain=_STORAGE
        ) from exc
    return path, vol.backing_store.format or "raw"


def _create_qemu_img(
    vol: StorageVolumeDef, path: str, pool_path: str, flags: int, source: Volume | None
) -> None:
    _unsupported_flags(flags, int(CreateFlags.PREALLOC_METADATA), "storageBackendCreateQemuImg")
    fmt = vol.target.format or "raw"
    if fmt == "iso":
        fmt = "raw"
    if fmt == "ploop":
        fmt = "parallels"
    backing = _backing(vol, pool_path)
    options = _qemu_img_options(vol, fmt, flags, backing[1] if backing else None)
    if source is not None:
        in_fmt = "raw" if source.format == "iso" else source.format
        args = ["convert", "-f", in_fmt, "-O", fmt]
    else:
        args = ["create", "-f", fmt]
    if backing is not None:
        args += ["-b", backing[0]]
    if options:
        args += ["-o", options]
    if source is not None:
        args += ["--", source.path, path]
    else:
        args += ["--", path]
        size_k = -(-vol.capacity // 1024)
        if size_k or backing is None:
            args.append(f"{size_k}K")
    try:
        run_qemu_img(args)
    except BaseException:
        # qemu-img may leave a partial image; the volume does not exist.
        _remove_quietly(path)
        raise
    mode = vol.target.permissions.mode
    set_mode(path, _DEFAULT_VOL_MODE if mode is None else mode)
    set_owner(path, vol.target.permissions)


def build_volume(vol: StorageVolumeDef, path: str, pool_path: str, flags: int) -> None:
    """Create the volume *vol* at *path* (``virStorageBackendFileSystemVolBuild``)."""
    _unsupported_flags(
        flags,
        int(CreateFlags.PREALLOC_METADATA | CreateFlags.REFLINK),
        "virStorageBackendFileSystemVolBuild",
    )
    fmt = vol.target.format or "raw"
    if fmt == "raw" and vol.target.encryption is None:
        _create_raw(vol, path, flags, None)
    elif fmt == "dir":
        _create_dir(vol, path, flags)
    else:
        _create_qemu_img(vol, path, pool_path, flags, None)


def build_volume_from(
    vol: StorageVolumeDef, path: str, pool_path: str, source: Volume, flags: int
) -> None:
    """Create *vol* at *path* as a copy of *source* (``buildVolFrom``)."""
    _unsupported_flags(
        flags,
        int(CreateFlags.PREALLOC_METADATA | CreateFlags.REFLINK),
        "virStorageBackendFileSystemVolBuildFrom",
    )
    if vol.target.encryption is not None:
        raise NoSupportError(
            "storage pool does not support building encrypted volumes from other volumes",
            domain=_STORAGE,
        )
    if source.type == "dir" or vol.target.format == "dir":
        raise OperationUnsupportedError("cannot copy a directory volume", domain=_STORAGE)
    if (vol.target.format or "raw") != "raw" or source.format != "raw":
        _create_qemu_img(vol, path, pool_path, flags, source)
    else:
        try:
            _create_raw(vol, path, flags, source)
        except BaseException:
            _remove_quietly(path)
            raise


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        logger.warning("cannot remove '%s': %s", path, exc.strerror)


def delete_volume(vol: Volume, flags: int) -> None:
    """Remove the volume's file or directory (``virStorageBackendVolDeleteLocal``)."""
    _unsupported_flags(flags, 0, "virStorageBackendVolDeleteLocal")
    try:
        if vol.type == "dir":
            os.rmdir(vol.path)
        else:
            os.unlink(vol.path)
    except FileNotFoundError:
        return  # already gone: libvirt ignores that silently
    except OSError as exc:
        what = "cannot remove directory" if vol.type == "dir" else "cannot unlink file"
        raise SystemCallError.from_os_error(f"{what} '{vol.path}'", exc, domain=_STORAGE) from exc


def resize_volume(vol: Volume, capacity: int, *, allocate: bool) -> None:
    """Set the volume's capacity (``virStorageBackendVolResizeLocal``)."""
    if vol.format == "raw" and vol.target.encryption is None:
        _resize_file(vol.path, capacity, allocate)
        return
    if allocate:
        raise OperationUnsupportedError(
            "preallocate is only supported for raw type volume", domain=_STORAGE
        )
    # qemu-img refuses sizes that are not a multiple of 512.
    rounded = -(-capacity // 512) * 512
    args = ["resize"]
    if rounded < vol.capacity:
        args.append("--shrink")
    run_qemu_img([*args, "--", vol.path, str(rounded)])


def _resize_file(path: str, capacity: int, allocate: bool) -> None:
    fd = open_fd(path, os.O_RDWR, f"Unable to open '{path}'", domain=ErrorDomain.NONE)
    try:
        size = os.fstat(fd).st_size
        if allocate and capacity > size:
            try:
                os.posix_fallocate(fd, size, capacity - size)
            except OSError as exc:
                if exc.errno != errno.ENOSYS:
                    raise SystemCallError.from_os_error(
                        f"Failed to pre-allocate space for file '{path}'", exc
                    ) from exc
        try:
            os.ftruncate(fd, capacity)
        except OSError as exc:
            raise SystemCallError.from_os_error(f"Failed to truncate file '{path}'", exc) from exc
    finally:
        os.close(fd)
