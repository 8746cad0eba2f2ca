"""libvirt-python 9.0.0's own test suite, run with ``libvirt`` aliased to virtcore.libvirt.

The suite (tests/data/libvirt_python_tests, see its README) runs in a separate
pytest process with the ``tests.compat.libvirt_alias`` plugin, so its global
event-loop registration cannot leak into this process. Every test must pass,
except:

* :data:`C_ONLY` - tests of the C binding itself; they are skipped by the suite
  unless their environment is set up, and stay skipped here;
* :data:`AWAITING_DRIVER` - tests of calls the built-in test driver does not
  implement yet; they may only fail with libvirt's NO_SUPPORT error ("this
  function is not supported by the connection driver"), which is what
  virtcore.libvirt raises for any call no driver implements. Once the driver
  implements the call they pass, and the entry can go.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "tests" / "data" / "libvirt_python_tests"

C_ONLY: dict[str, str] = {
    "test_api_coverage.LibvirtAPICoverage.test_libvirt_api": (
        "checks libvirt-python's C extension (libvirtmod) against libvirt-api.xml from the "
        "C library's development files; tests/compat/test_api_coverage.py covers the Python API"
    ),
}

AWAITING_DRIVER: dict[str, str] = {
    "test_domain.TestLibvirtDomain.testDomainSchedParams": (
        "virDomainGetSchedulerParameters(Flags)/virDomainSetSchedulerParameters(Flags)"
    ),
    "test_domain.TestLibvirtDomain.testScreenshot": "virDomainScreenshot",
    "test_domain_checkpoint.TestLibvirtDomainCheckpoint.testCheckpointCreate": (
        "virDomainCheckpointCreateXML"
    ),
    "test_domain_snapshot.TestLibvirtDomainSnapshot.testSnapCreate": "virDomainSnapshotCreateXML",
    "test_storage.TestLibvirtStorage.testVol": "virStorageVolCreateXML",
}

NO_SUPPORT_TEXT = "this function is not supported by the connection driver"


def _run_suite(tmp_path: Path) -> dict[str, tuple[str, str]]:
    report = tmp_path / "report.xml"
    env = dict(os.environ)
    env["VIRTCORE_LIBVIRT_PYTHON_SUITE"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.compat.libvirt_alias",
            "-p",
            "no:cacheprovider",
            "-q",
            f"--junitxml={report}",
            "--rootdir",
            str(SUITE),
            "-c",
            os.devnull,
            str(SUITE),
        ],
        cwd=SUITE,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert report.exists(), proc.stdout + proc.stderr
    outcomes: dict[str, tuple[str, str]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        test_id = f"{case.get('classname')}.{case.get('name')}"
        outcome, text = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = "failed" if child.tag in ("failure", "error") else "skipped"
                text = (child.get("message") or "") + (child.text or "")
        outcomes[test_id] = (outcome, text)
    return outcomes


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    return _run_suite(tmp_path_factory.mktemp("libvirt-python-suite"))


def test_suite_ran_every_test_file(outcomes: dict[str, tuple[str, str]]) -> None:
    files = {path.stem for path in SUITE.glob("test_*.py")}
    assert {test_id.split(".")[0] for test_id in outcomes} == files


def test_every_test_passes_unless_listed(outcomes: dict[str, tuple[str, str]]) -> None:
    unexpected = {
        test_id: text[:500]
        for test_id, (outcome, text) in outcomes.items()
        if outcome == "failed" and test_id not in AWAITING_DRIVER
    }
    assert unexpected == {}


def test_listed_tests_fail_only_for_a_missing_driver_call(
    outcomes: dict[str, tuple[str, str]],
) -> None:
    wrong = {
        test_id: outcomes[test_id][1][:500]
        for test_id in AWAITING_DRIVER
        if outcomes[test_id][0] == "failed" and NO_SUPPORT_TEXT not in outcomes[test_id][1]
    }
    assert wrong == {}


def test_only_c_only_and_python_version_skips(outcomes: dict[str, tuple[str, str]]) -> None:
    skipped = {
        test_id: text
        for test_id, (outcome, text) in outcomes.items()
        if outcome == "skipped" and test_id not in C_ONLY
    }
    # libvirt-python itself skips two asyncio tests on Python >= 3.10.
    assert all("incompatible with 3.10" in text for text in skipped.values()), skipped


def test_event_loop_tests_pass(outcomes: dict[str, tuple[str, str]]) -> None:
    aio = {t: o for t, (o, _) in outcomes.items() if t.startswith("test_aio.")}
    assert [o for o in aio.values() if o != "skipped"] == ["passed"] * 3
