"""Opening connections, listing and lookups, and libvirt-python's return shapes."""

from __future__ import annotations

import gc
import uuid
from pathlib import Path
from typing import Any

import pytest

from virtcore import libvirt
from virtcore.drivers.test.driver import default_host_refcount
from virtcore.enums.domain import DomainRunningReason, DomainState

DATA = Path(__file__).resolve().parents[1] / "data" / "testdriver" / "config"
TEST_UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f"


def _auth(answers: dict[int, str | None], opaque: Any = None) -> list[Any]:
    asked: list[list[Any]] = []

    def callback(creds: list[list[Any]], data: Any) -> int:
        asked.extend(creds)
        if data != opaque:
            return -1
        for cred in creds:
            cred[4] = answers.get(cred[0])
        return 0

    return [[libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_PASSPHRASE], callback, opaque]


def test_open_returns_a_virconnect(conn: libvirt.virConnect) -> None:
    assert isinstance(conn, libvirt.virConnect)


def test_open_of_an_unknown_scheme_fails_with_no_connect(quiet: object) -> None:
    with pytest.raises(libvirt.libvirtError) as info:
        libvirt.open("nosuch:///x")
    assert info.value.get_error_code() == libvirt.VIR_ERR_NO_CONNECT


def test_open_auth_answers_with_the_callback(quiet: object) -> None:
    auth = _auth({libvirt.VIR_CRED_AUTHNAME: "alice", libvirt.VIR_CRED_PASSPHRASE: "pw"}, 7)
    c = libvirt.openAuth(f"test://{DATA / 'auth.xml'}", auth, 0)
    try:
        assert c.getType() == "TEST"
    finally:
        c.close()


def test_open_auth_callback_gets_libvirts_credential_lists(quiet: object) -> None:
    seen: list[list[Any]] = []

    def callback(creds: list[list[Any]], opaque: Any) -> int:
        seen.extend(creds)
        creds[0][4] = "bob"
        return 0

    auth = [[libvirt.VIR_CRED_AUTHNAME], callback, None]
    libvirt.openAuth(f"test://{DATA / 'auth.xml'}", auth, 0).close()
    assert seen == [
        [libvirt.VIR_CRED_AUTHNAME, "Enter username for localhost", "localhost", None, "bob"]
    ]


def test_open_auth_with_a_wrong_password_fails(quiet: object) -> None:
    auth = _auth({libvirt.VIR_CRED_AUTHNAME: "alice", libvirt.VIR_CRED_PASSPHRASE: "bad"})
    with pytest.raises(libvirt.libvirtError) as info:
        libvirt.openAuth(f"test://{DATA / 'auth.xml'}", auth, 0)
    assert info.value.get_error_code() == libvirt.VIR_ERR_AUTH_FAILED


def test_open_auth_callback_refusing_cancels(quiet: object) -> None:
    auth = [[libvirt.VIR_CRED_AUTHNAME], lambda creds, opaque: -1, None]
    with pytest.raises(libvirt.libvirtError) as info:
        libvirt.openAuth(f"test://{DATA / 'auth.xml'}", auth, 0)
    assert info.value.get_error_code() == libvirt.VIR_ERR_AUTH_CANCELLED


def test_get_version_without_a_name_is_the_library_version() -> None:
    assert libvirt.getVersion() == 9000000


def test_get_version_with_a_driver_name_is_a_pair() -> None:
    assert libvirt.getVersion("Test") == (9000000, 9000000)


def test_connection_queries(conn: libvirt.virConnect) -> None:
    got = (conn.getType(), conn.getVersion(), conn.getURI(), conn.getLibVersion(), conn.isAlive())
    assert got == ("TEST", 2, "test:///default", 9000000, 1)


def test_node_info_is_a_list(conn: libvirt.virConnect) -> None:
    assert conn.getInfo() == ["i686", 3072, 16, 1400, 2, 2, 2, 2]


def test_legacy_listing_pair(conn: libvirt.virConnect) -> None:
    assert (conn.listDomainsID(), conn.listDefinedDomains()) == ([1], [])


def test_list_all_domains_returns_virdomains(conn: libvirt.virConnect) -> None:
    assert [type(d).__name__ + ":" + d.name() for d in conn.listAllDomains()] == ["virDomain:test"]


def test_lookups_find_the_same_domain(conn: libvirt.virConnect) -> None:
    by_name = conn.lookupByName("test")
    found = [
        conn.lookupByID(1),
        conn.lookupByUUIDString(TEST_UUID),
        conn.lookupByUUID(uuid.UUID(TEST_UUID).bytes),
    ]
    assert all(d == by_name for d in found)


def test_domain_identity(conn: libvirt.virConnect) -> None:
    dom = conn.lookupByName("test")
    got = (dom.name(), dom.ID(), dom.UUIDString(), dom.UUID())
    assert got == ("test", 1, TEST_UUID, uuid.UUID(TEST_UUID).bytes)


def test_domain_info_equals_libvirt_pythons_list(conn: libvirt.virConnect) -> None:
    info = conn.lookupByName("test").info()
    assert isinstance(info, list)
    assert info[:4] == [1, 8388608, 2097152, 2]


def test_domain_state_items_are_enum_members(conn: libvirt.virConnect) -> None:
    state = conn.lookupByName("test").state()
    assert state == [DomainState.RUNNING, DomainRunningReason.UNKNOWN]
    assert state == [1, 0]


def test_lifecycle_calls_return_zero(conn: libvirt.virConnect) -> None:
    dom = conn.lookupByName("test")
    assert [dom.suspend(), dom.resume(), dom.destroy(), dom.create()] == [0, 0, 0, 0]


def test_lifecycle_changes_state(conn: libvirt.virConnect) -> None:
    dom = conn.lookupByName("test")
    dom.destroy()
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED]


# What libvirt 9.0's test driver answers (testDomainSuspend/Resume/DestroyFlags).
@pytest.mark.parametrize(
    ("call", "code", "message"),
    [
        ("suspend", libvirt.VIR_ERR_INTERNAL_ERROR, "internal error: domain 'test' not running"),
        ("resume", libvirt.VIR_ERR_INTERNAL_ERROR, "internal error: domain 'test' not paused"),
        (
            "destroy",
            libvirt.VIR_ERR_OPERATION_INVALID,
            "Requested operation is not valid: domain is not running",
        ),
    ],
)
def test_lifecycle_calls_on_an_inactive_domain_raise_libvirts_error(
    conn: libvirt.virConnect, quiet: object, call: str, code: int, message: str
) -> None:
    dom = conn.lookupByName("test")
    dom.destroy()
    with pytest.raises(libvirt.libvirtError) as info:
        getattr(dom, call)()
    assert info.value.get_error_code() == code
    assert info.value.get_error_message() == message
    assert libvirt.virGetLastError() == info.value.err


def test_a_successful_call_clears_the_last_error(conn: libvirt.virConnect, quiet: object) -> None:
    dom = conn.lookupByName("test")
    dom.destroy()
    with pytest.raises(libvirt.libvirtError):
        dom.suspend()
    assert [dom.isActive(), dom.info()[0]] == [0, libvirt.VIR_DOMAIN_SHUTOFF]
    assert libvirt.virGetLastError() is None


def test_is_active_is_an_int(conn: libvirt.virConnect) -> None:
    active = conn.lookupByName("test").isActive()
    assert (type(active), active) == (int, 1)


def test_define_and_undefine(conn: libvirt.virConnect) -> None:
    xml = (
        "<domain type='test'><name>d1</name><memory>8192</memory><os><type>hvm</type></os></domain>"
    )
    dom = conn.defineXML(xml)
    assert (dom.name(), dom.isActive(), dom.isPersistent()) == ("d1", 0, 1)
    dom.undefine()
    assert "d1" not in conn.listDefinedDomains()


def test_xml_desc_is_a_string(conn: libvirt.virConnect) -> None:
    assert conn.lookupByName("test").XMLDesc(0).startswith("<domain type='test' id='1'>")


def test_storage_pool_info_is_a_list(conn: libvirt.virConnect) -> None:
    info = conn.storagePoolLookupByName("default-pool").info()
    assert info == [libvirt.VIR_STORAGE_POOL_RUNNING, 107374182400, 0, 107374182400]


def test_secondary_object_lookups(conn: libvirt.virConnect) -> None:
    names = [
        conn.networkLookupByName("default").name(),
        conn.storagePoolLookupByName("default-pool").name(),
        conn.interfaceLookupByName("eth1").name(),
        conn.nodeDeviceLookupByName("computer").name(),
    ]
    assert names == ["default", "default-pool", "eth1", "computer"]


def test_legacy_secondary_listings(conn: libvirt.virConnect) -> None:
    got = (conn.listNetworks(), conn.listStoragePools(), conn.listInterfaces())
    assert got == (["default"], ["default-pool"], ["eth1"])


def test_list_all_devices_returns_node_devices(conn: libvirt.virConnect) -> None:
    assert sorted(d.name() for d in conn.listAllDevices(0)) == [
        "computer",
        "scsi_host1",
        "scsi_host11",
        "scsi_host2",
    ]


def test_context_manager_closes_the_connection(quiet: object) -> None:
    with libvirt.open("test:///default") as c:
        c.getType()
    assert c.native.closed


def test_collected_connection_is_closed(quiet: object) -> None:
    c = libvirt.open("test:///default")
    assert default_host_refcount() == 1
    del c
    gc.collect()
    assert default_host_refcount() == 0


def test_objects_keep_their_connection(conn: libvirt.virConnect) -> None:
    assert conn.lookupByName("test").connect() is conn


def test_keepalive_is_not_supported_by_a_local_driver(conn: libvirt.virConnect) -> None:
    with pytest.raises(libvirt.libvirtError) as info:
        conn.setKeepAlive(5, 3)
    assert info.value.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT


def test_domain_list_get_stats_rejects_non_domains(conn: libvirt.virConnect) -> None:
    with pytest.raises(libvirt.libvirtError, match="non-domain elements"):
        conn.domainListGetStats(["test"])  # type: ignore[list-item]


def test_integer_constants_are_ints_with_libvirts_values() -> None:
    assert (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_FROM_TEST) == (
        1,
        42,
        12,
    )
    assert isinstance(libvirt.VIR_DOMAIN_RUNNING, int)


def test_typed_parameter_names_are_strings() -> None:
    assert libvirt.VIR_DOMAIN_SCHEDULER_CPU_SHARES == "cpu_shares"


def test_unknown_module_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError):
        _ = libvirt.VIR_NO_SUCH_CONSTANT


def test_queries_work_on_a_read_only_connection(quiet: object) -> None:
    ro = libvirt.openReadOnly("test:///default")
    try:
        dom = ro.lookupByName("test")
        got = [dom.isActive(), dom.isPersistent(), dom.isUpdated(), dom.hasManagedSaveImage(0)]
        assert got == [1, 1, 0, 0]
    finally:
        ro.close()


def test_open_without_a_uri_uses_libvirt_default_uri(
    quiet: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIBVIRT_DEFAULT_URI", "test:///default")
    c = libvirt.open()
    try:
        assert c.getURI() == "test:///default"
    finally:
        c.close()
