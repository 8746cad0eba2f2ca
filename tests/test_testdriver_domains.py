"""Domain configuration, statistics and guest calls of the test driver.

Each test states one behaviour through virtcore's native API: metadata and
its events, rename, memory and vCPU sizing, pinning, IOThreads, perf events,
lifecycle actions, statistics, bulk statistics, guest queries, keys,
screenshots, and the calls libvirt's test driver lacks and virtcore models on
the QEMU driver (device hot-plug, jobs, power management). Behaviour shared
with libvirt is compared byte for byte in
``tests/test_testdriver_domain_differential.py``.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import virtcore
import virtcore.drivers.test.plugin as test_plugin
from virtcore.connection import Connection
from virtcore.drivers.test import driver as test_driver
from virtcore.enums.domain import (
    DomainMetadataType,
    DomainModificationImpact,
    DomainRunningReason,
    DomainState,
)
from virtcore.enums.domain_events import DomainEventID, DomainEventType
from virtcore.enums.domain_guest import DomainStatsTypes, KeycodeSet
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import (
    DeviceMissingError,
    InternalError,
    InvalidArgError,
    NoDomainMetadataError,
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
LIVE = DomainModificationImpact.LIVE
CONFIG = DomainModificationImpact.CONFIG
DISK = "<disk type='file'><source file='/b.img'/><target dev='vdb' bus='virtio'/></disk>"
IDE_DISK = "<disk type='file'><source file='/c.img'/><target dev='hdb'/></disk>"
NIC = "<interface type='user'><mac address='52:54:00:00:00:09'/></interface>"


def domain_xml(name: str = "ev", tail: str = "01", extra: str = "", devices: str = "") -> str:
    return (
        f"<domain type='test'><name>{name}</name><uuid>{U}{tail}</uuid>{extra}"
        f"<memory>4096</memory><vcpu current='1'>4</vcpu><os><type>hvm</type></os>"
        f"<devices><disk type='file'><source file='/a.img'/><target dev='vda'/></disk>"
        f"{devices}</devices></domain>"
    )


class Events:
    """Every domain event one connection receives, as (event id, domain, args)."""

    def __init__(self, conn: Connection) -> None:
        self.items: list[tuple[int, str, tuple[Any, ...]]] = []
        for event_id in DomainEventID:
            conn.domain_event_register_any(event_id, self._on_event)

    def _on_event(self, conn: Connection, dom: Handle, event: Event) -> None:
        assert isinstance(dom, Domain)
        self.items.append((event.event_id, dom.name, event.args))

    def drain(self) -> list[tuple[int, str, tuple[Any, ...]]]:
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
    """An inactive persistent domain: 4096 KiB, 1 of 4 vCPUs, disk vda."""
    return conn.domain_define_xml(domain_xml())


@pytest.fixture
def running(ev: Domain) -> Domain:
    ev.create()
    return ev


def error_of(call: Any, *args: Any) -> VirtError:
    with pytest.raises(VirtError) as info:
        call(*args)
    return info.value


# -- metadata and rename ------------------------------------------------------------------


def test_setting_the_title_emits_metadata_change(conn: Connection, test_dom: Domain) -> None:
    events = Events(conn)
    test_dom.set_metadata(DomainMetadataType.TITLE, "Web server")
    assert test_dom.metadata(DomainMetadataType.TITLE) == "Web server"
    assert events.drain() == [
        (DomainEventID.METADATA_CHANGE, "test", (DomainMetadataType.TITLE, None))
    ]


def test_live_metadata_does_not_reach_the_persistent_definition(test_dom: Domain) -> None:
    test_dom.set_metadata(DomainMetadataType.DESCRIPTION, "live only")
    err = error_of(test_dom.metadata, DomainMetadataType.DESCRIPTION, None, CONFIG)
    assert isinstance(err, NoDomainMetadataError)
    assert err.message == "metadata not found: Requested metadata element is not present"


def test_custom_metadata_is_stored_under_its_namespace(test_dom: Domain) -> None:
    uri = "http://example.org/app"
    test_dom.set_metadata(DomainMetadataType.ELEMENT, "<cfg n='1'><x>y</x></cfg>", "app", uri)
    assert test_dom.metadata(DomainMetadataType.ELEMENT, uri) == '<cfg n="1">\n  <x>y</x>\n</cfg>'
    assert '<app:cfg xmlns:app="http://example.org/app" n="1">' in test_dom.xml_desc()


def test_setting_custom_metadata_again_replaces_it(test_dom: Domain) -> None:
    uri = "http://example.org/app"
    test_dom.set_metadata(DomainMetadataType.ELEMENT, "<a/>", "app", uri)
    test_dom.set_metadata(DomainMetadataType.ELEMENT, "<b/>", "app", uri)
    assert test_dom.metadata(DomainMetadataType.ELEMENT, uri) == "<b/>"
    test_dom.set_metadata(DomainMetadataType.ELEMENT, None, None, uri)
    with pytest.raises(NoDomainMetadataError):
        test_dom.metadata(DomainMetadataType.ELEMENT, uri)


def test_title_cannot_contain_newlines(test_dom: Domain) -> None:
    err = error_of(test_dom.set_metadata, DomainMetadataType.TITLE, "a\nb")
    assert isinstance(err, InvalidArgError)
    assert err.message == "metadata title can't contain newlines"


def test_rename_emits_undefined_then_defined_renamed(conn: Connection, ev: Domain) -> None:
    events = Events(conn)
    ev.rename("ev2")
    lifecycle = [e for e in events.drain() if e[0] == DomainEventID.LIFECYCLE]
    assert lifecycle == [
        (0, "ev", (DomainEventType.UNDEFINED, 1)),
        (0, "ev2", (DomainEventType.DEFINED, 2)),
    ]
    assert conn.domain_lookup_by_name("ev2").uuid == ev.uuid


def test_running_domain_cannot_be_renamed(test_dom: Domain) -> None:
    err = error_of(test_dom.rename, "other")
    assert isinstance(err, OperationInvalidError)
    assert err.message == "Requested operation is not valid: cannot rename active domain"


# -- memory and vCPUs ---------------------------------------------------------------------


def test_balloon_cannot_exceed_maximum_memory(ev: Domain) -> None:
    err = error_of(ev.set_memory, 8192)
    assert err.message == "invalid argument: cannot set memory higher than max memory"


def test_lowering_maximum_memory_lowers_the_balloon(ev: Domain) -> None:
    ev.set_max_memory(1000)
    assert tuple(ev.info())[1:3] == (1000, 1000)


def test_maximum_memory_of_a_running_domain_is_fixed(running: Domain) -> None:
    err = error_of(running.set_max_memory, 1000)
    assert err.message == (
        "Requested operation is not valid: cannot resize the maximum memory on an active domain"
    )


def test_live_vcpu_change_keeps_the_persistent_count(running: Domain) -> None:
    running.set_vcpus(3, LIVE)
    assert running.vcpus_flags(LIVE) == 3
    assert running.vcpus_flags(CONFIG) == 1


def test_vcpu_count_is_bounded_by_the_maximum(ev: Domain) -> None:
    err = error_of(ev.set_vcpus, 5)
    assert err.message == "invalid argument: requested cpu amount exceeds maximum (5 > 4)"


def test_vcpus_report_one_entry_per_online_vcpu(running: Domain) -> None:
    running.set_vcpus(2, LIVE)
    infos, maps = running.vcpus()
    assert [(i.number, i.state, i.cpu) for i in infos] == [(0, 1, 15), (1, 1, 15)]
    assert maps == [(True,) * 8, (True,) * 8]


def test_pinning_a_vcpu_changes_its_affinity_and_reported_cpu(running: Domain) -> None:
    running.pin_vcpu(0, [False, True, True])
    infos, maps = running.vcpus()
    assert infos[0].cpu == 2
    assert maps[0][:4] == (False, True, True, False)
    assert "<vcpupin vcpu='0' cpuset='1-2'/>" in running.xml_desc()


def test_emulator_pin_needs_a_cpu(ev: Domain) -> None:
    err = error_of(ev.pin_emulator, [False, False])
    assert err.message == "invalid argument: Empty cpu list for pinning"


# -- IOThreads, perf events, lifecycle actions ----------------------------------------------


def test_added_iothread_appears_in_the_definition_and_info(ev: Domain) -> None:
    ev.add_io_thread(3)
    assert [info.iothread_id for info in ev.io_thread_info()] == [3]
    assert "<iothreadids>\n    <iothread id='3'/>\n  </iothreadids>" in ev.xml_desc()


def test_iothread_ids_are_unique(ev: Domain) -> None:
    ev.add_io_thread(3)
    err = error_of(ev.add_io_thread, 3)
    assert err.message == "invalid argument: an IOThread is already using iothread_id '3'"


def test_iothread_statistics_report_polling_parameters(conn: Connection, running: Domain) -> None:
    running.add_io_thread(5)
    running.set_io_thread_params(5, {"poll_max_ns": 100, "poll_grow": 2})
    ((dom, params),) = conn.domain_list_get_stats([running], DomainStatsTypes.IOTHREAD)
    assert dom.name == "ev"
    assert params == {
        "iothread.count": 1,
        "iothread.5.poll-max-ns": 100,
        "iothread.5.poll-grow": 2,
        "iothread.5.poll-shrink": 0,
    }


def test_perf_events_are_reported_in_libvirts_order(ev: Domain) -> None:
    ev.set_perf_events({"cpu_cycles": True, "cmt": False})
    assert "<perf>\n    <event name='cmt' enabled='no'/>\n    <event name='cpu_cycles'" in (
        ev.xml_desc()
    )
    assert ev.perf_events()["cpu_cycles"] is True


def test_unknown_perf_event_is_refused(ev: Domain) -> None:
    err = error_of(ev.set_perf_events, {"nosuch": True})
    assert err.code == ErrorNumber.ARGUMENT_UNSUPPORTED


def test_poweroff_cannot_dump_core(ev: Domain) -> None:
    err = error_of(ev.set_lifecycle_action, 0, 4)
    assert err.message == (
        "unsupported configuration: Lifecycle event 'poweroff' doesn't support "
        "'coredump-destroy' action"
    )


def test_lifecycle_action_changes_what_shutdown_does(conn: Connection, running: Domain) -> None:
    running.set_lifecycle_action(0, 1, LIVE)
    running.shutdown()
    assert running.state().state == DomainState.RUNNING


# -- resource tuning ----------------------------------------------------------------------

MAC = "52:54:00:00:00:09"
UNLIMITED = 9007199254740991


def test_memory_limits_start_unlimited_and_can_be_set(ev: Domain) -> None:
    assert ev.memory_parameters() == dict.fromkeys(
        ("hard_limit", "soft_limit", "swap_hard_limit"), UNLIMITED
    )
    ev.set_memory_parameters({"hard_limit": 2048, "soft_limit": 1024})
    assert ev.memory_parameters()["hard_limit"] == 2048
    assert "<hard_limit unit='KiB'>2048</hard_limit>" in ev.xml_desc()


def test_numa_mode_and_nodeset_are_stored_and_printed(ev: Domain) -> None:
    assert ev.numa_parameters() == {"numa_mode": 0, "numa_nodeset": ""}
    ev.set_numa_parameters({"numa_nodeset": "0-1", "numa_mode": 1})
    assert ev.numa_parameters() == {"numa_mode": 1, "numa_nodeset": "0-1"}
    assert "<memory mode='preferred' nodeset='0-1'/>" in ev.xml_desc()


def test_blkio_weight_is_stored(ev: Domain) -> None:
    ev.set_blkio_parameters({"weight": 300})
    assert ev.blkio_parameters()["weight"] == 300
    assert "<weight>300</weight>" in ev.xml_desc()


def test_block_io_tune_rejects_total_together_with_read(ev: Domain) -> None:
    err = error_of(ev.set_block_io_tune, "vda", {"total_bytes_sec": 1, "read_bytes_sec": 2})
    assert isinstance(err, InvalidArgError)
    assert err.message == (
        "invalid argument: total and read/write of bytes_sec cannot be set at the same time"
    )


def test_block_io_limit_needs_a_maximum_at_least_as_high(ev: Domain) -> None:
    # libvirt's test driver compares against the unset (0) maximum too.
    err = error_of(ev.set_block_io_tune, "vda", {"total_bytes_sec": 1000})
    assert err.message == (
        "invalid argument: total_bytes_sec cannot be set higher than total_bytes_sec_max "
    )


def test_block_io_tune_without_group_prints_no_group(ev: Domain) -> None:
    ev.set_block_io_tune("vda", {"total_bytes_sec": 1000, "total_bytes_sec_max": 1000})
    assert ev.block_io_tune("vda")["total_bytes_sec"] == 1000
    xml = ev.xml_desc()
    assert "<total_bytes_sec>1000</total_bytes_sec>" in xml
    assert "group_name" not in xml


def test_an_empty_group_name_stays_in_the_definition(ev: Domain) -> None:
    ev.set_block_io_tune("vda", {"group_name": ""})
    assert ev.block_io_tune("vda")["group_name"] == ""
    assert "<iotune>\n        <group_name></group_name>\n      </iotune>" in ev.xml_desc()


def test_interface_bandwidth_drops_a_direction_without_average(conn: Connection) -> None:
    dom = conn.domain_define_xml(domain_xml(devices=NIC))
    dom.set_interface_parameters(MAC, {"inbound.average": 100, "outbound.peak": 5})
    params = dom.interface_parameters(MAC)
    assert (params["inbound.average"], params["outbound.peak"]) == (100, 0)
    assert "<bandwidth>\n        <inbound average='100'/>\n      </bandwidth>" in dom.xml_desc()


def test_cleared_bandwidth_is_printed_as_an_open_pair(conn: Connection) -> None:
    dom = conn.domain_define_xml(domain_xml(devices=NIC))
    dom.set_interface_parameters(MAC, {"inbound.average": 100})
    dom.set_interface_parameters(MAC, {"inbound.average": 0})
    assert "      <bandwidth>\n      </bandwidth>\n" in dom.xml_desc()


# -- statistics -----------------------------------------------------------------------------


def test_block_statistics_need_a_known_disk(running: Domain) -> None:
    stats = running.block_stats("vda")
    assert stats.rd_req > stats.rd_bytes > stats.wr_req > stats.wr_bytes > 0
    err = error_of(running.block_stats, "vdz")
    assert err.message == "invalid argument: invalid path: vdz"


def test_statistics_follow_the_virtual_clock(conn: Connection, running: Domain) -> None:
    from virtcore.drivers.test.determinism import determinism

    determinism(conn).enable_clock(100)
    assert tuple(running.block_stats("vda")) == (10_000_000, 5_000_000, 3_333_333, 2_500_000, 50)


def test_interface_statistics_find_interfaces_by_mac(conn: Connection, test_dom: Domain) -> None:
    assert test_dom.interface_stats("aa:bb:cc:dd:ee:ff").rx_bytes > 0
    err = error_of(test_dom.interface_stats, "eth9")
    assert err.message == "invalid argument: 'eth9' is not a known interface"


def test_memory_statistics_follow_the_balloon(test_dom: Domain) -> None:
    test_dom.set_memory(1000, LIVE)
    stats = test_dom.memory_stats()
    assert stats["actual"] == 1000 and stats["unused"] == 500 and stats["rss"] == 500


def test_block_info_reports_a_one_terabyte_image(ev: Domain) -> None:
    assert tuple(ev.block_info("/a.img")) == (1099506450432, 1099511627776, 1099511627776)


def test_bulk_statistics_report_state_of_each_domain(conn: Connection, ev: Domain) -> None:
    stats = dict((dom.name, params) for dom, params in conn.get_all_domain_stats())
    assert stats == {
        "ev": {"state.state": 5, "state.reason": 0},
        "test": {"state.state": 1, "state.reason": 0},
    }


def test_enforcing_unsupported_statistics_fails(conn: Connection) -> None:
    err = error_of(conn.get_all_domain_stats, DomainStatsTypes.BALLOON, 1 << 31)
    assert err.message == (
        "argument unsupported: Stats types bits 0x4 are not supported by this daemon"
    )


def test_a_running_domain_has_no_job(running: Domain) -> None:
    assert tuple(running.job_info()) == (0,) * 12
    assert running.job_stats() == {"type": 0}
    err = error_of(running.abort_job)
    assert err.message == "Requested operation is not valid: no job is active on the domain"


# -- guest ------------------------------------------------------------------------------------


def test_hostname_is_derived_from_the_domain_name(test_dom: Domain) -> None:
    assert test_dom.hostname() == "testhost"


def test_addresses_come_from_the_network_dhcp_range(test_dom: Domain) -> None:
    (iface,) = test_dom.interface_addresses()
    assert (iface.name, iface.hwaddr) == ("testnet0", "aa:bb:cc:dd:ee:ff")
    assert [tuple(a) for a in iface.addrs] == [(0, "192.168.122.3", 24)]


def test_freezing_counts_newly_frozen_filesystems(test_dom: Domain) -> None:
    assert test_dom.fs_freeze(["/"]) == 1
    assert test_dom.fs_freeze() == 1
    assert test_dom.fs_thaw() == 2
    err = error_of(test_dom.fs_freeze, ["/srv"])
    assert err.message == "Requested operation is not valid: mount point not found: /srv"


def test_guest_clock_drives_the_control_state(test_dom: Domain) -> None:
    assert tuple(test_dom.get_time()) == (627319920, 0)
    test_dom.set_time(20005)
    assert tuple(test_dom.control_info()) == (2, 0, 10005)


def test_key_codes_are_checked_against_the_key_map(test_dom: Domain) -> None:
    test_dom.send_key(KeycodeSet.LINUX, 10, [1, 0x20C])
    err = error_of(test_dom.send_key, KeycodeSet.LINUX, 10, [0x20D])
    assert isinstance(err, InternalError)
    assert err.message == "internal error: invalid keycode 525 of linux codeset"


def test_screenshot_streams_a_png_image(conn: Connection, test_dom: Domain) -> None:
    stream = conn.new_stream()
    assert test_dom.screenshot(stream) == "image/png"
    data = b""
    while chunk := stream.recv(65536):
        data += chunk
    stream.finish()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1120, 832)
    idat = data.index(b"IDAT")
    (length,) = struct.unpack(">I", data[idat - 4 : idat])
    assert len(zlib.decompress(data[idat + 4 : idat + 4 + length])) == (width + 1) * height


def test_a_finished_screenshot_stream_is_closed(conn: Connection, test_dom: Domain) -> None:
    stream = conn.new_stream()
    test_dom.screenshot(stream)
    stream.recv(16)
    stream.finish()
    err = error_of(stream.recv, 16)
    assert isinstance(err, InternalError)
    assert (err.domain, err.message) == (ErrorDomain.STREAMS, "internal error: stream is not open")
    stream.finish()  # finishing or aborting a closed stream is harmless, as in libvirt
    stream.abort()


def test_a_screenshot_stream_cannot_be_written(conn: Connection, test_dom: Domain) -> None:
    stream = conn.new_stream()
    test_dom.screenshot(stream)
    err = error_of(stream.send, b"x")
    assert (err.code, err.message) == (
        ErrorNumber.SYSTEM_ERROR,
        "cannot write to stream: Bad file descriptor",
    )
    stream.abort()


def test_security_label_is_enforced_while_running(test_dom: Domain, ev: Domain) -> None:
    assert tuple(test_dom.security_label()) == ("libvirt-test", True)
    assert tuple(ev.security_label()) == ("", False)


# -- power management (QEMU driver semantics) ---------------------------------------------------


def test_suspend_to_memory_and_wake_up(conn: Connection, running: Domain) -> None:
    events = Events(conn)
    running.pm_suspend_for_duration(0)
    assert running.state().state == DomainState.PMSUSPENDED
    running.pm_wakeup()
    assert tuple(running.state()) == (DomainState.RUNNING, DomainRunningReason.WAKEUP)
    assert events.drain() == [
        (DomainEventID.PMSUSPEND, "ev", (0,)),
        (DomainEventID.LIFECYCLE, "ev", (DomainEventType.PMSUSPENDED, 0)),
        (DomainEventID.PMWAKEUP, "ev", (0,)),
        (DomainEventID.LIFECYCLE, "ev", (DomainEventType.STARTED, 4)),
    ]


def test_suspend_to_disk_powers_the_guest_off(running: Domain) -> None:
    running.pm_suspend_for_duration(1)
    assert running.state().state == DomainState.SHUTOFF


def test_waking_a_running_guest_is_refused(running: Domain) -> None:
    err = error_of(running.pm_wakeup)
    assert err.message == (
        "Requested operation is not valid: Unable to wake up domain which is not suspended"
    )


# -- devices (QEMU driver semantics) ----------------------------------------------------------


def test_live_attach_adds_an_aliased_device_and_emits_device_added(
    conn: Connection, running: Domain
) -> None:
    events = Events(conn)
    running.attach_device(DISK, LIVE)
    assert "<alias name='virtio-disk1'/>" in running.xml_desc()
    assert "vdb" not in running.xml_desc(2)
    assert events.drain() == [(DomainEventID.DEVICE_ADDED, "ev", ("virtio-disk1",))]


def test_config_attach_changes_only_the_persistent_definition(
    conn: Connection, running: Domain
) -> None:
    events = Events(conn)
    running.attach_device(NIC, CONFIG)
    assert "52:54:00:00:00:09" in running.xml_desc(2)
    assert "52:54:00:00:00:09" not in running.xml_desc()
    assert events.drain() == []


def test_attaching_an_existing_disk_target_is_refused(ev: Domain) -> None:
    ev.attach_device(DISK)
    err = error_of(ev.attach_device, DISK)
    assert isinstance(err, OperationInvalidError)
    assert err.message == "Requested operation is not valid: target vdb already exists"


def test_ide_disks_cannot_be_hotplugged(running: Domain) -> None:
    err = error_of(running.attach_device, IDE_DISK, LIVE)
    assert isinstance(err, OperationUnsupportedError)


def test_live_attach_to_inactive_domain_is_refused(ev: Domain) -> None:
    err = error_of(ev.attach_device, DISK, LIVE)
    assert err.message == "Requested operation is not valid: domain is not running"
    assert err.domain == ErrorDomain.DOMAIN


def test_live_detach_emits_device_removed(conn: Connection, running: Domain) -> None:
    running.attach_device(DISK, LIVE)
    events = Events(conn)
    running.detach_device(DISK, LIVE)
    assert "vdb" not in running.xml_desc()
    assert events.drain() == [(DomainEventID.DEVICE_REMOVED, "ev", ("virtio-disk1",))]


def test_detaching_by_alias(running: Domain) -> None:
    running.attach_device(NIC, LIVE)
    running.detach_device_alias("net0", LIVE)
    assert "52:54:00:00:00:09" not in running.xml_desc()


def test_detaching_a_missing_device_reports_it(ev: Domain) -> None:
    err = error_of(ev.detach_device, DISK)
    assert isinstance(err, DeviceMissingError)
    assert err.message == "device not found: no target device vdb"


def test_detaching_an_interface_needs_a_unique_mac(ev: Domain) -> None:
    ev.attach_device(NIC)
    ev.attach_device(NIC)
    err = error_of(ev.detach_device, NIC)
    assert isinstance(err, OperationFailedError)
    assert err.message == (
        "operation failed: multiple devices matching MAC address 52:54:00:00:00:09 found"
    )


def test_update_changes_cdrom_media(running: Domain) -> None:
    cdrom = "<disk type='file' device='cdrom'><target dev='hdc'/>{}</disk>"
    running.attach_device(cdrom.format(""), CONFIG)
    running.destroy()
    running.create()
    running.update_device(cdrom.format("<source file='/iso/new.iso'/>"), LIVE)
    assert "/iso/new.iso" in running.xml_desc()
    err = error_of(running.update_device, DISK, LIVE)
    assert isinstance(err, DeviceMissingError)


# -- dumps, save images and other odds and ends --------------------------------------------------


def test_crash_dump_stops_the_domain_as_crashed(
    conn: Connection, running: Domain, tmp_path: Path
) -> None:
    events = Events(conn)
    running.core_dump(str(tmp_path / "core"), 1)
    assert (tmp_path / "core").read_bytes() == b"TestGuestMagic\0"
    assert tuple(running.state()) == (DomainState.SHUTOFF, 3)
    assert events.drain() == [(0, "ev", (DomainEventType.STOPPED, 2))]


def test_compressed_dumps_are_refused_after_writing_the_file(
    running: Domain, tmp_path: Path
) -> None:
    err = error_of(running.core_dump_with_format, str(tmp_path / "core"), 1)
    assert err.message == "Operation not supported: kdump-compressed format is not supported here"
    assert (tmp_path / "core").exists()


def test_save_image_definition_can_be_read_and_replaced(
    conn: Connection, running: Domain, tmp_path: Path
) -> None:
    image = str(tmp_path / "ev.save")
    running.save(image)
    assert "<memory unit='KiB'>4096</memory>" in conn.save_image_get_xml_desc(image)
    conn.save_image_define_xml(image, domain_xml().replace("4096", "8192"))
    assert "<memory unit='KiB'>8192</memory>" in conn.save_image_get_xml_desc(image)


def test_memory_peek_reads_counting_bytes(test_dom: Domain) -> None:
    assert test_dom.memory_peek(254, 4, 1) == b"\xfe\xff\x00\x01"
    err = error_of(test_dom.memory_peek, 0, 1, 0)
    assert err.message == (
        "invalid argument: flags parameter must be VIR_MEMORY_VIRTUAL or VIR_MEMORY_PHYSICAL"
    )


def test_only_init_can_be_signalled(test_dom: Domain) -> None:
    test_dom.send_process_signal(1, 9)
    err = error_of(test_dom.send_process_signal, 2, 9)
    assert err.message == "invalid argument: only sending a signal to pid 1 is supported"


def test_memory_stats_period_is_kept_in_the_balloon(test_dom: Domain) -> None:
    test_dom.set_memory_stats_period(5)
    assert "<memballoon model='virtio'>\n      <stats period='5'/>" in test_dom.xml_desc()


@pytest.mark.parametrize(
    ("call", "api"),
    [
        (lambda d: d.get_time(), "virDomainGetTime"),
        (lambda d: d.fs_info(), "virDomainGetFSInfo"),
        (lambda d: d.hostname(), "virDomainGetHostname"),
        (lambda d: d.interface_addresses(1), "virDomainInterfaceAddresses"),
        (lambda d: d.memory_peek(0, 1, 1), "virDomainMemoryPeek"),
        (lambda d: d.set_metadata(DomainMetadataType.TITLE, "t"), "virDomainSetMetadata"),
    ],
)
def test_guest_queries_need_a_read_write_connection(reg: Registry, call: Any, api: str) -> None:
    with virtcore.open_read_only("test:///default", registry=reg) as ro:
        err = error_of(call, ro.domain_lookup_by_name("test"))
    assert err.code == ErrorNumber.OPERATION_DENIED
    assert err.message == f"operation forbidden: read only access prevents {api}"


def test_lease_addresses_are_readable_on_a_read_only_connection(reg: Registry) -> None:
    with virtcore.open_read_only("test:///default", registry=reg) as ro:
        assert ro.domain_lookup_by_name("test").interface_addresses(0)
