"""Platform devices: IOMMU, TPM, panic notifier, shared memory and vsock.

Written where libvirt 9.0 writes them in ``qemuBuildCommandLine``:

* ``intel-iommu`` (``iommu0``) right after ``-boot``, with the ``<driver>``
  options (``intremap`` and ``eim`` as ``on``/``off`` strings,
  ``caching-mode``, ``device-iotlb`` booleans, ``aw-bits``);
* TPMs after the consoles: ``-tpmdev emulator`` (``tpm-tpmN``) on chardev
  ``chrtpm``, the socket of the ``swtpm`` the driver started
  (``CommandContext.tpm_socket``), and the ``tpm-tis``/``tpm-crb`` front-end;
* after ``-sandbox``: the ISA ``pvpanic`` device (``<panic model='isa'>``;
  the Hyper-V notifier is the ``hv-crash`` CPU flag, see :mod:`.cpu`),
  ``ivshmem-plain`` with its ``/dev/shm/NAME`` backend (``shmmem-NAME``) and
  ``ivshmem-doorbell`` with its server chardev (``charshmemN``), then
  ``vhost-vsock-pci`` on the ``/dev/vhost-vsock`` descriptor the driver
  opened (``CommandContext.vsock_fd``).
"""

from __future__ import annotations

import logging
from typing import Any

from virtcore.xml.units import parse_memory
from virtcore_qemu.command.common import Build, attr_int, pci_props, unsupported
from virtcore_qemu.command.escape import escape, json_arg, keyval

__all__ = ["build_iommu", "build_panic", "build_shmems", "build_tpms", "build_vsock"]

logger = logging.getLogger(__name__)

_TPM_MODELS = {"tpm-tis": "tpm-tis", "tpm-crb": "tpm-crb"}


def _on_off(value: str | None) -> str | None:
    return value if value in ("on", "off") else None


def _bool(value: str | None) -> bool | None:
    return None if value not in ("on", "off") else value == "on"


def build_iommu(build: Build) -> None:
    """Append the IOMMU device."""
    iommu = build.devices.find("iommu")
    if iommu is None:
        return
    model = iommu.get("model")
    if model != "intel":
        raise unsupported(f"IOMMU model '{model}' is not supported")
    driver = iommu.find("driver")
    props: dict[str, Any] = {"driver": "intel-iommu", "id": build.alias(iommu)}
    if driver is not None:
        props.update(
            {
                "intremap": _on_off(driver.get("intremap")),
                "caching-mode": _bool(driver.get("caching_mode")),
                "eim": _on_off(driver.get("eim")),
                "device-iotlb": _bool(driver.get("iotlb")),
                "aw-bits": attr_int(driver, "aw_bits") or None,
            }
        )
    build.add("-device", json_arg(props))


def build_tpms(build: Build) -> None:
    """Append each emulated TPM: chardev, ``-tpmdev emulator`` and the front-end."""
    for tpm in build.devices.findall("tpm"):
        backend = tpm.find("backend")
        kind = backend.get("type") if backend is not None else None
        if kind != "emulator":
            raise unsupported(f"TPM backend type '{kind}' is not supported")
        model = _TPM_MODELS.get(tpm.get("model") or "tpm-tis")
        if model is None:
            raise unsupported(f"TPM model '{tpm.get('model')}' is not supported")
        socket = build.ctx.tpm_socket
        if socket is None:
            raise unsupported("an emulated TPM needs the socket of a running swtpm")
        build.add("-chardev", f"socket,id=chrtpm,path={escape(socket)}")
        alias = build.alias(tpm)
        build.add("-tpmdev", keyval("emulator", [("id", f"tpm-{alias}"), ("chardev", "chrtpm")]))
        build.add("-device", json_arg({"driver": model, "tpmdev": f"tpm-{alias}", "id": alias}))


def build_panic(build: Build) -> None:
    """Append the ISA panic notifier (``pvpanic``)."""
    for panic in build.devices.findall("panic"):
        model = panic.get("model") or "isa"
        if model == "hyperv":
            continue
        if model != "isa":
            raise unsupported(f"panic model '{model}' is not supported")
        address = panic.find("address")
        iobase = attr_int(address, "iobase") if address is not None else 0
        build.add("-device", json_arg({"driver": "pvpanic", "ioport": iobase or None}))


def build_shmems(build: Build) -> None:
    """Append each ivshmem device (and the back-end it needs)."""
    for shmem in build.devices.findall("shmem"):
        name = shmem.get("name") or ""
        model_node = shmem.find("model")
        model = model_node.get("type") if model_node is not None else "ivshmem-plain"
        alias = build.alias(shmem)
        if model == "ivshmem-plain":
            size = shmem.find("size")
            if size is None:
                raise unsupported("ivshmem-plain needs a <size>")
            kib = parse_memory(size.text, size.get("unit")) or 0
            backend = f"shmmem-{alias}"
            build.add(
                "-object",
                json_arg(
                    {
                        "qom-type": "memory-backend-file",
                        "id": backend,
                        "mem-path": f"/dev/shm/{name}",
                        "size": kib * 1024,
                        "share": True,
                    }
                ),
            )
            props = {"driver": model, "id": alias, "memdev": backend, **pci_props(build, shmem)}
            build.add("-device", json_arg(props))
        elif model == "ivshmem-doorbell":
            server = shmem.find("server")
            path = server.get("path") if server is not None else None
            if not path:
                raise unsupported("ivshmem-doorbell needs a <server path=...>")
            msi = shmem.find("msi")
            chardev = f"char{alias}"
            props = {
                "driver": model,
                "id": alias,
                "chardev": chardev,
                "vectors": attr_int(msi, "vectors") or None,
                "ioeventfd": _bool(msi.get("ioeventfd")) if msi is not None else None,
                **pci_props(build, shmem),
            }
            build.add("-device", json_arg(props))
            build.add("-chardev", f"socket,id={chardev},path={escape(path)}")
        else:
            raise unsupported(f"shmem model '{model}' is not supported")


def build_vsock(build: Build) -> None:
    """Append the vsock device on the driver's ``/dev/vhost-vsock`` descriptor."""
    vsock = build.devices.find("vsock")
    if vsock is None:
        return
    if (vsock.get("model") or "virtio") != "virtio":
        raise unsupported(f"vsock model '{vsock.get('model')}' is not supported")
    cid = vsock.find("cid")
    if cid is None or not cid.get("address"):
        raise unsupported("vsock needs a guest CID (<cid address='N'/>)")
    if build.ctx.vsock_fd is None:
        raise unsupported("vsock needs an open /dev/vhost-vsock descriptor")
    props = {
        "driver": "vhost-vsock-pci",
        "id": build.alias(vsock),
        "guest-cid": attr_int(cid, "address"),
        "vhostfd": str(build.ctx.vsock_fd),
        **pci_props(build, vsock),
    }
    build.add("-device", json_arg(props))
