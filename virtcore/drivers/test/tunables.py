"""Typed-parameter tuning calls of the test driver: memory, NUMA, block I/O, bandwidth, I/O limits.

``virDomain{Get,Set}{Memory,Numa,Blkio,Interface}Parameters`` and
``virDomain{Get,Set}BlockIoTune`` as libvirt 9.0's test driver implements
them, quirks included:

* The memory limit check compares against the *live* definition's limits,
  whichever definition the flags select.
* A NUMA mode cannot be set without a node set while the memory placement is
  static, and a running domain keeps its mode.
* Block I/O device figures are given as ``"path,value,path,value"``; a zero
  clears a figure.
* Clearing both directions of an interface's bandwidth leaves an empty
  ``<bandwidth>`` element.
* Every I/O limit must stay at or below its ``*_max`` counterpart, so a limit
  can only be set once its maximum is.

Parameters are validated like ``virTypedParamsValidate`` (unknown names and
wrong types are refused) before the domain is looked up.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lxml import etree

from virtcore.drivers.test.domaincommon import (
    AFFECT_CONFIG,
    AFFECT_LIVE,
    DomainTableBase,
    check_flags,
    validate_params,
)
from virtcore.drivers.test.domainparts import format_cpuset, parse_cpuset
from virtcore.drivers.test.domstats import find_disk, find_net
from virtcore.drivers.test.resources import (
    BANDWIDTH_ATTRS,
    IOTUNE_FIELDS,
    NUMA_MODES,
    UNLIMITED,
    BlkioDevice,
    normalize_bandwidth,
    normalize_iotune,
)
from virtcore.drivers.test.xmlutil import child, children
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    ArgumentUnsupportedError,
    ConfigUnsupportedError,
    InvalidArgError,
    OperationInvalidError,
    VirtError,
)

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore.drivers.test.domainxml import DomainDef
    from virtcore.objects import Domain

__all__ = ["TunableCalls"]

logger = logging.getLogger(__name__)

_TEST = ErrorDomain.TEST
_DOM = ErrorDomain.DOMAIN
_AFFECT = AFFECT_LIVE | AFFECT_CONFIG
_STRING_OKAY = 4
_MEMORY_PARAMS = ("hard_limit", "soft_limit", "swap_hard_limit")
_BLKIO_PARAMS = {
    "device_weight": "weight",
    "device_read_iops_sec": "read_iops_sec",
    "device_write_iops_sec": "write_iops_sec",
    "device_read_bytes_sec": "read_bytes_sec",
    "device_write_bytes_sec": "write_bytes_sec",
}
_BANDWIDTH_PARAMS = ("inbound.average", "inbound.peak", "inbound.burst", "inbound.floor",
                     "outbound.average", "outbound.peak", "outbound.burst")  # fmt: skip
_IOTUNE_MAX = 1_000_000_000_000_000


def _blkio_devices(name: str, text: str) -> list[tuple[str, int]]:
    """``virDomainDriverParseBlkioDeviceStr``: ``"path,value,..."`` as (path, value) pairs."""
    if not text:
        return []
    parts = text.split(",")
    if len(parts) % 2:
        raise InvalidArgError(f"unable to parse blkio device '{name}' '{text}'", domain=_DOM)
    out = []
    for path, raw in zip(parts[::2], parts[1::2], strict=True):
        if not path or not raw.isdigit():
            raise InvalidArgError(
                f"invalid value '{raw}' for parameter '{name}' of device '{path}'", domain=_DOM
            )
        out.append((path, int(raw)))
    return out


class TunableCalls(DomainTableBase):
    """Memory, NUMA, block I/O, interface bandwidth and disk I/O limit parameters."""

    # -- memory -------------------------------------------------------------------------

    def domain_get_memory_parameters(
        self, conn: Connection, dom: Domain, flags: int
    ) -> dict[str, int]:
        """Hard, soft and swap limits in KiB (unset ones are "unlimited")."""
        check_flags(flags, _AFFECT | _STRING_OKAY, "testDomainGetMemoryParameters")
        with self.state.lock:
            definition, _ = self._one_def(self._obj(dom), flags & _AFFECT)
            memtune = definition.tuning.resources.memtune
            return {name: memtune.get(name, UNLIMITED) for name in _MEMORY_PARAMS}

    def domain_set_memory_parameters(
        self, conn: Connection, dom: Domain, params: Mapping[str, Any], flags: int
    ) -> None:
        """Set memory limits (KiB); the hard limit may not exceed the swap limit."""
        check_flags(flags, _AFFECT, "testDomainSetMemoryParameters")
        validate_params(params, dict.fromkeys(_MEMORY_PARAMS, "ullong"))
        with self.state.lock:
            obj = self._obj(dom)
            definition, _ = self._one_def(obj, flags)
            if "hard_limit" in params or "swap_hard_limit" in params:
                live = obj.def_.tuning.resources.memtune
                hard = params.get("hard_limit", live.get("hard_limit", UNLIMITED))
                swap = params.get("swap_hard_limit", live.get("swap_hard_limit", UNLIMITED))
                if hard > swap:
                    raise InvalidArgError(
                        "memory hard_limit tunable value must be lower than or equal to "
                        "swap_hard_limit",
                        domain=_TEST,
                    )
            for name, value in params.items():
                definition.tuning.resources.memtune[name] = min(int(value), UNLIMITED)

    # -- NUMA ---------------------------------------------------------------------------

    def domain_get_numa_parameters(
        self, conn: Connection, dom: Domain, flags: int
    ) -> dict[str, int | str]:
        """The NUMA memory mode (strict unless set) and node set."""
        check_flags(flags, _AFFECT | _STRING_OKAY, "testDomainGetNumaParameters")
        with self.state.lock:
            definition, _ = self._one_def(self._obj(dom), flags & _AFFECT)
            numa = definition.tuning.resources.numa
            mode = numa.mode if numa.specified else 0
            nodeset = numa.nodeset if numa.specified and numa.placement == "static" else None
            return {
                "numa_mode": mode,
                "numa_nodeset": format_cpuset(nodeset) if nodeset is not None else "",
            }

    def domain_set_numa_parameters(
        self, conn: Connection, dom: Domain, params: Mapping[str, Any], flags: int
    ) -> None:
        """Set the NUMA memory mode and/or node set (``virDomainNumatuneSet`` rules)."""
        check_flags(flags, _AFFECT, "testDomainSetNumaParameters")
        validate_params(params, {"numa_mode": "int", "numa_nodeset": "string"})
        with self.state.lock:
            definition, live = self._one_def(self._obj(dom), flags)
            mode: int | None = None
            nodeset: frozenset[int] | None = None
            for name, value in params.items():
                if name == "numa_mode":
                    if not 0 <= value < len(NUMA_MODES):
                        raise InvalidArgError(f"unsupported numatune mode: '{value}'", domain=_TEST)
                    mode = int(value)
                else:
                    nodeset = _parse_nodeset(str(value))
            numa = definition.tuning.resources.numa
            if live and mode is not None and numa.specified and numa.mode != mode:
                raise OperationInvalidError(
                    "can't change numatune mode for running domain", domain=_TEST
                )
            if mode is None and nodeset is None:
                return
            new_nodeset = nodeset if nodeset is not None else numa.nodeset
            placement = "static" if nodeset is not None else (
                numa.placement if numa.specified else "default"
            )  # fmt: skip
            if placement == "default":
                static = definition.vcpu_attrs.get("placement", "static") == "static"
                placement = "static" if new_nodeset is not None or static else "auto"
            if placement == "static" and new_nodeset is None:
                raise ConfigUnsupportedError(
                    "nodeset for NUMA memory tuning must be set if 'placement' is 'static'",
                    domain=_DOM,
                )
            if mode is not None:
                numa.mode = mode
            numa.nodeset = new_nodeset
            numa.placement = placement
            numa.specified = True

    # -- block I/O weights ------------------------------------------------------------------

    def domain_get_blkio_parameters(
        self, conn: Connection, dom: Domain, flags: int
    ) -> dict[str, int | str]:
        """The block I/O weight and the per-device figures as ``"path,value,..."`` strings."""
        check_flags(flags, _AFFECT | _STRING_OKAY, "testDomainGetBlkioParameters")
        with self.state.lock:
            definition, _ = self._one_def(self._obj(dom), flags & _AFFECT)
            resources = definition.tuning.resources
            out: dict[str, int | str] = {"weight": resources.blkio_weight}
            for param, field_name in _BLKIO_PARAMS.items():
                out[param] = ",".join(
                    f"{dev.path},{dev.value(field_name)}"
                    for dev in resources.blkio_devices
                    if dev.value(field_name)
                )
            return out

    def domain_set_blkio_parameters(
        self, conn: Connection, dom: Domain, params: Mapping[str, Any], flags: int
    ) -> None:
        """Set the weight and merge per-device figures into the existing ones."""
        check_flags(flags, _AFFECT, "testDomainSetBlkioParameters")
        validate_params(params, {"weight": "uint", **dict.fromkeys(_BLKIO_PARAMS, "string")})
        with self.state.lock:
            definition, _ = self._one_def(self._obj(dom), flags)
            resources = definition.tuning.resources
            for name, value in params.items():
                if name == "weight":
                    resources.blkio_weight = int(value)
                    continue
                field_name = _BLKIO_PARAMS[name]
                for path, figure in _blkio_devices(name, str(value)):
                    found = next((d for d in resources.blkio_devices if d.path == path), None)
                    if found is not None:
                        found.values[field_name] = figure
                    elif figure:
                        resources.blkio_devices.append(BlkioDevice(path, {field_name: figure}))

    # -- interface bandwidth --------------------------------------------------------------

    def domain_get_interface_parameters(
        self, conn: Connection, dom: Domain, device: str, flags: int
    ) -> dict[str, int]:
        """An interface's inbound and outbound average, peak, burst (and inbound floor)."""
        check_flags(flags, _AFFECT | _STRING_OKAY, "testDomainGetInterfaceParameters")
        with self.state.lock:
            definition, _ = self._one_def(self._obj(dom), flags & _AFFECT)
            bandwidth = child(find_net(definition, device), "bandwidth")
            out = {}
            for param in _BANDWIDTH_PARAMS:
                direction, _, attr = param.partition(".")
                rate = child(bandwidth, direction) if bandwidth is not None else None
                out[param] = int(rate.get(attr, "0")) if rate is not None else 0
            return out

    def domain_set_interface_parameters(
        self,
        conn: Connection,
        dom: Domain,
        device: str,
        params: Mapping[str, Any],
        flags: int,
    ) -> None:
        """Replace (or clear) an interface's inbound and/or outbound rates."""
        check_flags(flags, _AFFECT, "testDomainSetInterfaceParameters")
        validate_params(params, dict.fromkeys(_BANDWIDTH_PARAMS, "uint"))
        with self.state.lock:
            definition, _ = self._one_def(self._obj(dom), flags)
            net = find_net(definition, device)
            new: dict[str, dict[str, int]] = {"inbound": {}, "outbound": {}}
            for name, value in params.items():
                direction, _, attr = name.partition(".")
                new[direction][attr] = int(value)
            specified = {
                "inbound": "average" in new["inbound"] or "floor" in new["inbound"],
                "outbound": "average" in new["outbound"],
            }
            keep = {
                "inbound": bool(new["inbound"].get("average") or new["inbound"].get("floor")),
                "outbound": bool(new["outbound"].get("average")),
            }
            bandwidth = child(net, "bandwidth")
            if bandwidth is None:
                bandwidth = etree.SubElement(net, "bandwidth")
            for direction in ("inbound", "outbound"):
                current = child(bandwidth, direction)
                if (keep[direction] or specified[direction]) and current is not None:
                    bandwidth.remove(current)
                if keep[direction]:
                    rate = etree.SubElement(bandwidth, direction)
                    for attr in BANDWIDTH_ATTRS:
                        if new[direction].get(attr):
                            rate.set(attr, str(new[direction][attr]))
            normalize_bandwidth(bandwidth)
            definition.replace_devices(list(definition.devices))

    # -- disk I/O limits --------------------------------------------------------------------

    def domain_get_block_io_tune(
        self, conn: Connection, dom: Domain, disk: str, flags: int
    ) -> dict[str, int | str]:
        """A disk's 20 I/O limits (0 or ``""`` when unset)."""
        check_flags(flags, _AFFECT | _STRING_OKAY, "testDomainGetBlockIoTune")
        with self.state.lock:
            definition, _ = self._one_def(self._obj(dom), flags & _AFFECT)
            return _iotune_values(_disk(definition, disk))

    def domain_set_block_io_tune(
        self,
        conn: Connection,
        dom: Domain,
        disk: str,
        params: Mapping[str, Any],
        flags: int,
    ) -> None:
        """Change a disk's I/O limits, checked like libvirt's test driver checks them."""
        check_flags(flags, _AFFECT, "testDomainSetBlockIoTune")
        allowed = dict.fromkeys(IOTUNE_FIELDS, "ullong")
        allowed["group_name"] = "string"
        validate_params(params, allowed)
        with self.state.lock:
            definition, _ = self._one_def(self._obj(dom), flags)
            target = _disk(definition, disk)
            info = _iotune_values(target)
            for name, value in params.items():
                if name != "group_name" and int(value) > _IOTUNE_MAX:
                    raise ArgumentUnsupportedError(
                        f"block I/O throttle limit value must be no more than {_IOTUNE_MAX}",
                        domain=_TEST,
                    )
                info[name] = value
            _check_iotune(info)
            iotune = child(target, "iotune")
            if iotune is None:
                iotune = etree.SubElement(target, "iotune")
            # An empty group name stays printed once set (libvirt keeps "" apart from NULL).
            blank_group = "group_name" in params or any(
                sub.text == "" for sub in children(iotune, "group_name")
            )
            for sub in list(iotune):
                iotune.remove(sub)
            for name in IOTUNE_FIELDS:
                if name != "group_name" or info[name] or blank_group:
                    etree.SubElement(iotune, name).text = str(info[name])
            normalize_iotune(iotune)
            if not len(iotune):
                target.remove(iotune)
            definition.replace_devices(list(definition.devices))


def _parse_nodeset(text: str) -> frozenset[int]:
    try:
        nodeset = parse_cpuset(text, "nodeset")
    except VirtError:
        raise InvalidArgError(f"Failed to parse bitmap '{text}'", domain=ErrorDomain.NONE) from None
    if not nodeset:
        raise OperationInvalidError(f"Invalid nodeset of 'numatune': {text}", domain=_TEST)
    return nodeset


def _disk(definition: DomainDef, path: str) -> etree._Element:
    found = find_disk(definition, path)
    if found is None:
        raise InvalidArgError(f"disk '{path}' was not found in the domain config", domain=_TEST)
    return found


def _iotune_values(disk: etree._Element) -> dict[str, int | str]:
    iotune = child(disk, "iotune")
    out: dict[str, int | str] = {}
    for name in IOTUNE_FIELDS:
        elem = child(iotune, name) if iotune is not None else None
        text = (elem.text or "").strip() if elem is not None else ""
        out[name] = text if name == "group_name" else int(text or 0)
    return out


def _check_iotune(info: dict[str, int | str]) -> None:
    """The consistency checks of ``testDomainSetBlockIoTune``."""
    for kind in ("bytes_sec", "iops_sec", "bytes_sec_max", "iops_sec_max"):
        if info[f"total_{kind}"] and (info[f"read_{kind}"] or info[f"write_{kind}"]):
            raise InvalidArgError(
                f"total and read/write of {kind} cannot be set at the same time", domain=_TEST
            )
    for kind in ("bytes_sec", "iops_sec"):
        for direction in ("total", "read", "write"):
            value, limit = info[f"{direction}_{kind}"], info[f"{direction}_{kind}_max"]
            if int(value) > int(limit):
                # libvirt's message ends with a blank.
                raise InvalidArgError(
                    f"{direction}_{kind} cannot be set higher than {direction}_{kind}_max ",
                    domain=_TEST,
                )
