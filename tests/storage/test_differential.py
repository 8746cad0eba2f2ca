"""The host storage driver against real libvirt 9.0's: the same scenario, the same outcomes.

:mod:`tests.storage.scenario` runs pool lifecycle, every volume operation and
the errors on the way, once on a private libvirtd's storage driver
(:mod:`tests.storage.oracle`) and once on virtcore; documents, values and
errors (code, domain, message) must be equal step by step after
normalization of what differs between any two runs (scratch directory,
UUIDs, timestamps, owners, free space).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.libvirt_oracle import oracle_missing, run_oracle
from tests.storage import scenario
from tests.storage.conftest import StorageHost
from virtcore import libvirt as vlibvirt

ORACLE = Path(__file__).with_name("oracle.py")
STORAGE_MODULE = "/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_storage.so"


@functools.cache
def _libvirt_outcomes() -> str:
    if shutil.which("libvirtd") is None or not os.path.exists(STORAGE_MODULE):
        oracle_missing("libvirtd with its storage driver")
    return json.dumps(run_oracle(ORACLE, scenario.STEPS, timeout=300))


@pytest.fixture
def virtcore_outcomes(new_host: Any, tmp_path: Path) -> list[dict[str, Any]]:
    host: StorageHost = new_host()
    conn = vlibvirt.virConnect(_obj=host.open())
    pools = tmp_path / "pools"
    pools.mkdir()
    return scenario.run_steps(vlibvirt, conn, str(pools), scenario.STEPS)


def test_scenario_matches_libvirt_step_by_step(virtcore_outcomes: list[dict[str, Any]]) -> None:
    theirs: list[dict[str, Any]] = json.loads(_libvirt_outcomes())
    assert len(theirs) == len(virtcore_outcomes) == len(scenario.STEPS)
    differences = [
        f"step {index} {step[0]}:\n  libvirt:  {want}\n  virtcore: {got}"
        for index, (step, want, got) in enumerate(
            zip(scenario.STEPS, theirs, virtcore_outcomes, strict=True)
        )
        if want != got
    ]
    assert not differences, "\n".join(differences)
