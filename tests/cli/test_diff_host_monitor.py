"""virsh compatibility of host queries and domain monitoring on ``test:///default``.

Each command line is compared byte for byte with real virsh (see
:mod:`tests.cli.differential` for the masks).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.differential import DEFAULT, assert_same

# Host and hypervisor queries.
HOST = {
    "uri": "uri",
    "version": "version",
    "version-daemon": "version --daemon",
    "hostname": "hostname",
    "sysinfo": "sysinfo",
    "capabilities": "capabilities",
    "nodeinfo": "nodeinfo",
    "freecell-total": "freecell",
    "freecell-all": "freecell --all",
    "freecell-cell-positional": "freecell 0",
    "freecell-cell-option": "freecell --cellno 1",
    "freecell-missing-cell": "freecell 5",
    "freecell-negative-cell": "freecell -- -1",
    "freecell-exclusive-options": "freecell --all --cellno 1",
    "maxvcpus": "maxvcpus",
    "maxvcpus-type": "maxvcpus --type kvm",
    "domcapabilities-unsupported": "domcapabilities",
    "nodememstats-unsupported": "nodememstats",
    "nodememstats-negative-cell": "nodememstats --cell -2",
    "nodecpustats": "nodecpustats",
    "nodecpustats-cpu-option": "nodecpustats --cpu 0",
    "nodecpustats-cpu-positional": "nodecpustats 1",
    "nodecpustats-all-cpus": "nodecpustats --cpu -1",
    "nodecpustats-negative-cpu": "nodecpustats --cpu -2",
    "nodecpustats-malformed-cpu": "nodecpustats --cpu abc",
}

# Read-only connections: domain capabilities are refused, maxvcpus falls back.
READ_ONLY = {
    "domcapabilities-read-only": ["-r", "-c", DEFAULT, "domcapabilities"],
    "maxvcpus-read-only": ["-r", "-c", DEFAULT, "maxvcpus; nodecpustats --cpu 3"],
}

# Host CPU percentages: both sample the counters one second apart.
SAMPLED = {
    "nodecpustats-percent": "nodecpustats --percent",
    "nodecpustats-cpu-percent": "nodecpustats --cpu 2 --percent",
}
SAMPLED_HANG_SECONDS = 10

# Monitoring.
MONITORING = {
    "domblklist": "domblklist test; domblklist test --details; domblklist test --inactive",
    "domiflist": "domiflist test; domiflist test --inactive",
    "domblkstat": "domblkstat test vda; domblkstat test vda --human",
    "domblkstat-summary-unsupported": "domblkstat test",
    "domblkstat-bad-device": "domblkstat test nosuch",
    "domifstat": "domifstat test testnet0; domifstat test aa:bb:cc:dd:ee:ff",
    "domifstat-bad-interface": "domifstat test nosuch",
    "dommemstat": "dommemstat test; dommemstat test --period 5",
    "dommemstat-negative-period": "dommemstat test --period -1",
    "dommemstat-empty-period": "dommemstat test --period ''",
    "domblkinfo": "domblkinfo test vda; domblkinfo test vda --human",
    "domblkinfo-all": "domblkinfo test --all; domblkinfo test --all --human",
    "domblkinfo-needs-device": "domblkinfo test",
    "domblkinfo-bad-device": "domblkinfo test nosuch",
    "vcpucount": "vcpucount test",
    "vcpucount-selectors": (
        "vcpucount test --maximum; vcpucount test --active --live; vcpucount test --config; "
        "vcpucount test --current"
    ),
    "vcpucount-guest-unsupported": "vcpucount test --guest",
    "vcpucount-exclusive": "vcpucount test --maximum --active",
    "vcpuinfo": "vcpuinfo test; vcpuinfo test --pretty",
    "stats-of-inactive-domain": (
        "destroy test; vcpucount test; vcpuinfo test; domblkstat test vda; "
        "dommemstat test; domifstat test testnet0"
    ),
    "domdisplay-none": "domdisplay test --all",
    "domdisplay-inactive": "destroy test; domdisplay test",
    "screenshot-named": "screenshot test shot.png",
    "screenshot-generated-name": "screenshot test",
}


@pytest.mark.parametrize("line", HOST.values(), ids=HOST.keys())
def test_host_commands_match_virsh(line: str, workdir: Path) -> None:
    assert_same(line, workdir)


@pytest.mark.parametrize("argv", READ_ONLY.values(), ids=READ_ONLY.keys())
def test_read_only_host_queries_match_virsh(argv: list[str], workdir: Path) -> None:
    assert_same(argv, workdir)


@pytest.mark.parametrize("line", SAMPLED.values(), ids=SAMPLED.keys())
def test_sampled_host_figures_match_virsh(line: str, workdir: Path) -> None:
    assert_same(line, workdir, hang_seconds=SAMPLED_HANG_SECONDS)


@pytest.mark.parametrize("line", MONITORING.values(), ids=MONITORING.keys())
def test_monitoring_commands_match_virsh(line: str, workdir: Path) -> None:
    assert_same(line, workdir, masks=["cpu-time", "stats", "timestamp"])
