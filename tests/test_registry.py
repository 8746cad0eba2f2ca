"""The plugin registry loads built-ins and entry points through one plugin manager."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.fakedrivers import FakeConnectDriver, plugin_of
from virtcore.hookspecs import hookimpl
from virtcore.registry import BUILTIN_PLUGINS, Registry, describe


def _write_dist(root: Path, dist: str, entries: dict[str, str], modules: dict[str, str]) -> None:
    """Create an importable distribution with ``virtcore`` entry points under *root*."""
    info = root / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    lines = "\n".join(f"{name} = {target}" for name, target in entries.items())
    (info / "entry_points.txt").write_text(f"[virtcore]\n{lines}\n")
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("vc_test_")]:
        del sys.modules[name]


GOOD = """
from virtcore.hookspecs import hookimpl
from virtcore.driver import ConnectDriver

class Good(ConnectDriver):
    name = "good"
    schemes = ("good",)

@hookimpl
def virtcore_connect_drivers():
    return [Good()]
"""


def test_builtin_plugins_are_registered_through_the_plugin_manager() -> None:
    reg = Registry(autoload=False)
    names = [r.name for r in reg.plugins()]
    assert names == [name for name, _ in BUILTIN_PLUGINS]
    for record in reg.plugins():
        assert record.source == "builtin"
        assert reg.plugin_manager.get_plugin(record.name) is not None


def test_entry_point_plugins_are_discovered(plugin_dir: Path) -> None:
    _write_dist(plugin_dir, "vc-good", {"good": "vc_test_good"}, {"vc_test_good": GOOD})
    reg = Registry(builtins=False, autoload=True)
    record = reg.plugin("good")
    assert record.loaded and record.source == "entrypoint"
    assert record.distribution == "vc-good" and record.version == "1.0"
    assert record.schemes == ["good"]
    assert reg.has_scheme("good")


def test_a_plugin_that_fails_to_import_is_recorded_and_hides_nothing(plugin_dir: Path) -> None:
    _write_dist(
        plugin_dir,
        "vc-mixed",
        {"broken": "vc_test_broken", "good": "vc_test_good"},
        {"vc_test_broken": "import no_such_module_anywhere\n", "vc_test_good": GOOD},
    )
    reg = Registry(builtins=False, autoload=True)
    broken = reg.plugin("broken")
    assert not broken.loaded
    assert broken.error is not None and "ModuleNotFoundError" in broken.error
    assert broken.traceback is not None
    assert reg.plugin("good").loaded
    # Other installed distributions (the workspace's backends) may add drivers too.
    names = [d.name for d in reg.connect_drivers()]
    assert "good" in names and "broken" not in names
    assert [r.name for r in reg.errors()] == ["broken"]


def test_a_plugin_whose_hook_raises_is_recorded(plugin_dir: Path) -> None:
    source = """
    from virtcore.hookspecs import hookimpl

    @hookimpl
    def virtcore_connect_drivers():
        raise RuntimeError("boom")
    """
    _write_dist(plugin_dir, "vc-raises", {"raises": "vc_test_raises"}, {"vc_test_raises": source})
    reg = Registry(builtins=False, autoload=True)
    assert reg.plugin("raises").error == "virtcore_connect_drivers failed: RuntimeError: boom"
    assert reg.plugin("raises").connect_drivers == []


def test_a_hook_returning_something_that_is_not_a_driver_is_recorded(registry: Registry) -> None:
    @hookimpl
    def virtcore_connect_drivers() -> list[object]:
        return ["not a driver"]

    registry.register(SimpleNamespace(virtcore_connect_drivers=virtcore_connect_drivers), "odd")
    assert "is not a ConnectDriver" in (registry.plugin("odd").error or "")


def test_autoload_can_be_disabled_by_environment(plugin_dir: Path) -> None:
    _write_dist(plugin_dir, "vc-good2", {"good": "vc_test_good2"}, {"vc_test_good2": GOOD})
    reg = Registry(builtins=False, environ={"VIRTCORE_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert reg.plugins() == []


def test_wildcard_drivers_come_last_in_probe_order(registry: Registry) -> None:
    wildcard = FakeConnectDriver(name="wild", schemes=None)
    first = FakeConnectDriver(name="first")
    last = FakeConnectDriver(name="last", schemes=("last",))
    registry.register(plugin_of(wildcard, first), "p1")
    registry.register(plugin_of(last), "p2")
    assert [d.name for d in registry.connect_drivers()] == ["first", "last", "wild"]


def test_registering_two_plugins_under_one_name_is_refused(registry: Registry) -> None:
    registry.register(plugin_of(FakeConnectDriver()), "dup")
    with pytest.raises(ValueError, match="already registered"):
        registry.register(plugin_of(FakeConnectDriver()), "dup")


def test_describe_gives_plain_data_for_every_plugin(registry: Registry) -> None:
    registry.register(plugin_of(FakeConnectDriver(schemes=("a", "b"))), "fake")
    [row] = describe(registry.plugins())
    assert row["name"] == "fake" and row["schemes"] == ["a", "b"] and row["loaded"] is True
