"""Snapshots and checkpoints of the test driver behave like libvirt 9.0's test driver.

Each test states one behaviour through virtcore's native API. The byte-exact
comparison with libvirt lives in ``tests/test_testdriver_domain_differential.py``;
these tests pin the semantics down independently of libvirt being installed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import virtcore
import virtcore.drivers.test.plugin as test_plugin
from virtcore.connection import Connection
from virtcore.drivers.test import driver as test_driver
from virtcore.enums.checkpoint import DomainCheckpointXMLFlags as CheckpointXML
from virtcore.enums.connect import ConnectListAllDomainsFlags as ListDomains
from virtcore.enums.domain import (
    DomainPausedReason,
    DomainRunningReason,
    DomainShutoffReason,
    DomainState,
    DomainUndefineFlags,
)
from virtcore.enums.domain_events import DomainEventType as Ev
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.enums.snapshot import DomainSnapshotCreateFlags as Create
from virtcore.enums.snapshot import DomainSnapshotDeleteFlags as Delete
from virtcore.enums.snapshot import DomainSnapshotListFlags as ListSnaps
from virtcore.enums.snapshot import DomainSnapshotRevertFlags as Revert
from virtcore.errors import (
    InvalidArgError,
    NoDomainCheckpointError,
    NoDomainSnapshotError,
    OperationDeniedError,
    OperationFailedError,
    OperationInvalidError,
    OperationUnsupportedError,
    VirtError,
)
from virtcore.events import Event, EventDispatcher
from virtcore.objects import Domain, Handle
from virtcore.registry import Registry

SAFETY_TIMEOUT = 10.0
U = "11111111-2222-3333-4444-5555555555"
FROM_SNAPSHOT_STARTED = 3
FROM_SNAPSHOT_STOPPED = 6
FROM_SNAPSHOT_SUSPENDED = 5


def domain_xml(name: str = "ev", tail: str = "01", devices: str = "") -> str:
    return (
        f"<domain type='test'><name>{name}</name><uuid>{U}{tail}</uuid>"
        f"<memory>4096</memory><vcpu current='1'>2</vcpu><os><type>hvm</type></os>"
        f"<devices>{devices}</devices></domain>"
    )


DISK = "<disk type='file'><source file='/a.img'/><target dev='vda' bus='virtio'/></disk>"


def snap(name: str, extra: str = "") -> str:
    return f"<domainsnapshot><name>{name}</name>{extra}</domainsnapshot>"


def chk(name: str) -> str:
    return f"<domaincheckpoint><name>{name}</name></domaincheckpoint>"


class Lifecycle:
    """Records the lifecycle events one connection receives."""

    def __init__(self, conn: Connection) -> None:
        self.items: list[tuple[str, int, int]] = []
        conn.domain_event_register_any(0, self._on_event)

    def _on_event(self, conn: Connection, dom: Handle, event: Event) -> None:
        assert isinstance(dom, Domain)
        self.items.append((dom.name, int(event.args[0]), int(event.args[1])))

    def drain(self) -> list[tuple[str, int, int]]:
        assert EventDispatcher.default().flush(SAFETY_TIMEOUT)
        out, self.items = self.items, []
        return out


@pytest.fixture(scope="module")
def reg() -> Registry:
    registry = Registry(builtins=True, autoload=False)
    if not any(rec.name == "test" and rec.loaded for rec in registry.plugins()):
        registry.register(test_plugin, "test")
    return registry


@pytest.fixture(autouse=True)
def fresh_default_host() -> Iterator[None]:
    test_driver.reset_default_host()
    yield
    assert test_driver.default_host_refcount() == 0


@pytest.fixture
def conn(reg: Registry) -> Iterator[Connection]:
    with virtcore.open("test:///default", registry=reg) as c:
        yield c


@pytest.fixture
def test_dom(conn: Connection) -> Domain:
    return conn.domain_lookup_by_name("test")


@pytest.fixture
def ev(conn: Connection) -> Domain:
    """An inactive persistent domain with one disk."""
    return conn.domain_define_xml(domain_xml(devices=DISK))


def names(items: list[Any]) -> list[str]:
    return [item.name for item in items]


def error_of(call: Any, *args: Any) -> VirtError:
    with pytest.raises(VirtError) as info:
        call(*args)
    return info.value


# -- creating -----------------------------------------------------------------------------


def test_snapshot_of_running_domain_records_running_state_and_live_definition(
    test_dom: Domain,
) -> None:
    xml = test_dom.snapshot_create_xml(snap("a")).xml_desc()
    assert "<state>running</state>" in xml
    assert "<memory snapshot='internal'/>" in xml
    assert "<disk name='vda' snapshot='internal'/>" in xml
    assert "  <domain type='test'>\n    <name>test</name>" in xml


def test_snapshot_of_inactive_domain_saves_no_memory(ev: Domain) -> None:
    xml = ev.snapshot_create_xml(snap("a")).xml_desc()
    assert "<state>shutoff</state>" in xml
    assert "<memory snapshot='no'/>" in xml


def test_unnamed_snapshot_is_named_after_its_creation_time(test_dom: Domain) -> None:
    snapshot = test_dom.snapshot_create_xml("<domainsnapshot/>")
    created = re.search(r"<creationTime>(\d+)</creationTime>", snapshot.xml_desc())
    assert created is not None
    assert snapshot.name == created.group(1)


def test_virtual_clock_dates_snapshots_in_deterministic_mode(
    conn: Connection, test_dom: Domain
) -> None:
    from virtcore.drivers.test.determinism import determinism

    determinism(conn).enable_clock(1_000_000)
    assert test_dom.snapshot_create_xml("<domainsnapshot/>").name == "1000000"


def test_new_snapshot_becomes_current_with_previous_current_as_parent(test_dom: Domain) -> None:
    test_dom.snapshot_create_xml(snap("a"))
    b = test_dom.snapshot_create_xml(snap("b"))
    assert test_dom.snapshot_current().name == "b"
    assert b.get_parent().name == "a"
    assert b.is_current()


def test_snapshot_names_are_unique_per_domain(test_dom: Domain) -> None:
    test_dom.snapshot_create_xml(snap("a"))
    err = error_of(test_dom.snapshot_create_xml, snap("a"))
    assert isinstance(err, OperationFailedError)
    assert err.message == "operation failed: domain moment a already exists"


def test_unsupported_creation_flags_are_refused_by_the_test_driver(test_dom: Domain) -> None:
    err = error_of(test_dom.snapshot_create_xml, snap("a"), Create.DISK_ONLY)
    assert err.code == ErrorNumber.INVALID_ARG and err.domain == ErrorDomain.TEST
    assert err.message == "unsupported flags (0x10) in function testDomainSnapshotCreateXML"


def test_current_flag_requires_redefine(test_dom: Domain) -> None:
    err = error_of(test_dom.snapshot_create_xml, snap("a"), Create.CURRENT)
    assert err.domain == ErrorDomain.DOMAIN_SNAPSHOT
    assert err.message == (
        "Flag 'VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE' is required by flag "
        "'VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT'"
    )


def test_halt_stops_the_domain_after_the_snapshot(conn: Connection, test_dom: Domain) -> None:
    events = Lifecycle(conn)
    test_dom.snapshot_create_xml(snap("a"), Create.HALT)
    assert tuple(test_dom.state()) == (DomainState.SHUTOFF, DomainShutoffReason.FROM_SNAPSHOT)
    assert events.drain() == [("test", Ev.STOPPED, FROM_SNAPSHOT_STOPPED)]


def test_halting_a_transient_domain_is_refused(conn: Connection) -> None:
    dom = conn.domain_create_xml(domain_xml("tr", "02"))
    err = error_of(dom.snapshot_create_xml, snap("a"), Create.HALT)
    assert isinstance(err, OperationInvalidError)
    assert "cannot halt after transient domain snapshot" in err.message


def test_read_only_connection_cannot_take_snapshots(reg: Registry) -> None:
    with virtcore.open_read_only("test:///default", registry=reg) as ro:
        dom = ro.domain_lookup_by_name("test")
        with pytest.raises(OperationDeniedError):
            dom.snapshot_create_xml(snap("a"))


# -- the tree -----------------------------------------------------------------------------


@pytest.fixture
def tree(test_dom: Domain) -> Domain:
    """Snapshots a -> (d, b -> c), d the most recent child of a, d current."""
    for name in "abc":
        test_dom.snapshot_create_xml(snap(name))
    test_dom.snapshot_lookup_by_name("a").revert()
    test_dom.snapshot_create_xml(snap("d"))
    return test_dom


def test_listing_roots_leaves_and_topological_order(tree: Domain) -> None:
    assert names(tree.list_all_snapshots(ListSnaps.ROOTS)) == ["a"]
    assert sorted(names(tree.list_all_snapshots(ListSnaps.LEAVES))) == ["c", "d"]
    assert sorted(names(tree.list_all_snapshots(ListSnaps.NO_LEAVES))) == ["a", "b"]
    assert names(tree.list_all_snapshots(ListSnaps.TOPOLOGICAL)) == ["a", "d", "b", "c"]
    assert tree.snapshot_num() == 4


def test_children_are_listed_most_recent_first_and_descendants_on_request(tree: Domain) -> None:
    a = tree.snapshot_lookup_by_name("a")
    assert names(a.list_all_children()) == ["d", "b"]
    assert names(a.list_all_children(ListSnaps.DESCENDANTS)) == ["d", "b", "c"]
    assert a.num_children() == 2 and a.num_children(ListSnaps.DESCENDANTS) == 3


def test_state_filters_select_by_snapshot_state(conn: Connection, ev: Domain) -> None:
    ev.snapshot_create_xml(snap("off"))
    ev.create()
    ev.snapshot_create_xml(snap("on"))
    assert names(ev.list_all_snapshots(ListSnaps.INACTIVE)) == ["off"]
    assert names(ev.list_all_snapshots(ListSnaps.ACTIVE)) == ["on"]
    assert ev.list_all_snapshots(ListSnaps.NO_METADATA) == []


def test_root_snapshot_has_no_parent(tree: Domain) -> None:
    err = error_of(tree.snapshot_lookup_by_name("a").get_parent)
    assert isinstance(err, NoDomainSnapshotError)
    assert err.message == "Domain snapshot not found: snapshot 'a' does not have a parent"


def test_lookup_of_unknown_snapshot_fails_in_the_test_driver(test_dom: Domain) -> None:
    err = error_of(test_dom.snapshot_lookup_by_name, "nosuch")
    assert err.code == ErrorNumber.NO_DOMAIN_SNAPSHOT and err.domain == ErrorDomain.TEST


def test_deleting_a_snapshot_moves_its_children_to_its_parent(tree: Domain) -> None:
    tree.snapshot_lookup_by_name("b").delete()
    assert tree.snapshot_lookup_by_name("c").get_parent().name == "a"
    assert sorted(names(tree.snapshot_lookup_by_name("a").list_all_children())) == ["c", "d"]


def test_deleting_the_current_snapshot_makes_its_parent_current(tree: Domain) -> None:
    tree.snapshot_lookup_by_name("d").delete()
    assert tree.snapshot_current().name == "a"


def test_deleting_with_children_removes_the_subtree_and_current(tree: Domain) -> None:
    tree.snapshot_lookup_by_name("a").delete(Delete.CHILDREN)
    assert tree.snapshot_num() == 0
    assert not tree.has_current_snapshot()


def test_deleting_children_only_keeps_the_snapshot_and_makes_it_current(tree: Domain) -> None:
    tree.snapshot_lookup_by_name("a").delete(Delete.CHILDREN_ONLY)
    assert names(tree.list_all_snapshots()) == ["a"]
    assert tree.snapshot_current().name == "a"


def test_metadata_only_deletion_is_not_supported_for_snapshots(tree: Domain) -> None:
    err = error_of(tree.snapshot_lookup_by_name("b").delete, Delete.METADATA_ONLY)
    assert err.message == "unsupported flags (0x2) in function testDomainSnapshotDelete"


# -- reverting ----------------------------------------------------------------------------


def test_reverting_a_running_domain_to_a_running_snapshot_restarts_it(
    conn: Connection, test_dom: Domain
) -> None:
    snapshot = test_dom.snapshot_create_xml(snap("a"))
    events = Lifecycle(conn)
    test_dom.revert_to_snapshot(snapshot)
    assert events.drain() == [
        ("test", Ev.STOPPED, FROM_SNAPSHOT_STOPPED),
        ("test", Ev.STARTED, FROM_SNAPSHOT_STARTED),
    ]
    fresh = conn.domain_lookup_by_name("test")
    assert tuple(fresh.state()) == (DomainState.RUNNING, DomainRunningReason.FROM_SNAPSHOT)
    assert fresh.id == 2


def test_reverting_to_a_paused_snapshot_leaves_the_domain_paused(
    conn: Connection, test_dom: Domain
) -> None:
    test_dom.suspend()
    snapshot = test_dom.snapshot_create_xml(snap("p"))
    test_dom.destroy()
    events = Lifecycle(conn)
    snapshot.revert()
    assert events.drain() == [
        ("test", Ev.STARTED, FROM_SNAPSHOT_STARTED),
        ("test", Ev.SUSPENDED, FROM_SNAPSHOT_SUSPENDED),
    ]
    assert tuple(test_dom.state()) == (DomainState.PAUSED, DomainPausedReason.FROM_SNAPSHOT)


def test_running_flag_overrides_a_paused_snapshot(test_dom: Domain) -> None:
    test_dom.suspend()
    snapshot = test_dom.snapshot_create_xml(snap("p"))
    snapshot.revert(Revert.RUNNING)
    assert test_dom.state().state == DomainState.RUNNING


def test_reverting_to_a_shutoff_snapshot_stops_the_domain(conn: Connection, ev: Domain) -> None:
    snapshot = ev.snapshot_create_xml(snap("off"))
    ev.create()
    events = Lifecycle(conn)
    snapshot.revert()
    assert events.drain() == [("ev", Ev.STOPPED, FROM_SNAPSHOT_STOPPED)]
    assert tuple(ev.state()) == (DomainState.SHUTOFF, DomainShutoffReason.FROM_SNAPSHOT)


def test_starting_from_a_shutoff_snapshot_only_announces_the_start(
    conn: Connection, ev: Domain
) -> None:
    snapshot = ev.snapshot_create_xml(snap("off"))
    events = Lifecycle(conn)
    snapshot.revert(Revert.RUNNING)
    # libvirt 9.0 emits STARTED but does not start the domain; so does virtcore.
    assert events.drain() == [("ev", Ev.STARTED, FROM_SNAPSHOT_STARTED)]
    assert ev.state().state == DomainState.SHUTOFF


def test_reverting_restores_the_snapshot_definition(ev: Domain) -> None:
    snapshot = ev.snapshot_create_xml(snap("a"))
    ev.set_vcpus(2)
    assert ev.vcpus_flags() == 2
    snapshot.revert()
    assert ev.vcpus_flags() == 1


def test_reverting_makes_the_snapshot_current(tree: Domain) -> None:
    tree.snapshot_lookup_by_name("b").revert()
    assert tree.snapshot_current().name == "b"


def test_running_and_paused_revert_flags_are_exclusive(tree: Domain) -> None:
    err = error_of(tree.snapshot_lookup_by_name("a").revert, Revert.RUNNING | Revert.PAUSED)
    assert err.domain == ErrorDomain.DOMAIN_SNAPSHOT
    assert "are mutually exclusive" in err.message


def test_transient_domain_must_request_running_for_inactive_snapshot(conn: Connection) -> None:
    dom = conn.domain_create_xml(domain_xml("tr", "02"))
    inactive = snap(
        "old",
        "<state>shutoff</state><creationTime>1</creationTime>"
        + domain_xml("tr", "02").replace("<devices></devices>", ""),
    )
    old = dom.snapshot_create_xml(inactive, Create.REDEFINE)
    err = error_of(old.revert)
    assert isinstance(err, OperationInvalidError)
    assert "transient domain needs to request run or pause" in err.message


# -- redefining ---------------------------------------------------------------------------


def test_redefined_snapshot_keeps_the_given_creation_time_and_is_not_current(ev: Domain) -> None:
    xml = snap("r1", "<state>shutoff</state><creationTime>1000</creationTime>" + domain_xml())
    r1 = ev.snapshot_create_xml(xml, Create.REDEFINE)
    assert "<creationTime>1000</creationTime>" in r1.xml_desc()
    assert not ev.has_current_snapshot()
    ev.snapshot_create_xml(xml.replace("r1", "r2"), Create.REDEFINE | Create.CURRENT)
    assert ev.snapshot_current().name == "r2"


def test_redefinition_refuses_parent_cycles(ev: Domain) -> None:
    body = "<state>shutoff</state><creationTime>1</creationTime>" + domain_xml()
    ev.snapshot_create_xml(snap("r1", body), Create.REDEFINE)
    ev.snapshot_create_xml(snap("r2", "<parent><name>r1</name></parent>" + body), Create.REDEFINE)
    err = error_of(
        ev.snapshot_create_xml,
        snap("r1", "<parent><name>r2</name></parent>" + body),
        Create.REDEFINE,
    )
    assert isinstance(err, InvalidArgError)
    assert err.message == "invalid argument: parent r2 would create cycle to r1"


def test_redefinition_needs_state_and_creation_time(ev: Domain) -> None:
    err = error_of(ev.snapshot_create_xml, snap("q", "<state>shutoff</state>"), Create.REDEFINE)
    assert err.message == "internal error: missing creationTime from existing snapshot"


# -- domains with snapshots -------------------------------------------------------------


def test_inactive_domain_with_snapshots_needs_the_metadata_flag_to_undefine(ev: Domain) -> None:
    ev.snapshot_create_xml(snap("a"))
    err = error_of(ev.undefine)
    assert err.message == (
        "Requested operation is not valid: cannot delete inactive domain with 1 snapshots"
    )
    ev.undefine(DomainUndefineFlags.SNAPSHOTS_METADATA)


def test_a_redefined_domain_starts_without_snapshots(conn: Connection, ev: Domain) -> None:
    ev.snapshot_create_xml(snap("a"))
    ev.undefine(DomainUndefineFlags.SNAPSHOTS_METADATA)
    again = conn.domain_define_xml(domain_xml(devices=DISK))
    assert again.snapshot_num() == 0


def test_domain_listing_filters_on_snapshots_and_checkpoints(
    conn: Connection, test_dom: Domain, ev: Domain
) -> None:
    ev.snapshot_create_xml(snap("a"))
    test_dom.checkpoint_create_xml(chk("c"))
    assert names(conn.list_all_domains(ListDomains.HAS_SNAPSHOT)) == ["ev"]
    assert names(conn.list_all_domains(ListDomains.NO_SNAPSHOT)) == ["test"]
    assert names(conn.list_all_domains(ListDomains.HAS_CHECKPOINT)) == ["test"]


def test_snapshots_survive_a_rename(conn: Connection, ev: Domain) -> None:
    ev.snapshot_create_xml(snap("a"))
    ev.rename("ev2")
    assert conn.domain_lookup_by_name("ev2").snapshot_list_names() == ["a"]


# -- checkpoints --------------------------------------------------------------------------


def test_checkpoint_covers_every_writable_disk_with_a_bitmap(test_dom: Domain) -> None:
    checkpoint = test_dom.checkpoint_create_xml(chk("c1"))
    xml = checkpoint.xml_desc(CheckpointXML.NO_DOMAIN)
    assert "<disk name='vda' checkpoint='bitmap' bitmap='c1'/>" in xml
    assert "<domain type" not in xml


def test_checkpoints_chain_from_the_current_one(test_dom: Domain) -> None:
    test_dom.checkpoint_create_xml(chk("c1"))
    c2 = test_dom.checkpoint_create_xml(chk("c2"))
    assert c2.get_parent().name == "c1"
    assert names(test_dom.checkpoint_lookup_by_name("c1").list_all_children()) == ["c2"]


def test_deleting_a_checkpoint_reparents_its_children(test_dom: Domain) -> None:
    for name in ("c1", "c2", "c3"):
        test_dom.checkpoint_create_xml(chk(name))
    test_dom.checkpoint_lookup_by_name("c2").delete()
    assert test_dom.checkpoint_lookup_by_name("c3").get_parent().name == "c1"


def test_checkpoints_need_a_running_domain(ev: Domain) -> None:
    err = error_of(ev.checkpoint_create_xml, chk("c"))
    assert isinstance(err, OperationUnsupportedError)
    assert err.message == "Operation not supported: cannot create checkpoint for inactive domain"


def test_checkpoints_need_a_disk(conn: Connection) -> None:
    dom = conn.domain_create_xml(domain_xml("bare", "03"))
    err = error_of(dom.checkpoint_create_xml, chk("c"))
    assert err.domain == ErrorDomain.DOMAIN_CHECKPOINT
    assert "domain must have at least one disk to perform checkpoints" in err.message


def test_snapshots_and_checkpoints_exclude_each_other(test_dom: Domain, ev: Domain) -> None:
    test_dom.checkpoint_create_xml(chk("c"))
    err = error_of(test_dom.snapshot_create_xml, snap("s"))
    assert err.message == "Operation not supported: cannot create snapshot while checkpoint exists"
    ev.snapshot_create_xml(snap("s"))
    ev.create()
    err = error_of(ev.checkpoint_create_xml, chk("c"))
    assert err.message == "Operation not supported: cannot create checkpoint while snapshot exists"


def test_unknown_checkpoint_is_reported_by_name(test_dom: Domain) -> None:
    err = error_of(test_dom.checkpoint_lookup_by_name, "nosuch")
    assert isinstance(err, NoDomainCheckpointError)
    assert "no domain checkpoint with matching name 'nosuch'" in err.message


# -- snapshots declared in configuration files -----------------------------------------------


def config_with_snapshots(*snapshots: str) -> str:
    inner = (
        f"<domain type='test'><name>cfg</name><uuid>{U}77</uuid><memory>1024</memory>"
        "<os><type>hvm</type></os></domain>"
    )
    body = "".join(
        f"<test:domainsnapshot>{s.replace('DOMAIN', inner)}</test:domainsnapshot>"
        for s in snapshots
    )
    return (
        "<node xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
        f"<domain type='test'><name>cfg</name><uuid>{U}77</uuid><memory>1024</memory>"
        f"<os><type>hvm</type></os>{body}</domain></node>"
    )


def stored(name: str, active: int, parent: str = "") -> str:
    parent_elem = f"<parent><name>{parent}</name></parent>" if parent else ""
    return (
        f"<name>{name}</name><state>shutoff</state>{parent_elem}"
        f"<creationTime>1</creationTime><active>{active}</active>DOMAIN"
    )


def test_configuration_file_snapshots_are_loaded_with_their_tree(
    tmp_path: Path, reg: Registry
) -> None:
    path = tmp_path / "node.xml"
    path.write_text(config_with_snapshots(stored("s1", 0), stored("s2", 1, "s1")))
    with virtcore.open(f"test://{path}", registry=reg) as c:
        dom = c.domain_lookup_by_name("cfg")
        assert dom.snapshot_current().name == "s2"
        assert dom.snapshot_lookup_by_name("s2").get_parent().name == "s1"


@pytest.mark.parametrize(
    ("snapshots", "message"),
    [
        ((stored("s1", 1), stored("s2", 1)), "more than one snapshot claims to be active"),
        ((stored("s1", 0, "nosuch"),), "Snapshots have inconsistent relations for domain cfg"),
        ((stored("s1", 0).replace("<active>0</active>", ""),), "Could not find 'active' element"),
    ],
)
def test_inconsistent_configuration_snapshots_fail_the_open(
    tmp_path: Path, reg: Registry, snapshots: tuple[str, ...], message: str
) -> None:
    path = tmp_path / "node.xml"
    path.write_text(config_with_snapshots(*snapshots))
    with pytest.raises(VirtError) as info:
        virtcore.open(f"test://{path}", registry=reg)
    assert info.value.message == f"internal error: {message}"
