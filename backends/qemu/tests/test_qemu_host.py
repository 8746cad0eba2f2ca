"""Host calls of qemu connections: compared with real libvirt 9.0 where the answer is
deterministic, and checked on fixed /proc and /sys trees and SMBIOS tables."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest
from qemu_libvirt_oracle import shared_qemu_oracle

from virtcore.connection import Connection
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import ConfigUnsupportedError, InternalError, InvalidArgError, VirtError
from virtcore_qemu import nodeinfo
from virtcore_qemu.nodeinfo import NodePaths
from virtcore_qemu.sysinfo import host_sysinfo_xml, parse_table, sysinfo_xml

LIBVIRT_RUNNER = r"""
import json, sys
import libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
conn = libvirt.open(sys.argv[1])
def call(f, *a):
    try:
        r = f(*a)
        return list(r) if isinstance(r, (tuple, list)) else r
    except libvirt.libvirtError as e:
        return ["error", e.get_error_code(), e.get_error_domain(), e.get_error_message()]
print(json.dumps({
    "info": call(conn.getInfo),
    "max_none": call(conn.getMaxVcpus, None),
    "max_qemu": call(conn.getMaxVcpus, "qemu"),
    "max_kvm": call(conn.getMaxVcpus, "kvm"),
    "max_bogus": call(conn.getMaxVcpus, "bogus"),
    "version": call(conn.getVersion),
    "lib_version": call(conn.getLibVersion),
    "sysinfo": call(conn.getSysinfo, 0),
    "sysinfo_flags": call(conn.getSysinfo, 1),
    "cpu_map": call(conn.getCPUMap, 0),
    "cpu_map_flags": call(conn.getCPUMap, 1),
    "cells_far": call(conn.getCellsFreeMemory, 64, 1),
    "cells_count": len(conn.getCellsFreeMemory(0, 64)),
    "memory_stats_keys": sorted(conn.getMemoryStats(-1, 0)),
    "cell_stats_keys": sorted(conn.getMemoryStats(0, 0)),
    "cell_stats_far": call(conn.getMemoryStats, 64, 0),
    "memory_stats_flags": call(conn.getMemoryStats, -1, 1),
    "cpu_stats_keys": list(conn.getCPUStats(-1, 0)),
    "cpu_stats_far": call(conn.getCPUStats, 4096, 0),
    "cpu_stats_flags": call(conn.getCPUStats, -1, 1),
    "hostname": call(conn.getHostname),
    "type": call(conn.getType),
}))
"""


@pytest.fixture(scope="module")
def libvirt_host(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What real libvirt's qemu driver answers on this host."""
    oracle = shared_qemu_oracle(tmp_path_factory)
    proc = subprocess.run(
        ["/usr/bin/python3", "-c", LIBVIRT_RUNNER, oracle.uri],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def _outcome(call: Any, *args: Any) -> Any:
    try:
        result = call(*args)
    except VirtError as exc:
        return ["error", int(exc.code), int(exc.domain), exc.message]
    return result


# -- against libvirt --------------------------------------------------------------------


def test_node_info_equals_libvirts(conn: Connection, libvirt_host: dict[str, Any]) -> None:
    info = conn.get_info()
    expected = libvirt_host["info"]
    # every field but the MHz reading, which the host may change between reads
    assert [*info[:3], *info[4:]] == [*expected[:3], *expected[4:]]
    assert abs(info[3] - expected[3]) <= 50


def test_max_vcpus_equal_libvirts(conn: Connection, libvirt_host: dict[str, Any]) -> None:
    assert conn.get_max_vcpus(None) == libvirt_host["max_none"]
    assert conn.get_max_vcpus("qemu") == libvirt_host["max_qemu"]
    assert _outcome(conn.get_max_vcpus, "kvm") == libvirt_host["max_kvm"]


def test_unknown_vcpu_type_is_libvirts_invalid_argument(
    conn: Connection, libvirt_host: dict[str, Any]
) -> None:
    assert _outcome(conn.get_max_vcpus, "bogus") == libvirt_host["max_bogus"]


def test_versions_equal_libvirts(conn: Connection, libvirt_host: dict[str, Any]) -> None:
    assert conn.get_version() == libvirt_host["version"]
    assert conn.get_lib_version() == libvirt_host["lib_version"]
    assert conn.get_type() == libvirt_host["type"]
    assert conn.get_hostname() == libvirt_host["hostname"]


def test_sysinfo_answers_as_libvirt(conn: Connection, libvirt_host: dict[str, Any]) -> None:
    assert _outcome(conn.get_sysinfo) == libvirt_host["sysinfo"]
    assert _outcome(conn.get_sysinfo, 1) == libvirt_host["sysinfo_flags"]


def test_cpu_map_equals_libvirts(conn: Connection, libvirt_host: dict[str, Any]) -> None:
    cpus, online_map, online = conn.get_cpu_map()
    assert [cpus, list(online_map), online] == libvirt_host["cpu_map"]
    assert _outcome(conn.get_cpu_map, 1) == libvirt_host["cpu_map_flags"]


def test_memory_figures_have_libvirts_keys_and_errors(
    conn: Connection, libvirt_host: dict[str, Any]
) -> None:
    assert sorted(conn.get_memory_stats()) == libvirt_host["memory_stats_keys"]
    assert sorted(conn.get_memory_stats(0)) == libvirt_host["cell_stats_keys"]
    assert _outcome(conn.get_memory_stats, 64) == libvirt_host["cell_stats_far"]
    assert _outcome(conn.get_memory_stats, -1, 1) == libvirt_host["memory_stats_flags"]
    assert len(conn.get_cells_free_memory(0, 64)) == libvirt_host["cells_count"]
    assert _outcome(conn.get_cells_free_memory, 64, 1) == libvirt_host["cells_far"]


def test_cpu_times_have_libvirts_keys_and_errors(
    conn: Connection, libvirt_host: dict[str, Any]
) -> None:
    assert list(conn.get_cpu_stats()) == libvirt_host["cpu_stats_keys"]
    assert _outcome(conn.get_cpu_stats, 4096) == libvirt_host["cpu_stats_far"]
    assert _outcome(conn.get_cpu_stats, -1, 1) == libvirt_host["cpu_stats_flags"]


def test_connection_is_secure_unencrypted_and_alive(conn: Connection) -> None:
    assert conn.is_secure() and conn.is_alive() and not conn.is_encrypted()


# -- fixed host trees -------------------------------------------------------------------


def _cpu(root: Path, number: int, package: int, core: int, siblings: str) -> None:
    topology = root / "sys" / "cpu" / f"cpu{number}" / "topology"
    topology.mkdir(parents=True)
    (topology / "physical_package_id").write_text(f"{package}\n")
    (topology / "core_id").write_text(f"{core}\n")
    (topology / "thread_siblings_list").write_text(f"{siblings}\n")


def _host(root: Path, *, nodes: dict[int, list[int]], online: str, present: str) -> NodePaths:
    """A /sys and /proc tree: NUMA nodes holding CPUs, each node with 1 GiB, 256 MiB free."""
    sysfs, procfs = root / "sys", root / "proc"
    (sysfs / "cpu").mkdir(parents=True, exist_ok=True)
    (sysfs / "cpu" / "online").write_text(online + "\n")
    (sysfs / "cpu" / "present").write_text(present + "\n")
    for node, cpus in nodes.items():
        directory = sysfs / "node" / f"node{node}"
        directory.mkdir(parents=True)
        for cpu in cpus:
            (directory / f"cpu{cpu}").mkdir()
        (directory / "meminfo").write_text(
            f"Node {node} MemTotal:       1048576 kB\nNode {node} MemFree:         262144 kB\n"
        )
    procfs.mkdir()
    (procfs / "cpuinfo").write_text("processor\t: 0\ncpu MHz\t\t: 2999.998\n")
    (procfs / "meminfo").write_text(
        "MemTotal:        2097152 kB\nMemFree:          524288 kB\n"
        "Buffers:            1024 kB\nCached:             2048 kB\n"
    )
    (procfs / "stat").write_text("cpu  100 20 30 400 5 6 7 0 0 0\ncpu0 50 10 15 200 2 3 4 0 0 0\n")
    return NodePaths(sysfs=sysfs, procfs=procfs, kvm=root / "kvm")


def test_two_sockets_of_two_hyperthreaded_cores(tmp_path: Path) -> None:
    for cpu in range(8):
        package, core = divmod(cpu % 4, 2)
        _cpu(tmp_path, cpu, package, core, f"{cpu % 4},{cpu % 4 + 4}")
    paths = _host(tmp_path, nodes={0: list(range(8))}, online="0-7", present="0-7")
    info = nodeinfo.node_info(paths)
    assert (info.nodes, info.sockets, info.cores, info.threads, info.cpus) == (1, 2, 2, 2, 8)
    assert (info.mhz, info.memory_kib) == (2999, 1048576)


def test_topology_nodeinfo_cannot_express_becomes_one_core_per_cpu(tmp_path: Path) -> None:
    _cpu(tmp_path, 0, 0, 0, "0")
    _cpu(tmp_path, 1, 0, 1, "1")
    _cpu(tmp_path, 2, 1, 0, "2")
    paths = _host(tmp_path, nodes={0: [0, 1, 2]}, online="0-2", present="0-2")
    info = nodeinfo.node_info(paths)
    assert (info.nodes, info.sockets, info.cores, info.threads) == (1, 1, 3, 1)


def test_offline_cpus_count_in_the_topology_but_not_as_cpus(tmp_path: Path) -> None:
    for cpu in range(4):
        _cpu(tmp_path, cpu, 0, cpu, str(cpu))
    paths = _host(tmp_path, nodes={0: [0, 1, 2, 3]}, online="0-2", present="0-3")
    info = nodeinfo.node_info(paths)
    # three online cores cannot explain four CPUs: libvirt's one-core-per-CPU answer
    assert (info.cpus, info.cores) == (3, 4)
    assert nodeinfo.cpu_map(0, paths) == (4, bytes([0b0111]), 3)


def test_memory_of_two_nodes_is_summed(tmp_path: Path) -> None:
    _cpu(tmp_path, 0, 0, 0, "0")
    _cpu(tmp_path, 1, 1, 0, "1")
    paths = _host(tmp_path, nodes={0: [0], 1: [1]}, online="0-1", present="0-1")
    assert nodeinfo.node_info(paths).memory_kib == 2 * 1048576
    assert nodeinfo.free_memory(paths) == 2 * 262144 * 1024
    assert nodeinfo.cells_free_memory(1, 5, paths) == [262144 * 1024]


def test_cell_out_of_range_is_libvirts_internal_error(tmp_path: Path) -> None:
    paths = _host(tmp_path, nodes={0: []}, online="0", present="0")
    with pytest.raises(InternalError) as err:
        nodeinfo.cells_free_memory(2, 1, paths)
    assert err.value.message == "internal error: start cell 2 out of range (0-0)"
    assert err.value.domain == ErrorDomain.NONE


def test_cpu_times_are_ticks_in_nanoseconds(tmp_path: Path) -> None:
    paths = _host(tmp_path, nodes={0: []}, online="0", present="0")
    tick = nodeinfo._TICK_NS
    assert nodeinfo.cpu_stats(-1, 0, paths) == {
        "kernel": (30 + 6 + 7) * tick,
        "user": (100 + 20) * tick,
        "idle": 400 * tick,
        "iowait": 5 * tick,
    }
    assert nodeinfo.cpu_stats(0, 0, paths)["user"] == 60 * tick


def test_host_and_cell_memory_figures(tmp_path: Path) -> None:
    paths = _host(tmp_path, nodes={0: []}, online="0", present="0")
    assert nodeinfo.memory_stats(-1, 0, paths) == {
        "total": 2097152,
        "free": 524288,
        "buffers": 1024,
        "cached": 2048,
    }
    assert nodeinfo.memory_stats(0, 0, paths) == {"total": 1048576, "free": 262144}


def test_kvm_limit_without_dev_kvm_is_libvirts_system_error(tmp_path: Path) -> None:
    paths = _host(tmp_path, nodes={0: []}, online="0", present="0")
    with pytest.raises(VirtError) as err:
        nodeinfo.kvm_max_vcpus(paths)
    assert err.value.code == ErrorNumber.SYSTEM_ERROR
    assert f"Unable to open {tmp_path / 'kvm'}: No such file or directory" in err.value.message


# -- SMBIOS -----------------------------------------------------------------------------


def _structure(kind: int, handle: int, body: bytes, *strings: str) -> bytes:
    header = struct.pack("<BBH", kind, 4 + len(body), handle)
    area = b"".join(s.encode() + b"\0" for s in strings) + b"\0"
    return header + body + (area if strings else b"\0\0")


def _table() -> bytes:
    bios = bytes([1, 2, 0, 0, 3, 0]) + bytes(10) + bytes([1, 16])
    uuid = bytes.fromhex("33221100554477668899aabbccddeeff")
    system = bytes([1, 2, 3, 4]) + uuid + bytes([6, 5, 6])
    board = bytes([1, 2, 0, 0, 0, 0, 3])
    chassis = bytes([1, 1, 2, 0, 0]) + bytes(10) + bytes([0, 0, 0])
    return (
        _structure(0, 0, bios, "SeaBIOS", "1.16.0", "04/01/2014")
        + _structure(1, 1, system, "QEMU", "Standard PC", "pc-7.2", "S1", "KVM", "Fam")
        + _structure(2, 2, board, "Maker", "Board", "Slot A")
        + _structure(3, 3, chassis, "QEMU", "pc-7.2")
        + _structure(11, 4, bytes([2]), "first", "a<b")
        + _structure(127, 5, b"")
    )


def test_smbios_table_splits_into_its_structures() -> None:
    assert [s.type for s in parse_table(_table())] == [0, 1, 2, 3, 11, 127]


def test_smbios_table_formats_as_libvirts_sysinfo() -> None:
    assert sysinfo_xml(_table(), b"_SM3_" + bytes([0, 0, 3, 2])) == (
        "<sysinfo type='smbios'>\n"
        "  <bios>\n"
        "    <entry name='vendor'>SeaBIOS</entry>\n"
        "    <entry name='version'>1.16.0</entry>\n"
        "    <entry name='date'>04/01/2014</entry>\n"
        "    <entry name='release'>1.16</entry>\n"
        "  </bios>\n"
        "  <system>\n"
        "    <entry name='manufacturer'>QEMU</entry>\n"
        "    <entry name='product'>Standard PC</entry>\n"
        "    <entry name='version'>pc-7.2</entry>\n"
        "    <entry name='serial'>S1</entry>\n"
        "    <entry name='uuid'>00112233-4455-6677-8899-AABBCCDDEEFF</entry>\n"
        "    <entry name='sku'>KVM</entry>\n"
        "    <entry name='family'>Fam</entry>\n"
        "  </system>\n"
        "  <baseBoard>\n"
        "    <entry name='manufacturer'>Maker</entry>\n"
        "    <entry name='product'>Board</entry>\n"
        "    <entry name='version'>Not Specified</entry>\n"
        "    <entry name='serial'>Not Specified</entry>\n"
        "    <entry name='asset'>Not Specified</entry>\n"
        "    <entry name='location'>Slot A</entry>\n"
        "  </baseBoard>\n"
        "  <chassis>\n"
        "    <entry name='manufacturer'>QEMU</entry>\n"
        "    <entry name='version'>pc-7.2</entry>\n"
        "    <entry name='serial'>Not Specified</entry>\n"
        "    <entry name='asset'>Not Specified</entry>\n"
        "    <entry name='sku'>Not Specified</entry>\n"
        "  </chassis>\n"
        "  <oemStrings>\n"
        "    <entry>first</entry>\n"
        "    <entry>a&lt;b</entry>\n"
        "  </oemStrings>\n"
        "</sysinfo>\n"
    )


def test_unreadable_smbios_is_libvirts_unavailable_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigUnsupportedError) as err:
        host_sysinfo_xml(tmp_path / "DMI", tmp_path / "entry")
    assert (
        err.value.message == "unsupported configuration: Host SMBIOS information is not available"
    )


def test_vcpu_type_error_names_the_type(conn: Connection) -> None:
    with pytest.raises(InvalidArgError, match="unknown type 'xen'"):
        conn.get_max_vcpus("xen")
