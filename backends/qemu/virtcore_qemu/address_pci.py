"""The PCI address space of a domain: buses, slots, functions, and how libvirt fills it.

:class:`PCIAddressSet` mirrors libvirt's ``virDomainPCIAddressSet``: one
:class:`PCIBus` per PCI controller, each knowing which slots it offers and
which kinds of device it accepts (libvirt's ``virDomainPCIConnectFlags``,
here the strings of :data:`CONNECT_KINDS`). A device is placed on the first
free slot (function 0) of the first bus, by bus index, that accepts its
kind; a PCIe root port also fits into a free function of a slot holding
only root ports (libvirt's "aggregate" slots). When nothing fits and the
set may grow (libvirt's first, counting pass), buses are added the way
``virDomainPCIAddressSetGrow`` adds them: a ``pcie-root-port`` for a PCIe
device, a ``pcie-root-port`` plus a ``pcie-to-pci-bridge`` for a
conventional PCI device on q35, a ``pci-bridge`` on i440fx.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import ConfigUnsupportedError, XMLError
from virtcore_qemu.postparse_tree import PCIAddress

__all__ = ["CONNECT_KINDS", "PCIAddressSet", "PCIBus"]

logger = logging.getLogger(__name__)

CONNECT_KINDS = (
    "pci",  # a conventional PCI endpoint
    "pcie",  # a PCI Express endpoint
    "root-port",  # a pcie-root-port
    "pcie-to-pci-bridge",
    "pci-bridge",
    "dmi-to-pci-bridge",
)

_FUNCTIONS = 8

# What each bus model accepts and which slots it offers.
_BUS_RULES: dict[str, tuple[frozenset[str], int, int]] = {
    "pci-root": (frozenset({"pci", "pcie", "pci-bridge"}), 1, 31),
    "pcie-root": (frozenset({"root-port", "dmi-to-pci-bridge"}), 1, 31),
    "pcie-root-port": (frozenset({"pcie", "pcie-to-pci-bridge"}), 0, 0),
    "pcie-switch-downstream-port": (frozenset({"pcie", "pcie-to-pci-bridge"}), 0, 0),
    "pcie-to-pci-bridge": (frozenset({"pci"}), 1, 31),
    "pci-bridge": (frozenset({"pci", "pci-bridge"}), 1, 31),
    "dmi-to-pci-bridge": (frozenset({"pci-bridge"}), 0, 31),
    "pci-expander-bus": (frozenset({"pci", "pcie", "pci-bridge"}), 0, 31),
    "pcie-expander-bus": (frozenset({"root-port"}), 0, 31),
    "pcie-switch-upstream-port": (frozenset({"pcie"}), 0, 31),
}


@dataclass
class PCIBus:
    """One PCI bus (the bus a PCI controller provides) and its used functions."""

    index: int
    model: str
    used: dict[int, set[int]] = field(default_factory=dict)
    aggregate: set[int] = field(default_factory=set)
    whole: set[int] = field(default_factory=set)

    @property
    def accepts(self) -> frozenset[str]:
        return _BUS_RULES.get(self.model, (frozenset(), 0, -1))[0]

    @property
    def slots(self) -> range:
        _, low, high = _BUS_RULES.get(self.model, (frozenset(), 0, -1))
        return range(low, high + 1)

    def is_free(self, slot: int, function: int) -> bool:
        return function not in self.used.get(slot, set())

    def slot_free(self, slot: int) -> bool:
        return not self.used.get(slot)

    def fully_reserved(self) -> bool:
        return all(not self.slot_free(slot) for slot in self.slots)


class PCIAddressSet:
    """The PCI buses of a domain and the addresses in use on them."""

    def __init__(self, buses: dict[int, str], *, dry_run: bool, q35: bool) -> None:
        self.buses: list[PCIBus] = []
        self.dry_run = dry_run
        self.q35 = q35
        for index in range(max(buses, default=-1) + 1):
            self.buses.append(PCIBus(index, buses.get(index, "")))

    def bus(self, index: int) -> PCIBus | None:
        return self.buses[index] if 0 <= index < len(self.buses) else None

    def reserve(self, address: PCIAddress, *, aggregate: bool = False, whole: bool = False) -> None:
        """Mark *address* used (with *whole*, a slot no device is auto-placed in).

        In the counting pass an address on a bus that does not exist yet
        makes the set grow up to that bus, as libvirt does for explicit
        addresses; otherwise that is an error, and so is an address in use.
        """
        while self.dry_run and address.bus >= len(self.buses):
            self._add_bus("pcie-root-port" if self.q35 else "pci-bridge")
        bus = self.bus(address.bus)
        if bus is None:
            where = f"0000:{address.bus:02x}:{address.slot:02x}.{address.function:x}"
            raise XMLError(
                f"Invalid PCI address {where}. "
                f"Only PCI buses up to {len(self.buses) - 1} are available",
                domain=ErrorDomain.QEMU,
            )
        used = bus.used.setdefault(address.slot, set())
        if address.function in used:
            where = f"0000:{address.bus:02x}:{address.slot:02x}.{address.function:x}"
            raise XMLError(
                f"Attempted double use of PCI Address {where}", domain=ErrorDomain.DOMAIN
            )
        used.add(address.function)
        if whole:
            # A chipset slot: its other functions are the chipset's to place.
            bus.whole.add(address.slot)
        if aggregate:
            bus.aggregate.add(address.slot)

    def next_address(self, kind: str, *, function: int = 0) -> PCIAddress:
        """Reserve and return the first free address for a device of *kind*."""
        while True:
            found = self._find(kind, function)
            if found is not None:
                self.reserve(found, aggregate=kind == "root-port", whole=False)
                return found
            if not self.dry_run or not self._grow(kind):
                raise ConfigUnsupportedError("No more available PCI slots", domain=ErrorDomain.QEMU)

    def _find(self, kind: str, function: int) -> PCIAddress | None:
        for bus in self.buses:
            if kind not in bus.accepts:
                continue
            for slot in bus.slots:
                if bus.slot_free(slot):
                    return PCIAddress(bus.index, slot, function)
                if (
                    kind == "root-port"
                    and slot in bus.aggregate
                    and len(bus.used[slot]) < _FUNCTIONS
                ):
                    free = min(set(range(_FUNCTIONS)) - bus.used[slot])
                    return PCIAddress(bus.index, slot, free)
        return None

    def _add_bus(self, model: str) -> PCIBus:
        bus = PCIBus(len(self.buses), model)
        self.buses.append(bus)
        return bus

    def _grow(self, kind: str) -> bool:
        """Add the buses a device of *kind* needs (libvirt's counting pass only)."""
        if self.q35:
            if kind in ("pcie", "pcie-to-pci-bridge"):
                self._add_bus("pcie-root-port")
                return True
            if kind == "pci":
                port = self._add_bus("pcie-root-port")
                port.used[0] = {0}
                self._add_bus("pcie-to-pci-bridge")
                return True
            return False
        if kind in ("pci", "pcie", "pci-bridge"):
            # The bridge's own slot is the one held back for it beforehand.
            self._add_bus("pci-bridge")
            return True
        return False

    def set_all_multifunction(self) -> set[tuple[int, int]]:
        """The (bus, slot) pairs with more than one function in use."""
        return {
            (bus.index, slot)
            for bus in self.buses
            for slot, functions in bus.used.items()
            if len(functions) > 1 and slot not in bus.whole
        }
