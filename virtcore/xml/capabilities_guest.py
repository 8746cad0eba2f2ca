"""The ``<guest>`` parts of the capabilities document: what a driver can run.

A :class:`Guest` names an OS type and an architecture with its word size,
default emulator/loader and machine types, the hypervisor domain types able
to run it (each possibly with its own emulator and machines) and the guest
features (``pae``, ``acpi default='on' toggle='yes'``, ...)::

    guest = caps.add_guest("hvm", "x86_64", wordsize=64, emulator="/usr/bin/qemu-system-x86_64")
    guest.add_machine("pc-i440fx-7.2", max_cpus=255)
    guest.add_machine("pc", canonical="pc-i440fx-7.2", max_cpus=255)
    guest.add_domain("kvm")
    guest.set_feature("acpi", default="on", toggle=True)
"""

from __future__ import annotations

import logging

from virtcore.errors import InvalidArgError
from virtcore.xml.builder import INT, YESNO, ChildList, XMLChildList, XMLNode, XMLProperty

__all__ = ["GUEST_FEATURES", "Guest", "GuestDomain", "GuestFeature", "Machine"]

logger = logging.getLogger(__name__)

GUEST_FEATURES = (
    "pae", "nonpae", "ia64_be", "acpi", "apic", "cpuselection", "deviceboot", "disksnapshot",
    "hap",
)  # fmt: skip
"""Guest features in the order libvirt 9.0 writes them (``virCapsGuestFeatureType``)."""


class Machine(XMLNode):
    """A machine type: ``<machine canonical='...' maxCpus='N'>name</machine>``."""

    TAG = "machine"
    canonical = XMLProperty("./@canonical")
    max_cpus = XMLProperty("./@maxCpus", INT)
    deprecated = XMLProperty("./@deprecated", YESNO)
    name = XMLProperty(".")


def _add_machine(
    machines: ChildList[Machine],
    name: str,
    canonical: str | None,
    max_cpus: int | None,
    deprecated: bool,
) -> Machine:
    machine = machines.append()
    machine.canonical = canonical
    # libvirt leaves out an unknown (zero) CPU limit.
    machine.max_cpus = max_cpus if max_cpus is not None and max_cpus > 0 else None
    machine.deprecated = True if deprecated else None
    machine.name = name
    return machine


class GuestDomain(XMLNode):
    """A hypervisor able to run the guest, with its own emulator/loader/machines if any."""

    TAG = "domain"
    type = XMLProperty("./@type")
    emulator = XMLProperty("./emulator")
    loader = XMLProperty("./loader")
    machines = XMLChildList(Machine, "./machine")

    def add_machine(
        self,
        name: str,
        *,
        canonical: str | None = None,
        max_cpus: int | None = None,
    ) -> Machine:
        """Append a machine type specific to this domain type."""
        return _add_machine(self.machines, name, canonical, max_cpus, False)


class GuestFeature(XMLNode):
    """A guest feature element (its tag is the feature's name)."""

    TAG = "feature"
    default = XMLProperty("./@default", doc="``on``/``off``: enabled unless told otherwise.")
    toggle = XMLProperty("./@toggle", YESNO, doc="Whether the guest may change it.")

    @property
    def name(self) -> str:
        """The feature's name (``pae``, ``acpi``...)."""
        return str(self.element.tag)


class Guest(XMLNode):
    """A ``<guest>``: OS type, architecture, machines, domain types and features."""

    TAG = "guest"
    os_type = XMLProperty("./os_type")
    arch = XMLProperty("./arch/@name")
    wordsize = XMLProperty("./arch/wordsize", INT)
    emulator = XMLProperty("./arch/emulator")
    loader = XMLProperty("./arch/loader")
    machines = XMLChildList(Machine, "./arch/machine")
    domains = XMLChildList(GuestDomain, "./arch/domain")
    XML_ORDER = {
        "": ("os_type", "arch", "features"),
        "arch": ("@name", "wordsize", "emulator", "loader", "machine", "domain"),
        "features": GUEST_FEATURES,
    }

    def add_machine(
        self,
        name: str,
        *,
        canonical: str | None = None,
        max_cpus: int | None = None,
        deprecated: bool = False,
    ) -> Machine:
        """Append a machine type of the architecture's default emulator."""
        return _add_machine(self.machines, name, canonical, max_cpus, deprecated)

    def add_domain(
        self, virt_type: str, *, emulator: str | None = None, loader: str | None = None
    ) -> GuestDomain:
        """Append a hypervisor type (``kvm``, ``qemu``, ``test``) able to run the guest."""
        domain = self.domains.append()
        domain.type = virt_type
        if emulator is not None:
            domain.emulator = emulator
        if loader is not None:
            domain.loader = loader
        return domain

    @property
    def features(self) -> list[GuestFeature]:
        """The guest features, in document order."""
        return [GuestFeature(e) for e in self.xpath("./features/*")]

    def feature(self, name: str) -> GuestFeature | None:
        """The feature *name*, or None when the guest lacks it."""
        return next((f for f in self.features if f.name == name), None)

    def set_feature(
        self, name: str, *, default: str | None = None, toggle: bool | None = None
    ) -> GuestFeature:
        """Declare feature *name* (one of :data:`GUEST_FEATURES`) with its default/toggle."""
        if name not in GUEST_FEATURES:
            raise InvalidArgError(f"unknown guest feature '{name}'")
        if default not in (None, "on", "off"):
            raise InvalidArgError(f"invalid default '{default}' for guest feature '{name}'")
        feature = GuestFeature(self._ensure(f"./features/{name}"))
        feature.default = default
        feature.toggle = toggle
        return feature

    def remove_feature(self, name: str) -> None:
        """Remove feature *name* (and an emptied ``<features>``)."""
        self._remove(f"./features/{name}")
