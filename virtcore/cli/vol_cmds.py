"""Storage volume commands: vol-list, vol-info, vol-dumpxml, vol-create, vol-create-as,
vol-create-from, vol-clone, vol-delete, vol-wipe, vol-resize, vol-upload,
vol-download, vol-path, vol-key, vol-name, vol-pool.

Volumes are found as virsh finds them: by name inside ``--pool``, else by
key, else by path. Sizes accept scaled units (``5M``, ``1GiB``). Output is
virsh 9.0's; ``vol-upload``, ``vol-download`` and ``vol-wipe`` also draw a
progress bar with ``--verbose`` (a virtcore extension, on by default when
standard error is a terminal). ``vol-upload --sparse`` and ``vol-download
--sparse`` ask the driver for a sparse stream and keep holes as holes on
both ends (:mod:`virtcore.cli.vol_sparse`); ``--offset``, ``--length`` (where
``-N`` wraps modulo 2**64, as in virsh) and ``--sparse`` combine freely.
``--json`` documents (see ``docs/cli.md``):

* ``vol-list``: ``[{"name", "path", "type", "capacity", "allocation"}]``
  sorted by name, sizes in bytes;
* ``vol-info``: ``{"name", "type", "capacity", "allocation"}`` (with
  ``--physical`` the last field is ``physical``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from typing import Any

from lxml import etree

from virtcore.cli.context import CommandError, Ctx
from virtcore.cli.format import Table, pretty_capacity
from virtcore.cli.parser import ULLONG_MAX, Args, OptionError, scale_integer
from virtcore.cli.progress import TransferProgress, progress_enabled, run_job
from virtcore.cli.spec import Opt, OptType, command, data, flag, integer, string
from virtcore.cli.vol_sparse import LocalFile, abort_quietly, download_file, upload_file
from virtcore.cli.xmlview import dump_xml
from virtcore.enums.errors import ErrorNumber
from virtcore.enums.storage import (
    StorageVolCreateFlags,
    StorageVolDeleteFlags,
    StorageVolDownloadFlags,
    StorageVolResizeFlags,
    StorageVolUploadFlags,
    StorageVolWipeAlgorithm,
)
from virtcore.errors import VirtError
from virtcore.objects import StorageVol, Stream

__all__: list[str] = []

logger = logging.getLogger(__name__)

_VOL = data("vol", "vol name, key or path", complete="volume")
_POOL_OPT = string("pool", "pool name or uuid", complete="pool")
_VERBOSE = Opt("verbose", OptType.BOOL, "display the progress of the transfer", hidden=True)
_TYPES = ("file", "block", "dir", "network", "netdir", "ploop")


def _type_name(kind: int) -> str:
    return _TYPES[kind] if 0 <= kind < len(_TYPES) else "unknown"


def _size(text: str) -> int:
    """virsh's volume size: digits with an optional unit, bytes by default."""
    match = re.match(r"[ \t\n\v\f\r]*\+?([0-9]+)", text)
    if match is None:
        raise CommandError(f"Malformed size {text}")
    try:
        return scale_integer(int(match.group(1)), text[match.end() :], 1, ULLONG_MAX)
    except VirtError as exc:
        raise CommandError(f"Malformed size {text}", exc) from exc


@command(
    "vol-list",
    "volume",
    "list vols",
    "Returns list of vols by pool.",
    [
        data("pool", "pool name or uuid", complete="pool"),
        flag("details", "display extended details for volumes"),
    ],
    json=True,
)
def cmd_vol_list(ctx: Ctx, args: Args) -> bool:
    pool = ctx.pool(args)
    try:
        volumes = pool.list_all_volumes(0)
    except VirtError as exc:
        raise CommandError("Failed to list storage volumes", exc) from exc
    volumes.sort(key=lambda v: v.name.lower())
    details = args.flag("details")
    table = (
        Table("Name", "Path", "Type", "Capacity", "Allocation")
        if details
        else Table("Name", "Path")
    )
    records = []
    for vol in volumes:
        try:
            path = vol.path()
        except VirtError:
            path = "unknown"
        record: dict[str, Any] = {"name": vol.name, "path": path}
        try:
            info = vol.info()
        except VirtError:
            cells = ["unknown", "unknown", "unknown"]
            record.update(type=None, capacity=None, allocation=None)
        else:
            cells = [
                _type_name(info.type),
                pretty_capacity(info.capacity),
                pretty_capacity(info.allocation),
            ]
            record.update(
                type=_type_name(info.type), capacity=info.capacity, allocation=info.allocation
            )
        records.append(record)
        if details:
            table.add(vol.name, path, *cells)
        else:
            table.add(vol.name, path)
    if args.flag("json"):
        ctx.json(records)
    else:
        ctx.print(table.render(header=not ctx.quiet))
    return True


@command(
    "vol-info",
    "volume",
    "storage vol information",
    "Returns basic information about the storage vol.",
    [
        _VOL,
        _POOL_OPT,
        flag("bytes", "sizes are represented in bytes rather than pretty units"),
        flag("physical", "return the physical size of the volume in allocation field"),
    ],
    json=True,
)
def cmd_vol_info(ctx: Ctx, args: Args) -> bool:
    vol = ctx.volume(args)
    physical = args.flag("physical")
    if not args.flag("json"):
        ctx.print(f"{'Name:':<15} {vol.name}\n")
    info = vol.info_flags(1) if physical else vol.info()
    last = "Physical:" if physical else "Allocation:"
    if args.flag("json"):
        ctx.json(
            {
                "name": vol.name,
                "type": _type_name(info.type),
                "capacity": info.capacity,
                last.rstrip(":").lower(): info.allocation,
            }
        )
        return True
    lines = [("Type:", _type_name(info.type))]
    for label, value in (("Capacity:", info.capacity), (last, info.allocation)):
        lines.append((label, f"{value} bytes" if args.flag("bytes") else pretty_capacity(value)))
    ctx.print("".join(f"{label:<15} {value}\n" for label, value in lines))
    return True


@command(
    "vol-dumpxml",
    "volume",
    "vol information in XML",
    "Output the vol information as an XML dump to stdout.",
    [
        _VOL,
        _POOL_OPT,
        string("xpath", "xpath expression to filter the XML document", positional=False),
        flag("wrap", "wrap xpath results in an common root element"),
    ],
)
def cmd_vol_dumpxml(ctx: Ctx, args: Args) -> bool:
    vol = ctx.volume(args)
    dump_xml(ctx, vol.xml_desc(0), args.string("xpath"), args.flag("wrap"))
    return True


def _create_flags(args: Args) -> int:
    flags = 0
    for name, value in (
        ("prealloc-metadata", StorageVolCreateFlags.PREALLOC_METADATA),
        ("reflink", StorageVolCreateFlags.REFLINK),
        ("validate", StorageVolCreateFlags.VALIDATE),
    ):
        if args.command.option(name) is not None and args.flag(name):
            flags |= int(value)
    return flags


_PREALLOC = flag("prealloc-metadata", "preallocate metadata (for qcow2 instead of full allocation)")


@command(
    "vol-create",
    "volume",
    "create a vol from an XML file",
    "Create a vol.",
    [
        data("pool", "pool name", complete="pool"),
        data("file", "file containing an XML vol description"),
        _PREALLOC,
        flag("validate", "validate the XML against the schema"),
    ],
)
def cmd_vol_create(ctx: Ctx, args: Args) -> bool:
    flags = _create_flags(args)
    pool = ctx.pool(args)
    path = args.require("file")
    xml = ctx.read_file(path)
    try:
        vol = pool.vol_create_xml(xml, flags)
    except VirtError as exc:
        raise CommandError(f"Failed to create vol from {path}", exc) from exc
    ctx.extra(f"Vol {vol.name} created from {path}\n")
    return True


def _find_backing(ctx: Ctx, pool: Any, name: str) -> StorageVol:
    conn = ctx.conn
    for finder in (pool.vol_lookup_by_name, conn.storage_vol_lookup_by_key):
        try:
            return finder(name)
        except VirtError:
            continue
    try:
        return conn.storage_vol_lookup_by_path(name)
    except VirtError as exc:
        raise CommandError(f"failed to get vol '{name}'", exc) from exc


@command(
    "vol-create-as",
    "volume",
    "create a volume from a set of args",
    "Create a vol.",
    [
        data("pool", "pool name", complete="pool"),
        data("name", "name of the volume"),
        data("capacity", "size of the vol, as scaled integer (default bytes)"),
        string("allocation", "initial allocation size, as scaled integer (default bytes)"),
        string("format", "file format type raw,bochs,qcow,qcow2,qed,vmdk"),
        string("backing-vol", "the backing volume if taking a snapshot"),
        string("backing-vol-format", "format of backing volume if taking a snapshot"),
        _PREALLOC,
        flag("print-xml", "print XML document, but don't define/create"),
    ],
)
def cmd_vol_create_as(ctx: Ctx, args: Args) -> bool:
    flags = _create_flags(args)
    pool = ctx.pool(args)
    name = args.require("name")
    capacity = _size(args.require("capacity"))
    allocation_text = args.string("allocation")
    allocation = _size(allocation_text) if allocation_text else None
    fmt = args.string("format")
    backing = args.string("backing-vol")
    backing_fmt = args.string("backing-vol-format")
    lines = ["<volume>\n", f"  <name>{name}</name>\n", f"  <capacity>{capacity}</capacity>\n"]
    if allocation is not None:
        lines.append(f"  <allocation>{allocation}</allocation>\n")
    if fmt:
        lines += ["  <target>\n", f"    <format type='{fmt}'/>\n", "  </target>\n"]
    if backing:
        backing_path = _find_backing(ctx, pool, backing).path()
        lines += ["  <backingStore>\n", f"    <path>{backing_path}</path>\n"]
        if backing_fmt:
            lines.append(f"    <format type='{backing_fmt}'/>\n")
        lines.append("  </backingStore>\n")
    lines.append("</volume>\n")
    xml = "".join(lines)
    if args.flag("print-xml"):
        ctx.print(xml)
        return True
    try:
        pool.vol_create_xml(xml, flags)
    except VirtError as exc:
        raise CommandError(f"Failed to create vol {name}", exc) from exc
    ctx.extra(f"Vol {name} created\n")
    return True


@command(
    "vol-create-from",
    "volume",
    "create a vol, using another volume as input",
    "Create a vol from an existing volume.",
    [
        data("pool", "pool name or uuid", complete="pool"),
        data("file", "file containing an XML vol description"),
        _VOL,
        string("inputpool", "pool name or uuid of the input volume's pool"),
        _PREALLOC,
        flag("reflink", "use btrfs COW lightweight copy"),
        flag("validate", "validate the XML against the schema"),
    ],
)
def cmd_vol_create_from(ctx: Ctx, args: Args) -> bool:
    pool = ctx.pool(args)
    flags = _create_flags(args)
    path = args.require("file")
    source = ctx.volume(args, "vol", "inputpool")
    xml = ctx.read_file(path)
    try:
        vol = pool.vol_create_xml_from(xml, source, flags)
    except VirtError as exc:
        raise CommandError(f"Failed to create vol from {path}", exc) from exc
    ctx.extra(f"Vol {vol.name} created from input vol {source.name}\n")
    return True


@command(
    "vol-clone",
    "volume",
    "clone a volume.",
    "Clone an existing volume within the parent pool.",
    [
        _VOL,
        data("newname", "clone name"),
        _POOL_OPT,
        _PREALLOC,
        flag("reflink", "use btrfs COW lightweight copy"),
        flag("print-xml", "print XML document rather than clone the volume"),
    ],
)
def cmd_vol_clone(ctx: Ctx, args: Args) -> bool:
    source = ctx.volume(args)
    try:
        pool = source.storage_pool_lookup_by_volume()
    except VirtError as exc:
        raise CommandError("failed to get parent pool", exc) from exc
    new_name = args.require("newname")
    flags = _create_flags(args)
    root = etree.fromstring(
        source.xml_desc(0).encode(), etree.XMLParser(resolve_entities=False, no_network=True)
    )
    name_node = root.find("name")
    if name_node is not None:
        name_node.text = new_name
    xml = etree.tostring(root, encoding="unicode", with_tail=False)
    if args.flag("print-xml"):
        ctx.print(xml)
        return True
    try:
        clone = pool.vol_create_xml_from(xml, source, flags)
    except VirtError as exc:
        raise CommandError(f"Failed to clone vol from {source.name}", exc) from exc
    ctx.extra(f"Vol {clone.name} cloned from {source.name}\n")
    return True


@command(
    "vol-delete",
    "volume",
    "delete a vol",
    "Delete a given vol.",
    [
        _VOL,
        _POOL_OPT,
        flag(
            "delete-snapshots",
            "delete snapshots associated with volume (must be supported by storage driver)",
        ),
    ],
)
def cmd_vol_delete(ctx: Ctx, args: Args) -> bool:
    flags = int(StorageVolDeleteFlags.WITH_SNAPSHOTS) if args.flag("delete-snapshots") else 0
    name = args.require("vol")
    vol = ctx.volume(args)
    try:
        vol.delete(flags)
    except VirtError as exc:
        raise CommandError(f"Failed to delete vol {name}", exc) from exc
    ctx.extra(f"Vol {name} deleted\n")
    return True


_ALGORITHMS = {a.name.lower(): a for a in StorageVolWipeAlgorithm}


@command(
    "vol-wipe",
    "volume",
    "wipe a vol",
    "Ensure data previously on a volume is not accessible to future reads",
    [_VOL, _POOL_OPT, string("algorithm", "perform selected wiping algorithm"), _VERBOSE],
)
def cmd_vol_wipe(ctx: Ctx, args: Args) -> bool:
    name = args.require("vol")
    vol = ctx.volume(args)
    text = args.string("algorithm")
    algorithm = StorageVolWipeAlgorithm.ZERO
    if text is not None:
        if text not in _ALGORITHMS:
            raise CommandError(f"Unsupported algorithm '{text}'")
        algorithm = _ALGORITHMS[text]

    def wipe() -> None:
        try:
            vol.wipe_pattern(algorithm, 0)
        except VirtError as exc:
            if exc.code != ErrorNumber.NO_SUPPORT or algorithm != StorageVolWipeAlgorithm.ZERO:
                raise
            vol.wipe(0)

    show = progress_enabled(ctx, args.flag("verbose"))
    try:
        run_job(ctx, "Wipe", show, wipe)
    except VirtError as exc:
        raise CommandError(f"Failed to wipe vol {name}", exc) from exc
    if show:
        ctx.err.write("\n")
    ctx.extra(f"Vol {name} wiped\n")
    return True


@command(
    "vol-resize",
    "volume",
    "resize a vol",
    "Resizes a storage volume. This is safe only for storage volumes not in use by an active"
    " guest.\nSee blockresize for live resizing.",
    [
        _VOL,
        data("capacity", "new capacity for the vol, as scaled integer (default bytes)"),
        _POOL_OPT,
        flag("allocate", "allocate the new capacity, rather than leaving it sparse"),
        flag("delta", "use capacity as a delta to current size, rather than the new size"),
        flag("shrink", "allow the resize to shrink the volume"),
    ],
)
def cmd_vol_resize(ctx: Ctx, args: Args) -> bool:
    flags = 0
    for name, value in (
        ("allocate", StorageVolResizeFlags.ALLOCATE),
        ("delta", StorageVolResizeFlags.DELTA),
        ("shrink", StorageVolResizeFlags.SHRINK),
    ):
        if args.flag(name):
            flags |= int(value)
    vol = ctx.volume(args)
    text = args.require("capacity").lstrip(" \t\n\v\f\r")
    if text.startswith("-"):
        if not args.flag("shrink"):
            raise CommandError("negative size requires --shrink")
        text = text[1:]
    capacity = _size(text)
    how = "by" if args.flag("delta") else "to"
    try:
        vol.resize(capacity, flags)
    except VirtError as exc:
        raise CommandError(
            f"Failed to change size of volume '{vol.name}' {how} {text}", exc
        ) from exc
    ctx.extra(f"Size of volume '{vol.name}' successfully changed {how} {text}\n")
    return True


def _transfer_opts(verb: str, preposition: str) -> list[Opt]:
    return [
        _VOL,
        data("file", "file"),
        _POOL_OPT,
        integer("offset", f"volume offset to {verb} {preposition}"),
        integer("length", f"amount of data to {verb}"),
        flag("sparse", "preserve sparseness of volume"),
        _VERBOSE,
    ]


_ULL_RE = re.compile(r"[ \t\n\v\f\r]*([+-]?)([0-9]+)")


def _ull_option(args: Args, name: str, *, wrap: bool) -> int:
    """An unsigned long long option read as virsh 9.0 reads it; 0 when absent.

    ``vshCommandOptULongLong`` (``--offset``) refuses a minus sign;
    ``vshCommandOptULongLongWrap`` (``--length``) takes ``-N`` modulo 2**64,
    as ``strtoull`` does, so ``--length -1`` means "everything". Both want
    base-10 digits and nothing after them, and report an empty value with the
    same "malformed" message as any other bad number.
    """
    if not args.given(name):
        return 0
    text = args.string_quiet(name) or ""
    match = _ULL_RE.fullmatch(text)
    value = int(match.group(2)) if match is not None else ULLONG_MAX + 1
    negative = match is not None and match.group(1) == "-"
    if value > ULLONG_MAX or (negative and not wrap):
        raise OptionError(
            f"Numeric value '{text}' for <{name}> option is malformed or out of range"
        )
    return (-value) % (ULLONG_MAX + 1) if negative else value


def _new_stream(ctx: Ctx) -> Stream:
    try:
        return ctx.conn.new_stream()
    except VirtError as exc:
        raise CommandError("cannot create a new stream", exc) from exc


def _transfer_range(args: Args) -> tuple[int, int]:
    """``--offset`` and ``--length``, parsed in virsh's order."""
    offset = _ull_option(args, "offset", wrap=False)
    return offset, _ull_option(args, "length", wrap=True)


@command(
    "vol-upload",
    "volume",
    "upload file contents to a volume",
    "Upload file contents to a volume",
    _transfer_opts("upload", "to"),
)
def cmd_vol_upload(ctx: Ctx, args: Args) -> bool:
    offset, length = _transfer_range(args)
    name = args.require("vol")
    vol = ctx.volume(args)
    local = LocalFile.open_source(args.require("file"))
    sparse = args.flag("sparse")
    flags = int(StorageVolUploadFlags.SPARSE_STREAM) if sparse else 0
    try:
        stream = _new_stream(ctx)
        try:
            vol.upload(stream, offset, length, flags)
        except VirtError as exc:
            raise CommandError(f"cannot upload to volume {name}", exc) from exc
        total = local.size if not length else min(local.size, length)
        progress = TransferProgress(
            ctx, "Upload", total, progress_enabled(ctx, args.flag("verbose"))
        )
        try:
            upload_file(stream, local, sparse, progress)
        except VirtError as exc:
            raise CommandError(f"cannot send data to volume {name}", exc) from exc
        try:
            local.close()
        except CommandError:
            abort_quietly(stream)
            raise
        try:
            stream.finish()
        except VirtError as exc:
            raise CommandError(f"cannot close volume {name}", exc) from exc
        progress.finish()
    finally:
        local.close()
    return True


def _download_total(vol: StorageVol, offset: int, length: int) -> int:
    """The bytes a download should move, for the progress bar (0: unknown)."""
    try:
        capacity = vol.info().capacity
    except VirtError:
        logger.debug("no size for the progress of %s", vol.name, exc_info=True)
        return 0
    total = max(capacity - offset, 0)
    return min(total, length) if length else total


@command(
    "vol-download",
    "volume",
    "download volume contents to a file",
    "Download volume contents to a file",
    _transfer_opts("download", "from"),
)
def cmd_vol_download(ctx: Ctx, args: Args) -> bool:
    offset, length = _transfer_range(args)
    name = args.require("vol")
    vol = ctx.volume(args)
    path = args.require("file")
    sparse = args.flag("sparse")
    flags = int(StorageVolDownloadFlags.SPARSE_STREAM) if sparse else 0
    local, created = LocalFile.open_target(path)
    ok = False
    try:
        stream = _new_stream(ctx)
        try:
            vol.download(stream, offset, length, flags)
        except VirtError as exc:
            raise CommandError(f"cannot download from volume {name}", exc) from exc
        progress = TransferProgress(
            ctx,
            "Download",
            _download_total(vol, offset, length),
            progress_enabled(ctx, args.flag("verbose")),
        )
        try:
            download_file(stream, local, sparse, progress)
        except VirtError as exc:
            raise CommandError(f"cannot receive data from volume {name}", exc) from exc
        try:
            local.close()
        except CommandError:
            abort_quietly(stream)
            raise
        try:
            stream.finish()
        except VirtError as exc:
            raise CommandError(f"cannot close volume {name}", exc) from exc
        progress.finish()
        ok = True
    finally:
        try:
            local.close()
        finally:
            if not ok and created:
                # As virsh: a file this command created must not survive its failure.
                with contextlib.suppress(OSError):
                    os.unlink(path)
    return True


@command(
    "vol-path",
    "volume",
    "returns the volume path for a given volume name or key",
    "",
    [data("vol", "volume name or key", complete="volume"), _POOL_OPT],
)
def cmd_vol_path(ctx: Ctx, args: Args) -> bool:
    ctx.print(ctx.volume(args).path() + "\n")
    return True


@command(
    "vol-key",
    "volume",
    "returns the volume key for a given volume name or path",
    "",
    [data("vol", "volume name or path", complete="volume"), _POOL_OPT],
)
def cmd_vol_key(ctx: Ctx, args: Args) -> bool:
    ctx.print(ctx.volume(args).key + "\n")
    return True


@command(
    "vol-name",
    "volume",
    "returns the volume name for a given volume key or path",
    "",
    [data("vol", "volume key or path", complete="volume")],
)
def cmd_vol_name(ctx: Ctx, args: Args) -> bool:
    ctx.print(ctx.volume(args, pool_opt=None).name + "\n")
    return True


@command(
    "vol-pool",
    "volume",
    "returns the storage pool for a given volume key or path",
    "",
    [
        data("vol", "volume key or path", complete="volume"),
        flag("uuid", "return the pool uuid rather than pool name"),
    ],
)
def cmd_vol_pool(ctx: Ctx, args: Args) -> bool:
    vol = ctx.volume(args, pool_opt=None)
    try:
        pool = vol.storage_pool_lookup_by_volume()
    except VirtError as exc:
        raise CommandError("failed to get parent pool", exc) from exc
    ctx.print((pool.uuid if args.flag("uuid") else pool.name) + "\n")
    return True
