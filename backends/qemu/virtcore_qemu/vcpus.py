"""Live vCPU counts in both directions: hot-plug (see :mod:`virtcore_qemu.hotplug`) and unplug.

libvirt 9.0's ``qemuDomainSetVcpusLive`` lowering the count of a running
guest (``qemuDomainSelectHotplugVcpuEntities`` then
``qemuDomainHotplugDelVcpu``):

* the vCPUs to remove are picked from the highest id down, never vCPU 0,
  among the online ones QEMU created as devices (hot-plugged, or started as
  ``hotpluggable='yes'``: their ``qom-path`` is under
  ``/machine/peripheral/``); vCPUs from ``-smp`` cannot leave, and when the
  target cannot be reached libvirt's ``VIR_ERR_CONFIG_UNSUPPORTED`` "failed to
  find appropriate hotpluggable vcpus to reach the desired target vcpu count"
  is raised before anything changes;
* each is removed with ``device_del``: QEMU's refusal (a guest without ACPI,
  or whose firmware never switched to the modern CPU hot-plug interface)
  becomes libvirt's "unable to execute QEMU command 'device_del': ..."; then
  ``DEVICE_DELETED`` is awaited for 5 s (libvirt's wait), after which libvirt's
  ``VIR_ERR_OPERATION_TIMEOUT`` "vcpu unplug request timed out. Unplug result
  must be manually inspected in the domain" is raised;
* every completed removal lowers the live ``<vcpu current=...>`` and is saved
  in the status file at once;
* a vCPU whose ``DEVICE_DELETED`` comes after the wait (the guest released
  it late) is removed then (``processDeviceDeletedEvent`` ->
  ``qemuDomainRemoveVcpuAlias``): :func:`complete_vcpu_removal` reads the
  online vCPUs back from QEMU, lowers ``<vcpu current>`` to that count and
  saves the status.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import ConfigUnsupportedError, OperationFailedError, OperationTimeoutError
from virtcore_qemu.hotplug import VcpuCalls

if TYPE_CHECKING:
    from virtcore.xml.domain import Domain as DomainDef
    from virtcore_qemu.domobj import DomainObj
    from virtcore_qemu.state import QemuDriver

__all__ = ["VCPU_REMOVAL_WAIT", "VcpuHotplugCalls", "complete_vcpu_removal"]

log = logging.getLogger(__name__)

_QEMU = ErrorDomain.QEMU
_PERIPHERAL = "/machine/peripheral/"
#: Seconds an unplug waits for QEMU's DEVICE_DELETED (libvirt: 5 s).
VCPU_REMOVAL_WAIT = 5.0


def _online(domain: DomainDef) -> tuple[int, int]:
    """(online, maximum) vCPUs of a definition."""
    vcpus = domain.definition().vcpus.vcpus
    return sum(1 for v in vcpus if v.online), len(vcpus)


def _slot_key(slot: dict[str, Any]) -> tuple[tuple[str, int], ...]:
    props = slot.get("props") or {}
    return tuple(sorted((str(k), int(v)) for k, v in props.items() if isinstance(v, int)))


def select_removals(slots: list[dict[str, Any]], current: int, target: int) -> list[str]:
    """``qemuDomainSelectHotplugVcpuEntities`` when lowering: device ids, highest first."""
    ordered = sorted(slots, key=_slot_key)
    chosen: list[str] = []
    remaining = current
    for index in range(len(ordered) - 1, 0, -1):
        if remaining == target:
            break
        path = str(ordered[index].get("qom-path") or "")
        if not path.startswith(_PERIPHERAL):
            continue  # offline, or created by -smp: not a device that can leave
        count = int(ordered[index].get("vcpus-count", 1))
        if remaining - count < target:
            continue
        chosen.append(path.removeprefix(_PERIPHERAL))
        remaining -= count
    if remaining != target:
        raise ConfigUnsupportedError(
            "failed to find appropriate hotpluggable vcpus to reach the desired target vcpu count",
            domain=_QEMU,
        )
    return chosen


class VcpuHotplugCalls(VcpuCalls):
    """:class:`~virtcore_qemu.hotplug.VcpuCalls` that also lowers a running guest's count."""

    def _hotplug(self, obj: DomainObj, nvcpus: int) -> None:
        live = obj.live
        assert live is not None
        current, _maximum = _online(live)
        if nvcpus >= current:
            super()._hotplug(obj, nvcpus)
            return
        self._unplug(obj, nvcpus)

    def _unplug(self, obj: DomainObj, nvcpus: int) -> None:
        monitor = obj.monitor
        live = obj.live
        assert live is not None
        if monitor is None or monitor.closed:
            raise OperationFailedError("domain is no longer running", domain=_QEMU)
        current, top = _online(live)
        slots = list(monitor.execute("query-hotpluggable-cpus") or [])
        for alias in select_removals(slots, current, nvcpus):
            key = f"DEVICE_DELETED:{alias}"
            with obj.lock:
                before = obj.seen.get(key, 0)
                # Marked before asking: an event racing the timeout still finds it.
                obj.pending_vcpu_removals.add(alias)
            try:
                monitor.execute("device_del", {"id": alias})
            except BaseException:
                with obj.lock:
                    obj.pending_vcpu_removals.discard(alias)
                raise
            deleted = obj.wait_event(key, before, VCPU_REMOVAL_WAIT)
            if not deleted:
                # Left pending: a late DEVICE_DELETED completes the removal.
                raise OperationTimeoutError(
                    "vcpu unplug request timed out. Unplug result must be manually "
                    "inspected in the domain",
                    domain=_QEMU,
                )
            current -= 1
            with obj.lock:
                obj.pending_vcpu_removals.discard(alias)
                _set_current(live, current, top)
                self.driver.save_status(obj)
        log.info("guest '%s' now has %d vCPUs", obj.name, nvcpus)


def _set_current(live: DomainDef, current: int, top: int) -> None:
    if current < top:
        live.vcpus_current = current
    else:
        del live.vcpus_current


def complete_vcpu_removal(driver: QemuDriver, obj: DomainObj, alias: str) -> None:
    """Finish the removal of vCPU *alias* QEMU reported late (the caller holds the job).

    The count is QEMU's: the vCPUs it still lists as present. A vCPU whose
    removal was already completed (its event came within the wait) changes
    nothing.
    """
    with obj.lock:
        if alias not in obj.pending_vcpu_removals:
            return
        obj.pending_vcpu_removals.discard(alias)
        monitor, live = obj.monitor, obj.live
    if monitor is None or monitor.closed or live is None:
        return
    slots = list(monitor.execute("query-hotpluggable-cpus") or [])
    present = sum(int(slot.get("vcpus-count", 1)) for slot in slots if slot.get("qom-path"))
    with obj.lock:
        current, top = _online(live)
        if present >= current:
            log.warning("vCPU '%s' of '%s' is still present after its removal", alias, obj.name)
            return
        _set_current(live, present, top)
        driver.save_status(obj)
    log.info("guest '%s' released vCPU '%s': %d vCPUs now", obj.name, alias, present)
