"""The test driver's host interface table, with libvirt 9.0's test driver semantics.

* Define adds an inactive interface or replaces the definition of the
  interface with that name (which keeps its state); undefine removes an
  interface whatever its state; create and destroy fail with a bare
  ``Requested operation is not valid`` when the interface already is in the
  wanted state. Interfaces emit no events.
* A handle carries the MAC address as the definition spells it; looking an
  interface up by MAC compares case-insensitively and returns a handle with
  the MAC as the caller spelled it.
* Transactions (``virInterfaceChangeBegin``/``Commit``/``Rollback``) keep
  one snapshot per host: begin copies every definition, rollback restores
  the copy - in which, as in libvirt's test driver, every interface is
  inactive - and commit forgets it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from virtcore.driver import InterfaceDriver
from virtcore.drivers.test.objxml import InterfaceDef
from virtcore.drivers.test.secondary import HostExtension, SecondaryTable, state_filter
from virtcore.drivers.test.state import InterfaceObj, check_flags
from virtcore.drivers.test.xmlutil import parse_xml
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import NoInterfaceError, OperationInvalidError, VirtError
from virtcore.objects import Interface

if TYPE_CHECKING:
    from virtcore.connection import Connection

__all__ = ["TestInterfaceDriver"]

_TEST = ErrorDomain.TEST


class _Transaction:
    """A host's interface transaction: the definitions saved by ``ChangeBegin``."""

    def __init__(self) -> None:
        self.backup: list[InterfaceDef] | None = None


_TRANSACTIONS: HostExtension[_Transaction] = HostExtension(_Transaction)


class TestInterfaceDriver(SecondaryTable, InterfaceDriver):
    """Host interfaces of a test host."""

    def _iface(self, name: str) -> InterfaceObj:
        obj = self.state.interfaces.get(name)
        if obj is None:
            raise NoInterfaceError(f"no interface with matching name '{name}'", domain=_TEST)
        return obj

    @staticmethod
    def _handle(conn: Connection, obj: InterfaceObj) -> Interface:
        return Interface(conn, obj.def_.name or "", obj.def_.mac or "")

    def connect_list_all_interfaces(self, conn: Connection, flags: int) -> list[Interface]:
        """Interfaces matching the active/inactive filter, by name."""
        check_flags(flags, 0x3, "testConnectListAllInterfaces")
        with self.state.lock:
            return [
                self._handle(conn, o)
                for _, o in sorted(self.state.interfaces.items())
                if state_filter(flags, 2, 1, o.active)
            ]

    def _names(self, active: bool) -> list[str]:
        with self.state.lock:
            return sorted(n for n, o in self.state.interfaces.items() if o.active == active)

    def connect_num_of_interfaces(self, conn: Connection) -> int:
        """Number of active interfaces."""
        return len(self._names(True))

    def connect_list_interfaces(self, conn: Connection) -> list[str]:
        """Names of active interfaces."""
        return self._names(True)

    def connect_num_of_defined_interfaces(self, conn: Connection) -> int:
        """Number of inactive interfaces."""
        return len(self._names(False))

    def connect_list_defined_interfaces(self, conn: Connection) -> list[str]:
        """Names of inactive interfaces."""
        return self._names(False)

    def interface_lookup_by_name(self, conn: Connection, name: str) -> Interface:
        """The interface called *name*."""
        with self.state.lock:
            return self._handle(conn, self._iface(name))

    def interface_lookup_by_mac_string(self, conn: Connection, mac: str) -> Interface:
        """The interface with MAC address *mac* (case-insensitive)."""
        with self.state.lock:
            found = [
                name
                for name, o in sorted(self.state.interfaces.items())
                if (o.def_.mac or "").lower() == mac.lower()
            ]
        if not found:
            raise NoInterfaceError(f"no interface with matching mac '{mac}'", domain=_TEST)
        if len(found) > 1:
            raise VirtError(code=ErrorNumber.MULTIPLE_INTERFACES, domain=_TEST)
        return Interface(conn, found[0], mac)

    def interface_get_xml_desc(self, conn: Connection, iface: Interface, flags: int) -> str:
        """The interface XML."""
        check_flags(flags, 0, "testInterfaceGetXMLDesc")
        with self.state.lock:
            return self._iface(iface.name).def_.format()

    def interface_is_active(self, conn: Connection, iface: Interface) -> int:
        """1 when the interface is up."""
        with self.state.lock:
            return int(self._iface(iface.name).active)

    def interface_define_xml(self, conn: Connection, xml: str, flags: int) -> Interface:
        """Define an interface, or replace the definition of the one with that name."""
        check_flags(flags, 1, "testInterfaceDefineXML")
        root = parse_xml(
            xml, "(interface_definition)", domain=ErrorDomain.INTERFACE, root="interface"
        )
        new = InterfaceDef.from_element(root)
        with self.state.lock:
            obj = self.state.interfaces.get(new.name or "")
            if obj is None:
                obj = InterfaceObj(new, active=False)
                self.state.interfaces[new.name or ""] = obj
            else:
                obj.def_ = new
            return self._handle(conn, obj)

    def interface_undefine(self, conn: Connection, iface: Interface) -> None:
        """Remove the interface, whatever its state."""
        with self.state.lock:
            self._iface(iface.name)
            del self.state.interfaces[iface.name]

    def interface_create(self, conn: Connection, iface: Interface, flags: int) -> None:
        """Bring an inactive interface up."""
        check_flags(flags, 0, "testInterfaceCreate")
        with self.state.lock:
            obj = self._iface(iface.name)
            if obj.active:
                raise OperationInvalidError(domain=_TEST)
            obj.active = True

    def interface_destroy(self, conn: Connection, iface: Interface, flags: int) -> None:
        """Bring an active interface down."""
        check_flags(flags, 0, "testInterfaceDestroy")
        with self.state.lock:
            obj = self._iface(iface.name)
            if not obj.active:
                raise OperationInvalidError(domain=_TEST)
            obj.active = False

    def interface_change_begin(self, conn: Connection, flags: int) -> None:
        """Save every interface definition for a later rollback."""
        check_flags(flags, 0, "testInterfaceChangeBegin")
        with self.state.lock:
            txn = _TRANSACTIONS.of(self.state)
            if txn.backup is not None:
                raise OperationInvalidError("there is another transaction running.", domain=_TEST)
            txn.backup = [
                InterfaceDef.from_element(
                    parse_xml(o.def_.format(), "(interface_definition)", root="interface")
                )
                for _, o in sorted(self.state.interfaces.items())
            ]

    def interface_change_commit(self, conn: Connection, flags: int) -> None:
        """Keep the changes made since the transaction began."""
        check_flags(flags, 0, "testInterfaceChangeCommit")
        with self.state.lock:
            txn = _TRANSACTIONS.of(self.state)
            if txn.backup is None:
                raise OperationInvalidError(
                    "no transaction running, nothing to be committed.", domain=_TEST
                )
            txn.backup = None

    def interface_change_rollback(self, conn: Connection, flags: int) -> None:
        """Restore the definitions saved when the transaction began (all inactive)."""
        check_flags(flags, 0, "testInterfaceChangeRollback")
        with self.state.lock:
            txn = _TRANSACTIONS.of(self.state)
            if txn.backup is None:
                raise OperationInvalidError(
                    "no transaction running, nothing to rollback.", domain=_TEST
                )
            self.state.interfaces.clear()
            for saved in txn.backup:
                self.state.interfaces[saved.name or ""] = InterfaceObj(saved, active=False)
            txn.backup = None
