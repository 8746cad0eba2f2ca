"""Facts read from QEMU's QAPI schema (``query-qmp-schema``), as libvirt does.

QEMU describes every QMP command, event and type in its introspection
schema. libvirt decides many capabilities by querying that schema with short
paths (``qemu_qapi.c``); this module implements the same path language and
the table of facts virtcore derives (:data:`SCHEMA_FLAGS`). The schema itself
(about 200 KiB) is not kept: only the names of the facts that hold are
cached, in :attr:`QemuCaps.schema_flags`.

Path language (``virQEMUQAPISchemaPathGet``): the first component names a
command or an event (``event:NAME``); then ``arg-type`` / ``ret-type`` step
into a command's argument or return type; a plain name steps into an object
member (through arrays and alternates transparently); ``+case`` selects a
union variant; ``^value`` holds when an enum has that value; ``$feature``
holds when the current entry carries that feature; ``*`` steps into an
array's element type.

Contract: :func:`schema_query` returns True when the path resolves, False
otherwise, and never raises on a malformed or surprising schema.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["SCHEMA_FLAGS", "SchemaIndex", "schema_flags", "schema_query"]

log = logging.getLogger(__name__)

#: Fact name -> schema path. The names follow libvirt's QEMU_CAPS_* strings.
SCHEMA_FLAGS: Mapping[str, str] = {
    "sdl": "query-display-options/ret-type/+sdl",
    "egl-headless": "query-display-options/ret-type/+egl-headless",
    "egl-headless.rendernode": "query-display-options/ret-type/+egl-headless/rendernode",
    "display-dbus": "query-display-options/ret-type/+dbus",
    "vnc": "query-vnc",
    "spice": "query-spice",
    "screendump_device": "screendump/arg-type/device",
    "screendump.format": "screendump/arg-type/format",
    "query-cpu-model-expansion": "query-cpu-model-expansion",
    "query-cpu-model-baseline": "query-cpu-model-baseline",
    "query-cpu-model-comparison": "query-cpu-model-comparison",
    "blockdev": "blockdev-add",
    "blockdev-backup": "blockdev-backup",
    "incremental-backup": "block-dirty-bitmap-merge",
    "aio.io_uring": "blockdev-add/arg-type/+file/aio/^io_uring",
    "blockdev-reopen": "blockdev-reopen",
    "migration-param.block-bitmap-mapping": (
        "migrate-set-parameters/arg-type/block-bitmap-mapping/bitmaps/transform"
    ),
    "nbd-bitmap": "nbd-server-add/arg-type/bitmap",
    "block-export-add": "block-export-add",
    "set-action": "set-action",
    "query-dirty-rate": "query-dirty-rate",
    "calc-dirty-rate": "calc-dirty-rate",
    "dirty-ring-size": "calc-dirty-rate/arg-type/mode/^dirty-ring",
    "numa.hmat": "set-numa-node/arg-type/+hmat-lb",
    "object.qapified": "object-add/arg-type/+secret/data",
    "netdev.stream": "netdev_add/arg-type/+stream",
    "netdev.vhost-vdpa": "netdev_add/arg-type/+vhost-vdpa",
    "chardev.qemu-vdagent": "chardev-add/arg-type/backend/+qemu-vdagent",
    "chardev-spicevmc": "chardev-add/arg-type/backend/+spicevmc",
    "memory-backend-file.prealloc-threads": (
        "object-add/arg-type/+memory-backend-file/prealloc-threads"
    ),
    "memory-backend-memfd": "object-add/arg-type/+memory-backend-memfd",
    "memory-backend-epc": "object-add/arg-type/+memory-backend-epc",
    "migrate-background-snapshot": (
        "query-migrate-capabilities/ret-type/capability/^background-snapshot"
    ),
    "migration.zero-copy-send": "query-migrate-capabilities/ret-type/capability/^zero-copy-send",
    "query-stats": "query-stats",
    "query-stats-schemas": "query-stats-schemas",
    "device.json": "device_add/$json-cli",
    "device.json+hotplug": "device_add/$json-cli-hotplug",
    "query-named-block-nodes.flat": "query-named-block-nodes/arg-type/flat",
    "blockjob.backing-mask-protocol": "block-stream/arg-type/backing-mask-protocol",
    "display-reload": "display-reload",
}


class SchemaIndex:
    """The schema as a name -> entry mapping, with commands and events apart."""

    def __init__(self, schema: Iterable[Any]) -> None:
        self.types: dict[str, Mapping[str, Any]] = {}
        self.commands: dict[str, Mapping[str, Any]] = {}
        self.events: dict[str, Mapping[str, Any]] = {}
        for entry in schema:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
                continue
            meta = entry.get("meta-type")
            if meta == "command":
                self.commands[entry["name"]] = entry
            elif meta == "event":
                self.events[entry["name"]] = entry
            else:
                self.types[entry["name"]] = entry

    def type(self, name: object) -> Mapping[str, Any] | None:
        if not isinstance(name, str):
            return None
        return self.types.get(name)


def schema_query(index: SchemaIndex, path: str) -> bool:
    """True when *path* (see the module docstring) resolves in *index*."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        return False
    head = parts[0]
    entry: Mapping[str, Any] | None
    if head.startswith("event:"):
        entry = index.events.get(head[len("event:") :])
    else:
        entry = index.commands.get(head)
    if entry is None:
        return False
    return _walk(index, entry, parts[1:])


def _walk(index: SchemaIndex, entry: Mapping[str, Any], parts: Sequence[str]) -> bool:
    if not parts:
        return True
    step, rest = parts[0], parts[1:]
    if step.startswith("$"):
        features = entry.get("features") or ()
        return step[1:] in features and _walk(index, entry, rest)
    meta = entry.get("meta-type")
    if step in ("arg-type", "ret-type") and meta in ("command", "event"):
        target = index.type(entry.get(step))
        return target is not None and _walk(index, target, rest)
    # Arrays and alternates are looked through: a member of an array of
    # objects, or of one branch of an alternate, counts.
    if meta == "array":
        element = index.type(entry.get("element-type"))
        if step == "*":
            return element is not None and _walk(index, element, rest)
        return element is not None and _walk(index, element, parts)
    if meta == "alternate":
        return any(
            (branch := index.type(m.get("type"))) is not None and _walk(index, branch, parts)
            for m in entry.get("members") or ()
            if isinstance(m, Mapping)
        )
    if step.startswith("^"):
        return meta == "enum" and step[1:] in (entry.get("values") or ()) and not rest
    if step.startswith("+"):
        if meta != "object":
            return False
        for variant in entry.get("variants") or ():
            if isinstance(variant, Mapping) and variant.get("case") == step[1:]:
                target = index.type(variant.get("type"))
                return target is not None and _walk(index, target, rest)
        return False
    if meta == "object":
        for member in entry.get("members") or ():
            if isinstance(member, Mapping) and member.get("name") == step:
                if not rest:
                    return True
                target = index.type(member.get("type"))
                if target is None:
                    return False
                if rest[0].startswith("$"):
                    return _member_features(member, rest, index, target)
                return _walk(index, target, rest)
        return False
    return False


def _member_features(
    member: Mapping[str, Any],
    rest: Sequence[str],
    index: SchemaIndex,
    target: Mapping[str, Any],
) -> bool:
    # ``member/$feature``: the feature is on the member, not on its type.
    if rest[0][1:] not in (member.get("features") or ()):
        return False
    return _walk(index, target, rest[1:])


def schema_flags(schema: Iterable[Any]) -> frozenset[str]:
    """The names of :data:`SCHEMA_FLAGS` whose path holds in *schema*."""
    index = SchemaIndex(schema)
    return frozenset(name for name, path in SCHEMA_FLAGS.items() if schema_query(index, path))
