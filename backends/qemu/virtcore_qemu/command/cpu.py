"""``-cpu``: the model, its feature flags and the hypervisor flags libvirt adds to it.

Written as ``qemuBuildCpuCommandLine`` writes it: the model (``host`` for
host-passthrough, ``max`` for maximum, then ``migratable=on|off``), each
``<feature>`` as ``name=on|off`` by policy, then the timer flags
(``kvmclock=on|off``, ``hv-time=on`` for the Hyper-V clock,
``tsc-frequency=N``), the paravirtual EOI and spinlock flags (``kvm-pv-eoi``,
``kvm-pv-unhalt``), the enabled Hyper-V enlightenments in libvirt's order
(``hv-spinlocks=0xN``, ``hv-vendor-id=ID``, ``hv-stimer-direct`` after
``hv-stimer``; ``hv-passthrough=on`` in passthrough mode), ``hv-crash`` for
a Hyper-V panic notifier, the KVM flags (``kvm=off`` to hide KVM,
``kvm-hint-dedicated``, ``kvm-poll-control``, ``kvm-pv-ipi``) and
``pmu=on|off``.
"""

from __future__ import annotations

import logging

from lxml import etree

from virtcore_qemu.command.common import Build, attr_int, unsupported
from virtcore_qemu.command.escape import keyval

__all__ = ["build_cpu"]

logger = logging.getLogger(__name__)

_ON = {"require": "on", "force": "on", "optional": "on", "disable": "off", "forbid": "off"}
_HYPERV = (
    "relaxed", "vapic", "spinlocks", "vpindex", "runtime", "synic", "stimer", "reset",
    "vendor_id", "frequencies", "reenlightenment", "tlbflush", "ipi", "evmcs", "avic",
)  # fmt: skip
"""Hyper-V enlightenments in libvirt's enum order, the order they are written."""
_KVM = {"hidden": None, "hint-dedicated": "kvm-hint-dedicated", "poll-control": "kvm-poll-control",
        "pv-ipi": "kvm-pv-ipi"}  # fmt: skip


def _state(node: etree._Element | None) -> str | None:
    return node.get("state") if node is not None else None


def _model(build: Build) -> str | None:
    cpu = build.root.find("cpu")
    mode = (cpu.get("mode") if cpu is not None else None) or "custom"
    if mode == "host-passthrough":
        return "host"
    if mode == "maximum":
        return "max"
    if mode == "host-model":
        raise unsupported("host-model CPU mode needs a probed host CPU model")
    model = (cpu.findtext("model") or "").strip() if cpu is not None else ""
    return model or None


def build_cpu(build: Build) -> None:
    """Append ``-cpu`` when the domain names a model (or needs flags on the default one)."""
    model = _model(build)
    pairs: list[tuple[str, object | None]] = []
    cpu = build.root.find("cpu")
    migratable = cpu.get("migratable") if cpu is not None else None
    if model in ("host", "max") and migratable in ("on", "off"):
        pairs.append(("migratable", migratable == "on"))
    for feature in build.root.findall("cpu/feature"):
        name = feature.get("name")
        if name:
            pairs.append((name, _ON.get(feature.get("policy") or "require", "on")))
    pairs += _timer_flags(build)
    apic = build.root.find("features/apic")
    eoi = apic.get("eoi") if apic is not None else None
    if eoi in ("on", "off"):
        pairs.append(("kvm-pv-eoi", eoi == "on"))
    unhalt = _state(build.root.find("features/pvspinlock"))
    if unhalt in ("on", "off"):
        pairs.append(("kvm-pv-unhalt", unhalt == "on"))
    flags = _hyperv_flags(build)
    if any(panic.get("model") == "hyperv" for panic in build.devices.findall("panic")):
        flags.append("hv-crash")
    flags += _kvm_flags(build)
    pmu = _state(build.root.find("features/pmu"))
    if pmu in ("on", "off"):
        flags.append(f"pmu={pmu}")
    if model is None:
        if pairs or flags:
            raise unsupported("CPU flags need a CPU model")
        return
    text = keyval(model, pairs)
    build.add("-cpu", ",".join([text, *flags]))


def _timer_flags(build: Build) -> list[tuple[str, object | None]]:
    pairs: list[tuple[str, object | None]] = []
    for timer in build.root.findall("clock/timer"):
        name = timer.get("name")
        present = timer.get("present")
        if name == "kvmclock" and present in ("yes", "no"):
            pairs.append(("kvmclock", present == "yes"))
        elif name == "hypervclock" and present == "yes":
            pairs.append(("hv-time", True))
        elif name == "tsc" and timer.get("frequency"):
            pairs.append(("tsc-frequency", attr_int(timer, "frequency")))
    return pairs


def _hyperv_flags(build: Build) -> list[str]:
    hyperv = build.root.find("features/hyperv")
    if hyperv is None:
        return []
    mode = hyperv.get("mode") or "custom"
    if mode == "passthrough":
        return ["hv-passthrough=on"]
    for child in hyperv.iterchildren("*"):
        if child.tag not in _HYPERV:
            raise unsupported(f"Hyper-V enlightenment '{child.tag}' is not supported")
    flags: list[str] = []
    for name in _HYPERV:
        node = hyperv.find(name)
        if _state(node) != "on":
            continue
        assert node is not None
        if name == "spinlocks":
            flags.append(f"hv-spinlocks=0x{attr_int(node, 'retries', 0x1FFF):x}")
        elif name == "vendor_id":
            flags.append(keyval(None, [("hv-vendor-id", node.get("value") or "")]))
        else:
            flags.append(f"hv-{name}=on")
            if name == "stimer" and _state(node.find("direct")) == "on":
                flags.append("hv-stimer-direct=on")
    return flags


def _kvm_flags(build: Build) -> list[str]:
    kvm = build.root.find("features/kvm")
    if kvm is None:
        return []
    flags: list[str] = []
    for child in kvm.iterchildren("*"):
        name = str(child.tag)
        if name not in _KVM:
            raise unsupported(f"<features><kvm><{name}> is not supported by the QEMU command line")
        state = _state(child)
        if name == "hidden":
            if state == "on":
                flags.append("kvm=off")
        elif state in ("on", "off"):
            flags.append(f"{_KVM[name]}={state}")
    return flags
