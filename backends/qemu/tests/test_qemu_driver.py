"""The QEMU connection driver: URIs, definitions, persistence and ownership of a root.

No guest is started here (see test_qemu_lifecycle.py); these pin down libvirt's
errors and the on-disk layout of ``qemu:///embed?root=DIR``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from qemu_guests import EventLog, guest_xml

import virtcore
from virtcore.connection import Connection
from virtcore.enums.domain import DomainShutoffReason, DomainState
from virtcore.enums.domain_events import DomainEventID, DomainEventType
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import (
    InternalError,
    NoDomainError,
    OperationFailedError,
    OperationInvalidError,
    ResourceBusyError,
)
from virtcore.hosts import shutdown_hosts
from virtcore.state import Host
from virtcore_qemu.state import QemuDriver, QemuStateDriver

UUID = "4a3c2e1b-0000-4000-8000-000000000001"


def test_plugin_entry_point_serves_the_qemu_scheme() -> None:
    from virtcore.registry import default_registry

    names = [drv.name for drv in default_registry().connect_drivers()]
    assert "QEMU" in names


def test_session_path_is_refused_with_libvirts_hint_when_privileged() -> None:
    if os.geteuid() != 0:
        pytest.skip("the privileged rule applies to root only")
    with pytest.raises(InternalError) as err:
        virtcore.open("qemu:///bogus")
    assert err.value.code == ErrorNumber.INTERNAL_ERROR
    assert str(err.value) == "internal error: unexpected qemu URI path '/bogus', try qemu:///system"


def test_embed_root_must_be_absolute() -> None:
    with pytest.raises(virtcore.errors.VirtError) as err:
        virtcore.open("qemu:///embed?root=relative/dir")
    assert "absolute" in str(err.value)


def test_get_type_is_qemu(conn: Connection) -> None:
    assert conn.get_type() == "QEMU"


def test_define_writes_the_config_under_the_root(conn: Connection, embed_root: Path) -> None:
    dom = conn.domain_define_xml(guest_xml("g", uuid=UUID))
    stored = (embed_root / "etc" / "qemu" / "g.xml").read_text()
    assert dom.uuid == UUID
    assert "<name>g</name>" in stored
    assert dom.state() == (DomainState.SHUTOFF, DomainShutoffReason.UNKNOWN)


def test_define_emits_defined_added_then_updated(conn: Connection, events: EventLog) -> None:
    conn.domain_define_xml(guest_xml("g", uuid=UUID))
    conn.domain_define_xml(guest_xml("g", uuid=UUID))
    assert events.wait_for("g", DomainEventID.LIFECYCLE, (DomainEventType.DEFINED, 1))
    assert events.lifecycle("g") == [(DomainEventType.DEFINED, 0), (DomainEventType.DEFINED, 1)]


def test_define_same_name_other_uuid_fails_like_libvirt(conn: Connection) -> None:
    conn.domain_define_xml(guest_xml("g", uuid=UUID))
    other = UUID.replace("0001", "0002")
    with pytest.raises(OperationFailedError) as err:
        conn.domain_define_xml(guest_xml("g", uuid=other))
    assert str(err.value) == f"operation failed: domain 'g' already exists with uuid {UUID}"
    assert err.value.domain == ErrorDomain.QEMU


def test_define_same_uuid_other_name_fails_like_libvirt(conn: Connection) -> None:
    conn.domain_define_xml(guest_xml("g", uuid=UUID))
    with pytest.raises(OperationFailedError) as err:
        conn.domain_define_xml(guest_xml("h", uuid=UUID))
    assert str(err.value) == f"operation failed: domain 'g' is already defined with uuid {UUID}"


def test_lookup_errors_name_what_was_asked(conn: Connection) -> None:
    with pytest.raises(NoDomainError) as by_name:
        conn.domain_lookup_by_name("nope")
    with pytest.raises(NoDomainError) as by_id:
        conn.domain_lookup_by_id(7)
    with pytest.raises(NoDomainError) as by_uuid:
        conn.domain_lookup_by_uuid(UUID)
    assert str(by_name.value) == "Domain not found: no domain with matching name 'nope'"
    assert str(by_id.value) == "Domain not found: no domain with matching id 7"
    assert str(by_uuid.value) == f"Domain not found: no domain with matching uuid '{UUID}'"


def test_calls_on_an_undefined_domain_name_uuid_and_name(conn: Connection) -> None:
    dom = conn.domain_define_xml(guest_xml("g", uuid=UUID))
    dom.undefine()
    with pytest.raises(NoDomainError) as err:
        dom.state()
    assert str(err.value) == f"Domain not found: no domain with matching uuid '{UUID}' (g)"


def test_undefine_removes_config_and_autostart_link(conn: Connection, embed_root: Path) -> None:
    dom = conn.domain_define_xml(guest_xml("g"))
    dom.set_autostart(True)
    link = embed_root / "etc" / "qemu" / "autostart" / "g.xml"
    assert link.is_symlink()
    dom.undefine()
    assert not link.exists() and not link.is_symlink()
    assert not (embed_root / "etc" / "qemu" / "g.xml").exists()
    assert conn.list_defined_domains() == []


def test_inactive_calls_report_domain_is_not_running(conn: Connection) -> None:
    dom = conn.domain_define_xml(guest_xml("g"))
    for call in (dom.suspend, dom.resume, dom.destroy, dom.reset, dom.reboot, dom.shutdown):
        with pytest.raises(OperationInvalidError) as err:
            call()
        assert str(err.value) == "Requested operation is not valid: domain is not running"


def test_not_running_comes_from_the_domain_subsystem_as_in_libvirt(conn: Connection) -> None:
    dom = conn.domain_define_xml(guest_xml("g"))
    with pytest.raises(OperationInvalidError) as err:
        dom.suspend()
    assert err.value.domain == ErrorDomain.DOMAIN


def test_unsupported_flags_are_refused_with_the_function_name(conn: Connection) -> None:
    dom = conn.domain_define_xml(guest_xml("g"))
    with pytest.raises(virtcore.errors.InvalidArgError) as err:
        dom.state(0x4)
    assert str(err.value) == "unsupported flags (0x4) in function qemuDomainGetState"


def test_listing_filters_by_autostart(conn: Connection) -> None:
    conn.domain_define_xml(guest_xml("a"))
    conn.domain_define_xml(guest_xml("b")).set_autostart(True)
    names = [d.name for d in conn.list_all_domains(1024)]
    assert names == ["b"]
    assert conn.list_defined_domains() == ["a", "b"]


def test_definitions_and_autostart_survive_a_new_host(conn: Connection, embed_root: Path) -> None:
    conn.domain_define_xml(guest_xml("a", uuid=UUID))
    conn.domain_define_xml(guest_xml("b")).set_autostart(True)
    conn.close()
    shutdown_hosts()
    host = Host([QemuStateDriver()], privileged=False, root=embed_root)
    host.initialize()
    try:
        domains = {obj.name: obj for obj in _driver(host).domains}
        assert sorted(domains) == ["a", "b"]
        assert domains["a"].uuid == UUID
        assert (domains["a"].autostart, domains["b"].autostart) == (False, True)
    finally:
        host.shutdown()


def test_second_owner_of_a_root_gets_a_clear_error(conn: Connection, embed_root: Path) -> None:
    other = Host([QemuStateDriver()], privileged=False, root=embed_root)
    with pytest.raises(ResourceBusyError) as err:
        other.initialize()
    assert f"state directory '{embed_root}/run/qemu' is in use by process {os.getpid()}" in str(
        err.value
    )


def _driver(host: Host) -> QemuDriver:
    state = host.driver("qemu")
    assert isinstance(state, QemuStateDriver) and state.driver is not None
    return state.driver
