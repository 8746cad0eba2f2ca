"""The virtcore pytest plugin, its helpers, and the examples in docs/testing-with-virtcore.md.

The plugin is exercised the way users meet it: pytest test modules run by
``pytester`` in a scratch directory, with the plugin loaded through its
``pytest11`` entry point. Every example in the testing guide is such a module
and must pass as written.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import virtcore
from virtcore.connection import Connection
from virtcore.drivers.test.private import PrivateHost, create_host
from virtcore.enums.domain import DomainState
from virtcore.enums.domain_events import DomainEventID
from virtcore.testing import DomainFactory, EventRecorder, domain_xml

pytest_plugins = ["pytester"]

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "testing-with-virtcore.md"
SAFETY_TIMEOUT = 10.0
_FENCE = re.compile(r"```(python|xml)\n(.*?)```", re.S)
_NAME = re.compile(r"\A(?:# file: (\S+)|<!-- file: (\S+) -->)\n")


def guide_files() -> dict[str, str]:
    """The example files of the testing guide, by name (their first line names them)."""
    files: dict[str, str] = {}
    for _lang, body in _FENCE.findall(GUIDE.read_text()):
        named = _NAME.match(body)
        assert named, f"an example in {GUIDE.name} does not name its file:\n{body[:200]}"
        files[named.group(1) or named.group(2)] = body[named.end() :]
    return files


def outcomes(result: pytest.RunResult) -> dict[str, int]:
    return result.parseoutcomes()


# -- the guide ------------------------------------------------------------------------------


def test_every_example_in_the_guide_passes(pytester: pytest.Pytester) -> None:
    files = guide_files()
    for name, content in files.items():
        (pytester.path / name).write_text(content)
    tests = sum(len(re.findall(r"^def test_", c, re.M)) for c in files.values())
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=tests)
    assert tests >= 20


def test_the_guide_documents_every_fixture_and_marker() -> None:
    import virtcore.testing.pytest_plugin as plugin

    text = GUIDE.read_text()
    fixtures = [name for name in plugin.__all__ if name.startswith("virtcore_")]
    for name in [*fixtures, "virtcore_config", "virtcore_deterministic"]:
        assert f"`{name}" in text, name


# -- registration ---------------------------------------------------------------------------


def test_the_plugin_is_registered_under_the_pytest11_entry_point() -> None:
    found = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert found.get("virtcore") == "virtcore.testing.pytest_plugin"


def test_loading_the_plugin_imports_no_driver_code() -> None:
    code = (
        "import sys, virtcore.testing.pytest_plugin; "
        "print(any(m.startswith('virtcore.drivers.test.') for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"


def test_markers_are_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        ["@pytest.mark.virtcore_config(path):*", "*virtcore_deterministic*"]
    )


# -- fixtures ---------------------------------------------------------------------------------


def test_each_test_gets_its_own_host_which_is_discarded_after_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from virtcore.drivers.test.private import lookup_host

        seen = []

        def test_first(virtcore_host, virtcore_conn):
            seen.append(virtcore_host)
            virtcore_conn.domain_lookup_by_name("test").destroy()

        def test_second(virtcore_host, virtcore_conn):
            assert virtcore_host is not seen[0]
            assert seen[0].discarded and lookup_host(seen[0].name) is None
            assert virtcore_conn.num_of_domains() == 1
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_the_shared_default_host_is_left_alone(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import virtcore
        from virtcore.drivers.test.driver import reset_default_host

        def test_destroy_on_the_private_host(virtcore_conn):
            reset_default_host()
            with virtcore.open("test:///default") as default:
                virtcore_conn.domain_lookup_by_name("test").destroy()
                assert default.num_of_domains() == 1
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_connections_are_closed_after_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        opened = []

        def test_open(virtcore_conn, virtcore_open):
            opened.extend([virtcore_conn, virtcore_open(), virtcore_open(read_only=True)])
            assert opened[2].read_only

        def test_they_are_closed():
            assert [c.closed for c in opened] == [True, True, True]
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_factory_domains_are_removed_even_if_faults_remain(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        made = []

        def test_make(virtcore_host, virtcore_domains, virtcore_faults):
            made.append(virtcore_host)
            virtcore_domains("a")
            virtcore_domains(start=False)
            virtcore_faults.fail("virDomain*")

        def test_removed():
            assert [obj.name for obj in made[0].state.domains()] == ["test"]
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_config_marker_path_is_relative_to_the_test_file(pytester: pytest.Pytester) -> None:
    sub = pytester.mkdir("suite")
    (sub / "hosts").mkdir()
    (sub / "hosts" / "one.xml").write_text(
        "<node><domain type='test'><name>solo</name><memory>1024</memory>"
        "<os><type>hvm</type></os></domain></node>"
    )
    (sub / "test_marked.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.virtcore_config('hosts/one.xml')\n"
        "def test_solo(virtcore_host, virtcore_conn):\n"
        "    assert virtcore_host.origin.endswith('hosts/one.xml')\n"
        "    assert [d.name for d in virtcore_conn.list_all_domains()] == ['solo']\n"
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_config_marker_needs_exactly_one_path(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.virtcore_config("a.xml", "b.xml")
        def test_two(virtcore_conn):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*virtcore_config takes one path*"])


def test_deterministic_fixture_seeds_from_the_start_and_starts_a_clock(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        from virtcore.drivers.test.determinism import DEFAULT_CLOCK_START
        from virtcore.testing import domain_xml

        def test_seeded(virtcore_deterministic, virtcore_conn):
            assert virtcore_deterministic.seed == 0
            assert virtcore_deterministic.clock.time() == DEFAULT_CLOCK_START
            dom = virtcore_conn.domain_define_xml(domain_xml("x"))
            assert dom.uuid == "30509c6d-28db-4e08-ad92-a97f3b8baef8"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_deterministic_marker_alone_makes_the_host_deterministic(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.virtcore_deterministic(seed="s", start=5.0)
        def test_marked(virtcore_host):
            det = virtcore_host.determinism
            assert det.seed == "s" and det.clock.time() == 5.0
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_deterministic_marker_rejects_unknown_settings(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.virtcore_deterministic(colour="red")
        def test_marked(virtcore_host):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*takes the keywords seed, start and cpu_load*"])


def test_hosts_without_determinism_stay_random(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_plain(virtcore_host):
            assert virtcore_host.determinism.seed is None
            assert virtcore_host.determinism.clock is None
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


# -- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def host() -> Iterator[PrivateHost]:
    with create_host() as made:
        yield made


@pytest.fixture
def conn(host: PrivateHost) -> Iterator[Connection]:
    with virtcore.open(host.uri) as c:
        yield c


def test_domain_xml_overrides_reach_the_definition(conn: Connection) -> None:
    xml = domain_xml(
        "big",
        uuid="11111111-2222-3333-4444-555555555555",
        memory_mib=512,
        vcpus=3,
        disks=["vda", "sdb"],
        nics=["default"],
        title="Big & busy",
        on_crash="preserve",
    )
    dom = conn.domain_define_xml(xml)
    desc = dom.xml_desc()
    assert dom.uuid == "11111111-2222-3333-4444-555555555555"
    assert tuple(dom.info())[1:4] == (524288, 524288, 3)
    assert "<title>Big &amp; busy</title>" in desc
    assert "<on_crash>preserve</on_crash>" in desc
    assert "<target dev='sdb' bus='scsi'/>" in desc
    assert "<source network='default'/>" in desc


def test_factory_names_defines_and_starts(conn: Connection) -> None:
    factory = DomainFactory(conn)
    first, second = factory(), factory(start=False)
    assert (first.name, second.name) == ("vm1", "vm2")
    assert first.is_active() and not second.is_active()
    assert factory.created == [first, second]


def test_factory_makes_transient_domains(conn: Connection) -> None:
    dom = DomainFactory(conn)(persistent=False)
    assert dom.is_active() and not dom.is_persistent()


def test_factory_takes_a_document_of_its_own(conn: Connection) -> None:
    dom = DomainFactory(conn)(xml=domain_xml("own", vcpus=2))
    assert dom.name == "own" and dom.info().nr_virt_cpu == 2


@pytest.mark.parametrize(
    "options",
    [{"start": False, "persistent": False}, {"xml": "<domain/>", "name": "x"}],
    ids=["stopped-transient", "xml-and-name"],
)
def test_factory_refuses_contradictions(conn: Connection, options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        DomainFactory(conn)(**options)  # type: ignore[arg-type]


def test_factory_cleanup_removes_what_it_made_and_skips_what_is_gone(conn: Connection) -> None:
    factory = DomainFactory(conn)
    kept = factory("gone")
    factory("running")
    factory("stopped", start=False)
    factory("transient", persistent=False)
    kept.destroy()
    kept.undefine()
    factory.cleanup()
    assert [d.name for d in conn.list_all_domains()] == ["test"]
    assert factory.created == []


def test_recorder_waits_for_events_without_sleeping(conn: Connection) -> None:
    with EventRecorder(conn) as recorder:
        dom = conn.domain_lookup_by_name("test")
        worker = threading.Thread(target=dom.suspend)
        worker.start()
        assert recorder.wait_for(lambda evs: len(evs) == 1, SAFETY_TIMEOUT)
        worker.join(SAFETY_TIMEOUT)
        assert recorder.lifecycle("test") == [(3, 0)]
        assert recorder.drain()[0].event_id == DomainEventID.LIFECYCLE
        assert recorder.events == []


def test_closed_recorder_records_nothing_more(conn: Connection) -> None:
    recorder = EventRecorder(conn)
    recorder.close()
    conn.domain_lookup_by_name("test").suspend()
    recorder.flush()
    assert recorder.events == []
    assert conn.domain_lookup_by_name("test").state().state == DomainState.PAUSED


def test_testing_package_exports_resolve() -> None:
    from virtcore import testing

    for name in testing.__all__:
        assert getattr(testing, name) is not None
    with pytest.raises(AttributeError):
        _ = testing.no_such_helper
