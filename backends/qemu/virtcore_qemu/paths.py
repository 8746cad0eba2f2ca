"""Where the QEMU driver keeps each domain's files, under the driver's :class:`StatePaths`.

Layout (``P`` = ``StatePaths.for_driver("qemu", ...)``; for ``qemu:///embed?root=R``
that is ``R/etc/qemu``, ``R/run/qemu``, ...):

==================================  ==============================================
``P.config_dir/<name>.xml``          persistent definition (libvirt: /etc/libvirt/qemu)
``P.config_dir/autostart/<name>.xml``  autostart symlink to the definition
``P.state_dir/<name>.xml``           live status XML (``<domstatus>``) of a running guest
``P.state_dir/<name>.pid``           QEMU's ``-pidfile``
``P.data_dir/domain-<id>-<short>/``  per-guest private directory (monitor socket)
``P.data_dir/save/<name>.save``      managed save images
``P.log_dir/<name>.log``             QEMU's stdout/stderr, appended per start
``P.cache_dir/capabilities/``        probed QEMU capabilities
==================================  ==============================================

``<short>`` is the name cut to 20 characters, as libvirt's
``virDomainDefGetShortName`` does, so deep embed roots keep their paths short.

Paths on UNIX sockets are limited to 107 bytes (``sun_path``); :data:`SUN_PATH_MAX`
is what :mod:`virtcore_qemu.monitor` checks before binding or connecting directly.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from virtcore.store import StatePaths, safe_object_path

__all__ = [
    "DRIVER_NAME",
    "SUN_PATH_MAX",
    "DomainPaths",
    "domain_paths",
    "short_name",
]

log = logging.getLogger(__name__)

#: The state driver's name and the ``StatePaths`` directory name.
DRIVER_NAME = "qemu"

#: Longest socket path ``bind``/``connect`` accept (``sizeof(sun_path) - 1``).
SUN_PATH_MAX = 107

_SHORT_NAME_LEN = 20


def short_name(name: str) -> str:
    """The first 20 characters of *name* (libvirt's ``virDomainDefGetShortName``)."""
    return name[:_SHORT_NAME_LEN]


class DomainPaths:
    """The files of one domain; *name* has already been checked to be a safe file name."""

    def __init__(self, paths: StatePaths, name: str) -> None:
        self.paths = paths
        self.name = name

    @property
    def config(self) -> Path:
        """The persistent definition."""
        return safe_object_path(self.paths.config_dir, self.name)

    @property
    def status(self) -> Path:
        """The live status XML."""
        return safe_object_path(self.paths.state_dir, self.name)

    @property
    def pidfile(self) -> Path:
        """QEMU's pid file."""
        return safe_object_path(self.paths.state_dir, self.name, ".pid")

    @property
    def log(self) -> Path:
        """The log QEMU's output is appended to."""
        return safe_object_path(self.paths.log_dir, self.name, ".log")

    @property
    def managed_save(self) -> Path:
        """The managed save image."""
        return safe_object_path(self.paths.data_dir / "save", self.name, ".save")

    def lib_dir(self, dom_id: int) -> Path:
        """The private directory of the guest running with id *dom_id*."""
        return self.paths.data_dir / f"domain-{dom_id}-{short_name(self.name)}"

    def chardev_dir(self, dom_id: int) -> Path:
        """Where channel sockets of the running guest live."""
        return self.lib_dir(dom_id) / "channel"


def domain_paths(paths: StatePaths, name: str) -> DomainPaths:
    """The files of domain *name* under *paths*."""
    return DomainPaths(paths, name)


def fits_sun_path(path: str | os.PathLike[str]) -> bool:
    """Whether *path* can be used directly as a UNIX socket address."""
    return len(os.fsencode(path)) <= SUN_PATH_MAX
