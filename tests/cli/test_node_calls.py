"""The connection's node calls the host commands are built on, and lookup by WWN pair.

The argument checks are libvirt's public entry points' (same code, error
domain and whole message); the values are those of ``test:///default``,
which the virsh differential lines pin down as well. Device lookup by
``WWNN,WWPN`` is exercised against a node device table that implements
``virNodeDeviceLookupSCSIHostByWWN`` (the stock test driver, like libvirt's,
does not).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import virtcore
from tests.cli.differential import DEFAULT, Result, run_virtcore
from virtcore.connection import Connection
from virtcore.connection.host import HostCPUMap, SecurityModel
from virtcore.drivers.test.driver import reset_default_host
from virtcore.drivers.test.nodedev import TestNodeDeviceDriver
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import (
    ConnectionClosedError,
    InvalidArgError,
    NoNodeDeviceError,
    NoSupportError,
    OperationDeniedError,
)
from virtcore.objects import NodeDevice

WWNN, WWPN = "2000000012341234", "1000000012341234"


@pytest.fixture
def conn() -> Iterator[Connection]:
    reset_default_host()
    with virtcore.open(DEFAULT) as connection:
        yield connection
    reset_default_host()


def test_cpu_stats_are_the_drivers_counters(conn: Connection) -> None:
    assert conn.get_cpu_stats() == {
        "user": 9797400000,
        "kernel": 34678723400000,
        "idle": 87264900000,
        "iowait": 763600000,
    }


def test_cpu_stats_refuse_negative_cpus_other_than_all(conn: Connection) -> None:
    with pytest.raises(InvalidArgError) as caught:
        conn.get_cpu_stats(-2)
    assert (caught.value.domain, caught.value.message) == (
        ErrorDomain.DOMAIN,
        "cpuNum in virNodeGetCPUStats only accepts -1 as a negative value",
    )


def test_closed_connection_is_reported_before_bad_arguments() -> None:
    connection = virtcore.open(DEFAULT)
    connection.close()
    with pytest.raises(ConnectionClosedError):
        connection.get_cpu_stats(-2)


def test_memory_stats_check_the_cell_before_asking_the_driver(conn: Connection) -> None:
    with pytest.raises(InvalidArgError, match=r"^cellNum in virNodeGetMemoryStats only accepts"):
        conn.get_memory_stats(-5)


def test_memory_stats_unsupported_by_the_test_driver(conn: Connection) -> None:
    with pytest.raises(NoSupportError, match=r"virNodeGetMemoryStats$"):
        conn.get_memory_stats()


def test_cells_free_memory_checks_the_count_before_the_start(conn: Connection) -> None:
    with pytest.raises(InvalidArgError) as caught:
        conn.get_cells_free_memory(-1, 0)
    assert caught.value.message == (
        "maxCells in virNodeGetCellsFreeMemory must be greater than zero"
    )


def test_cells_free_memory_refuses_a_negative_start(conn: Connection) -> None:
    with pytest.raises(InvalidArgError) as caught:
        conn.get_cells_free_memory(-1, 1)
    assert caught.value.message == "startCell in virNodeGetCellsFreeMemory must be zero or greater"


def test_cells_free_memory_stops_at_the_last_cell(conn: Connection) -> None:
    assert len(conn.get_cells_free_memory(1, 10)) == 1


def test_free_memory_is_a_positive_byte_count(conn: Connection) -> None:
    assert conn.get_free_memory() > 0


def test_cpu_map_lists_online_cpus(conn: Connection) -> None:
    online = (True, False, True, False, True, False, False, False)
    assert conn.get_cpu_map() == HostCPUMap(8, online, 3)


def test_security_model_of_the_test_driver(conn: Connection) -> None:
    assert conn.get_security_model() == SecurityModel("testSecurity", "")


def test_domain_capabilities_refused_read_only() -> None:
    with virtcore.open_read_only(DEFAULT) as ro:
        with pytest.raises(OperationDeniedError, match=r"virConnectGetDomainCapabilities$"):
            ro.get_domain_capabilities()


def test_lookup_by_wwn_unsupported_by_the_test_driver(conn: Connection) -> None:
    with pytest.raises(NoSupportError) as caught:
        conn.node_device_lookup_scsi_host_by_wwn(WWNN, WWPN)
    assert (caught.value.code, caught.value.domain) == (ErrorNumber.NO_SUPPORT, ErrorDomain.NODEDEV)


def test_console_stream_must_belong_to_the_domains_connection(conn: Connection) -> None:
    dom = conn.domain_lookup_by_name("test")
    with virtcore.open(DEFAULT) as other:
        with pytest.raises(
            InvalidArgError, match=r"^stream must match connection of domain 'test'$"
        ):
            conn.domain_open_console(dom, None, other.new_stream())


def test_console_read_only_refused_before_the_stream_check(conn: Connection) -> None:
    with virtcore.open_read_only(DEFAULT) as ro:
        dom = ro.domain_lookup_by_name("test")
        with pytest.raises(OperationDeniedError, match=r"virDomainOpenConsole$"):
            ro.domain_open_console(dom, None, conn.new_stream())


# -- lookup by WWN pair through the command line ------------------------------------------


@pytest.fixture
def wwn_lookups(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Give the test driver a WWN lookup that finds scsi_host1; records what it was asked."""
    asked: list[tuple[str, str]] = []

    def lookup(
        self: TestNodeDeviceDriver, conn: Connection, wwnn: str, wwpn: str, flags: int
    ) -> NodeDevice:
        asked.append((wwnn, wwpn))
        if (wwnn.removeprefix("0x"), wwpn.removeprefix("0x")) != (WWNN, WWPN):
            raise NoNodeDeviceError("no matching SCSI host", domain=ErrorDomain.NODEDEV)
        return NodeDevice(conn, "scsi_host1")

    monkeypatch.setattr(
        TestNodeDeviceDriver, "node_device_lookup_scsi_host_by_wwn", lookup, raising=False
    )
    return asked


def test_dumpxml_by_wwn_pair_shows_the_scsi_host(
    wwn_lookups: list[tuple[str, str]], workdir: Path
) -> None:
    by_wwn = run_virtcore(["-c", DEFAULT, f"nodedev-dumpxml {WWNN},{WWPN}"], workdir)
    by_name = run_virtcore(["-c", DEFAULT, "nodedev-dumpxml scsi_host1"], workdir)
    assert (by_wwn, by_name.status) == (by_name, 0)


def test_wwns_reach_the_driver_as_typed(wwn_lookups: list[tuple[str, str]], workdir: Path) -> None:
    run_virtcore(["-c", DEFAULT, f"nodedev-dumpxml 0x{WWNN},0x{WWPN}"], workdir)
    assert wwn_lookups == [(f"0x{WWNN}", f"0x{WWPN}")]


def test_destroy_by_wwn_pair_names_the_device_as_typed(
    wwn_lookups: list[tuple[str, str]], workdir: Path
) -> None:
    result = run_virtcore(["-c", DEFAULT, f"nodedev-destroy {WWNN},{WWPN}; nodedev-list"], workdir)
    assert result.out.startswith(f"Destroyed node device '{WWNN},{WWPN}'\n\n")
    assert "scsi_host1\n" not in result.out


def test_unknown_wwn_pair_is_reported_like_virsh(
    wwn_lookups: list[tuple[str, str]], workdir: Path
) -> None:
    result = run_virtcore(["-c", DEFAULT, f"nodedev-dumpxml {WWPN},{WWNN}"], workdir)
    assert result == Result(
        "\n",
        f"error: Could not find matching device '{WWPN},{WWNN}'\n"
        "error: Node device not found: no matching SCSI host\n",
        1,
    )


def test_malformed_wwn_is_refused_before_the_lookup(
    wwn_lookups: list[tuple[str, str]], workdir: Path
) -> None:
    run_virtcore(["-c", DEFAULT, f"nodedev-dumpxml {WWNN},12345"], workdir)
    assert wwn_lookups == []
