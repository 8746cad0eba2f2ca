"""A drop-in replacement for libvirt-python 9.0's ``libvirt_lxc`` module.

``import virtcore.libvirt_lxc as libvirt_lxc`` next to
``import virtcore.libvirt as libvirt``.

* ``lxcOpenNamespace(domain, flags)`` → the hypervisor table's
  ``domain_lxc_open_namespace(conn, dom, flags)``: file descriptors of the
  container's namespaces (a driver without containers answers NO_SUPPORT).
* ``lxcEnterCGroup(domain, flags)`` → ``domain_lxc_enter_cgroup(conn, dom, flags)``:
  moves the calling process into the container's cgroups.

libvirt also has two client-side calls that libvirt-python 9.0 does not bind;
they are provided here for completeness:

* ``lxcEnterNamespace(fdlist, flags=0)`` joins the namespaces given as file
  descriptors (``setns(2)``) and returns descriptors of the namespaces left.
* ``lxcEnterSecurityLabel(model, label, flags=0)`` makes the next ``exec`` run
  under the container's security label (SELinux or AppArmor); *model* and
  *label* are shaped like ``virConnect.getSecurityModel()`` and
  ``virDomain.securityLabel()``. The model ``"none"`` needs nothing.
"""

# libvirt-python's camelCase names and signatures are the API reproduced here.
# ruff: noqa: N802

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from typing import Any

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import OperationInvalidError, SystemCallError, VirtError
from virtcore.libvirt import virDomain
from virtcore.libvirt._errors import error_for, raise_from, reset_last_error

__all__ = ["lxcEnterCGroup", "lxcEnterNamespace", "lxcEnterSecurityLabel", "lxcOpenNamespace"]

logger = logging.getLogger(__name__)

_NAMESPACES = ("user", "ipc", "uts", "net", "pid", "mnt")


def _invoke(domain: virDomain, method: str, api: str, *args: Any) -> Any:
    conn = domain.connect()
    reset_last_error()
    try:
        return conn._c._invoke("hypervisor", method, api, domain._o, *args, write=True)
    except VirtError as exc:
        raise raise_from(exc, api, conn) from None


def lxcOpenNamespace(domain: virDomain, flags: int) -> list[int]:
    """File descriptors of the container's namespaces, for ``setns()``.

    (``virDomainLxcOpenNamespace``)
    """
    return [
        int(fd)
        for fd in _invoke(domain, "domain_lxc_open_namespace", "virDomainLxcOpenNamespace", flags)
    ]


def lxcEnterCGroup(domain: virDomain, flags: int) -> int:
    """Move the calling process into the container's cgroups (``virDomainLxcEnterCGroup``)."""
    result = _invoke(domain, "domain_lxc_enter_cgroup", "virDomainLxcEnterCGroup", flags)
    return 0 if result is None else int(result)


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    if libc.setns(fd, 0) != 0:
        err = ctypes.get_errno()
        raise SystemCallError.from_os_error(
            "Unable to join namespace", OSError(err, os.strerror(err)), domain=ErrorDomain.NONE
        )


def lxcEnterNamespace(fdlist: list[int], flags: int = 0) -> list[int]:
    """Join the namespaces *fdlist* refers to; returns descriptors of the ones left.

    (``virDomainLxcEnterNamespace``; not bound by libvirt-python 9.0.) The
    caller closes the returned descriptors.
    """
    reset_last_error()
    if flags:
        raise error_for(
            ErrorNumber.INVALID_ARG,
            f"unsupported flags (0x{flags:x}) in function virDomainLxcEnterNamespace",
            "virDomainLxcEnterNamespace",
        )
    old: list[int] = []
    try:
        for name in _NAMESPACES:
            path = f"/proc/self/ns/{name}"
            if os.path.exists(path):
                old.append(os.open(path, os.O_RDONLY))
        for fd in fdlist:
            _setns(fd)
    except OSError as exc:
        _close_all(old)
        raise raise_from(
            SystemCallError.from_os_error("Unable to open namespace", exc),
            "virDomainLxcEnterNamespace",
        ) from None
    except VirtError as exc:
        _close_all(old)
        raise raise_from(exc, "virDomainLxcEnterNamespace") from None
    return old


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            logger.debug("closing namespace descriptor %d failed", fd)


def lxcEnterSecurityLabel(model: list[Any], label: list[Any], flags: int = 0) -> list[Any]:
    """Run the next ``exec`` under *label*; returns the previous ``[label, enforcing]``.

    (``virDomainLxcEnterSecurityLabel``; not bound by libvirt-python 9.0.)
    """
    reset_last_error()
    api = "virDomainLxcEnterSecurityLabel"
    name = str(model[0]) if model else "none"
    try:
        if name == "none":
            return ["", 0]
        if name == "selinux":
            previous = _read_attr("/proc/thread-self/attr/current")
            _write_attr("/proc/thread-self/attr/exec", str(label[0]))
            return [previous, 1]
        if name == "apparmor":
            previous = _read_attr("/proc/self/attr/current")
            _write_attr("/proc/self/attr/exec", f"exec {label[0]}")
            return [previous, 1]
        raise OperationInvalidError(f"Security model {name} cannot be entered")
    except OSError as exc:
        raise raise_from(
            SystemCallError.from_os_error(f"unable to set {name} label", exc), api
        ) from None
    except VirtError as exc:
        raise raise_from(exc, api) from None


def _read_attr(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read().rstrip("\0\n")


def _write_attr(path: str, value: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(value)
