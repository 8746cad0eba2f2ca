"""libvirt-python 9.0.0's own test suite, run with ``libvirt`` aliased to virtcore.libvirt.

The suite (tests/data/libvirt_python_tests, see its README) runs in a separate
pytest process with the ``tests.compat.libvirt_alias`` plugin, so its global
event-loop registration cannot leak into this process. Every test must pass,
except those in :data:`C_ONLY`: tests of the C binding itself, which the suite
skips unless their environment is set up, and which stay skipped here. (The
test driver implements every call the rest of the suite makes: scheduler
parameters, screenshots, snapshots, checkpoints and volumes.)
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


def test_every_test_passes(outcomes: dict[str, tuple[str, str]]) -> None:
    failed = {
        test_id: text[:500] for test_id, (outcome, text) in outcomes.items() if outcome == "failed"
    }
    assert failed == {}


@pytest.mark.parametrize(
    "test_id",
    [
        "test_domain.TestLibvirtDomain.testDomainSchedParams",
        "test_domain.TestLibvirtDomain.testScreenshot",
        "test_domain_checkpoint.TestLibvirtDomainCheckpoint.testCheckpointCreate",
        "test_domain_snapshot.TestLibvirtDomainSnapshot.testSnapCreate",
        "test_storage.TestLibvirtStorage.testVol",
    ],
)
def test_tests_of_calls_the_test_driver_gained_pass(
    outcomes: dict[str, tuple[str, str]], test_id: str
) -> None:
    assert outcomes[test_id][0] == "passed"


def test_c_only_tests_are_the_suites_own_skips(outcomes: dict[str, tuple[str, str]]) -> None:
    assert {test_id: outcomes[test_id][0] for test_id in C_ONLY} == dict.fromkeys(C_ONLY, "skipped")


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
