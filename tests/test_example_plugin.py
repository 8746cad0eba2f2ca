"""An out-of-tree backend, installed as its own distribution, opens through virtcore.open."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parent / "data" / "example_plugin"

SCRIPT = """
import json, virtcore
from virtcore.registry import default_registry
conn = virtcore.open("hello:///")
dom = conn.domain_lookup_by_name("alpha")
dom.create()
out = {
    "type": conn.get_type(),
    "domains": [d.name for d in conn.list_all_domains()],
    "active": dom.is_active(),
    "plugin": [r.distribution for r in default_registry().plugins() if r.name == "hello"],
}
try:
    conn.domain_lookup_by_name("nosuch")
except virtcore.NoDomainError as e:
    out["error"] = [int(e.code), e.message]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(EXAMPLE),
        ],
        check=True,
        cwd=build,
        env={**os.environ, "PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    return target


def _run(site: Path, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site), **(extra_env or {})}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, check=False
    )


def test_the_installed_example_plugin_opens_its_uri(installed: Path) -> None:
    proc = _run(installed)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out == {
        "type": "HELLO",
        "domains": ["alpha", "beta"],
        "active": True,
        "plugin": ["virtcore-hello"],
        "error": [42, "Domain not found: no domain with matching name 'nosuch'"],
    }


def test_the_example_plugin_is_invisible_when_autoload_is_disabled(installed: Path) -> None:
    proc = _run(installed, {"VIRTCORE_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert proc.returncode != 0
    assert "no connection driver available for hello:///" in proc.stderr


def test_virtcore_backends_lists_the_example_plugin(installed: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    proc = subprocess.run(
        [sys.executable, "-m", "virtcore", "backends", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    rows = {row["name"]: row for row in json.loads(proc.stdout)}
    assert rows["hello"]["schemes"] == ["hello"]
    assert rows["hello"]["source"] == "entrypoint"
    assert rows["test"]["source"] == "builtin"
    assert rows["test"]["loaded"] is True
