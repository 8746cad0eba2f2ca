"""The ``--json`` documents: one JSON value on standard output, with the documented fields.

Every listing and info command that takes ``--json`` is run on a fresh
``test:///default`` host; the tests pin the field names and values that
``docs/cli.md`` promises scripts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli.differential import DEFAULT, run_virtcore

UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f"


def document(line: str, cwd: Path) -> Any:
    """The JSON document *line* prints; ``-q`` silences the commands run before it."""
    result = run_virtcore(["-q", "-c", DEFAULT, line], cwd)
    assert result.status == 0, result.err
    assert result.out.endswith("\n") and not result.out.endswith("\n\n")
    return json.loads(result.out)


def test_list_json_describes_each_domain(workdir: Path) -> None:
    assert document("list --all --json", workdir) == [
        {
            "id": 1,
            "name": "test",
            "uuid": UUID,
            "state": "running",
            "persistent": True,
            "autostart": False,
            "managed_save": False,
            "title": "",
        }
    ]


def test_list_json_honours_the_filters(workdir: Path) -> None:
    assert document("destroy test; list --json", workdir) == []


def test_list_json_gives_null_id_for_inactive_domains(workdir: Path) -> None:
    assert document("destroy test; list --all --json", workdir)[0]["id"] is None


def test_dominfo_json_fields(workdir: Path) -> None:
    info = document("dominfo test --json", workdir)
    assert set(info) == {
        "id", "name", "uuid", "os_type", "state", "vcpus", "cpu_time_ns", "max_memory_kib",
        "used_memory_kib", "persistent", "autostart", "managed_save", "security_model",
        "security_doi", "security_label", "security_enforcing", "messages",
    }  # fmt: skip
    assert info["max_memory_kib"] == 8388608 and info["used_memory_kib"] == 2097152
    assert info["security_label"] == "libvirt-test" and info["security_enforcing"] is True


def test_domstate_json_has_names_and_codes(workdir: Path) -> None:
    assert document("suspend test; domstate test --json", workdir) == {
        "state": "paused",
        "state_code": 3,
        "reason": "user",
        "reason_code": 1,
    }


def test_domblklist_and_domiflist_json(workdir: Path) -> None:
    assert document("domblklist test --json", workdir) == [
        {"type": "file", "device": "disk", "target": "vda", "source": "/guest/diskimage1"}
    ]
    assert document("domiflist test --json", workdir) == [
        {
            "interface": "testnet0",
            "type": "network",
            "source": "default",
            "model": None,
            "mac": "aa:bb:cc:dd:ee:ff",
        }
    ]


def test_statistics_json_are_field_to_number_maps(workdir: Path) -> None:
    blk = document("domblkstat test vda --json", workdir)
    assert set(blk) == {"rd_req", "rd_bytes", "wr_req", "wr_bytes", "errs"}
    nic = document("domifstat test testnet0 --json", workdir)
    assert list(nic)[:2] == ["rx_bytes", "rx_packets"] and len(nic) == 8
    assert document("dommemstat test --json", workdir)["actual"] == 2097152


def test_domblkinfo_json_in_bytes(workdir: Path) -> None:
    assert document("domblkinfo test vda --json", workdir) == {
        "target": "vda",
        "capacity": 1099506450432,
        "allocation": 1099511627776,
        "physical": 1099511627776,
    }
    assert [d["target"] for d in document("domblkinfo test --all --json", workdir)] == ["vda"]


def test_vcpu_json(workdir: Path) -> None:
    assert document("vcpucount test --json", workdir) == {
        "maximum": {"config": 2, "live": 2},
        "current": {"config": 2, "live": 2},
    }
    assert document("vcpucount test --maximum --json", workdir) == {"count": 2}
    vcpus = document("vcpuinfo test --json", workdir)
    assert [v["vcpu"] for v in vcpus] == [0, 1]
    assert vcpus[0]["affinity"] == list(range(8)) and vcpus[0]["state"] == "running"


def test_vcpuinfo_json_of_inactive_domain_has_nulls(workdir: Path) -> None:
    vcpu = document("destroy test; vcpuinfo test --json", workdir)[0]
    assert vcpu["cpu"] is None and vcpu["state"] is None and vcpu["cpu_time_ns"] is None


def test_domjobinfo_json_names_the_job_type(workdir: Path) -> None:
    assert document("domjobinfo test --json", workdir)["type"] == "None"


def test_host_json(workdir: Path) -> None:
    assert document("uri --json", workdir) == {"uri": DEFAULT}
    assert document("hostname --json", workdir) == {"hostname": "vm"}
    assert document("maxvcpus --json", workdir) == {"max_vcpus": 32}
    assert document("version --daemon --json", workdir) == {
        "library": "9.0.0",
        "api": "TEST 9.0.0",
        "hypervisor_type": "TEST",
        "hypervisor_version": "0.0.2",
        "daemon": "9.0.0",
    }
    assert document("nodeinfo --json", workdir) == {
        "cpu_model": "i686",
        "cpus": 16,
        "mhz": 1400,
        "sockets": 2,
        "cores_per_socket": 2,
        "threads_per_core": 2,
        "numa_cells": 2,
        "memory_kib": 3145728,
    }


def test_nodecpustats_json_names_the_counters(workdir: Path) -> None:
    assert document("nodecpustats --json", workdir) == {
        "user": 9797400000,
        "system": 34678723400000,
        "idle": 87264900000,
        "iowait": 763600000,
    }


def test_nodecpustats_percent_json_is_null_when_counters_stand_still(workdir: Path) -> None:
    # The test driver's counters never move, so no share of time can be computed.
    assert document("nodecpustats --percent --json", workdir) == dict.fromkeys(
        ("usage", "user", "system", "idle", "iowait")
    )


def test_freecell_json(workdir: Path) -> None:
    assert document("freecell --all --json", workdir) == {
        "cells": [{"cell": 0, "free_kib": 2048}, {"cell": 1, "free_kib": 4096}],
        "total_kib": 6144,
    }
    assert document("freecell --json", workdir) == {"total_kib": 3072}
    assert document("freecell 1 --json", workdir) == {"cells": [{"cell": 1, "free_kib": 4096}]}


def test_network_json(workdir: Path) -> None:
    expected = {
        "name": "default",
        "uuid": "dd8fe884-6c02-601e-7551-cca97df1c5df",
        "active": True,
        "persistent": True,
        "autostart": False,
        "bridge": "virbr0",
    }
    assert document("net-list --all --json", workdir) == [expected]
    assert document("net-info default --json", workdir) == expected


def test_dhcp_leases_json_fields(workdir: Path) -> None:
    leases = document("net-dhcp-leases default --json", workdir)
    for lease in leases:
        assert set(lease) == {
            "expiry_time", "mac", "protocol", "ip_address", "prefix", "hostname", "client_id",
            "iaid",
        }  # fmt: skip


def test_pool_json(workdir: Path) -> None:
    expected = {
        "name": "default-pool",
        "uuid": "dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566",
        "state": "running",
        "persistent": True,
        "autostart": False,
        "capacity": 107374182400,
        "allocation": 0,
        "available": 107374182400,
    }
    assert document("pool-list --all --json", workdir) == [expected]
    assert document("pool-info default-pool --json", workdir) == expected


def test_inactive_pool_json_has_no_sizes(workdir: Path) -> None:
    pool = document("pool-destroy default-pool; pool-info default-pool --json", workdir)
    assert pool["state"] == "inactive" and pool["capacity"] is None


def test_volume_json(workdir: Path) -> None:
    line = "vol-create default-pool vol.xml; vol-list default-pool --json"
    assert document(line, workdir) == [
        {
            "name": "v1.img",
            "path": "/default-pool/v1.img",
            "type": "file",
            "capacity": 10485760,
            "allocation": 0,
        }
    ]
    info = document("vol-create default-pool vol.xml; vol-info v1.img default-pool --json", workdir)
    assert info == {"name": "v1.img", "type": "file", "capacity": 10485760, "allocation": 0}


def test_interface_and_nodedev_json(workdir: Path) -> None:
    assert document("iface-list --all --json", workdir) == [
        {"name": "eth1", "active": True, "mac": "aa:bb:cc:dd:ee:ff"}
    ]
    # The test driver rejects virsh's ACTIVE filter, so list inactive and active alike.
    result = run_virtcore(["-c", DEFAULT, "nodedev-list --json"], workdir)
    assert result.status == 1 and "unsupported flags" in result.err


def test_snapshot_json(workdir: Path) -> None:
    line = "snapshot-create-as test s1; snapshot-create-as test s2; snapshot-list test --json"
    snaps = document(line, workdir)
    assert [(s["name"], s["parent"], s["state"]) for s in snaps] == [
        ("s1", None, "running"),
        ("s2", "s1", "running"),
    ]
    assert all(isinstance(s["creation_time"], int) for s in snaps)


def test_snapshot_info_json(workdir: Path) -> None:
    info = document("snapshot-create-as test s1; snapshot-info test s1 --json", workdir)
    assert info == {
        "name": "s1",
        "domain": "test",
        "current": True,
        "state": "running",
        "location": "internal",
        "parent": None,
        "children": 0,
        "descendants": 0,
        "metadata": True,
    }


def test_secret_and_nwfilter_lists_json(workdir: Path) -> None:
    assert document("secret-list --json", workdir) == []
    assert document("nwfilter-list --json", workdir) == []


def test_backends_json_describes_the_test_backend(workdir: Path) -> None:
    backends = run_virtcore(["backends", "--json"], workdir)
    test = next(b for b in json.loads(backends.out) if b["name"] == "test")
    assert test["loaded"] is True and test["schemes"] == ["test"]


def test_json_is_not_shown_in_help(workdir: Path) -> None:
    assert "--json" not in run_virtcore(["-c", DEFAULT, "help list"], workdir).out
