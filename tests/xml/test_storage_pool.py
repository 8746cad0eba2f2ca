"""The storage pool document: libvirt's checks and exact output for every pool type.

Golden files tests/data/xml/storage/pool-<case>.xml were recorded from
libvirt 9.0's test driver after ``pool-define`` of pool-<case>.input.xml;
the test driver then reports 100 GiB of capacity, all of it available,
which :func:`as_test_driver` sets as a driver would. errors.json holds the
errors libvirt raised for refused documents (both re-checked against live
libvirt by test_storage_differential.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError, XMLError
from virtcore.xml.network_addr import parse_uuid
from virtcore.xml.storage_pool import POOL_TYPES, StoragePool, parse_permissions
from virtcore.xml.storage_pool_source import sanitize_path
from virtcore.xml.validate import validate

DATA = Path(__file__).parent.parent / "data" / "xml" / "storage"
CASES = sorted(p.name[: -len(".input.xml")] for p in DATA.glob("pool-*.input.xml"))
ERRORS: list[dict[str, Any]] = [
    c for c in json.loads((DATA / "errors.json").read_text()) if c["kind"] == "pool"
]
TEST_DRIVER_CAPACITY = 100 * 1024**3


def as_test_driver(pool: StoragePool) -> StoragePool:
    """Fill in the sizes libvirt's test driver reports for a defined pool."""
    pool.capacity = TEST_DRIVER_CAPACITY
    pool.allocation = 0
    pool.available = TEST_DRIVER_CAPACITY
    return pool


def defined(name: str) -> StoragePool:
    return as_test_driver(StoragePool.parse((DATA / f"{name}.input.xml").read_text()))


def refusal(text: str) -> VirtError:
    with pytest.raises(VirtError) as info:
        StoragePool.parse(text)
    return info.value


# -- libvirt's output ------------------------------------------------------------------


def test_the_corpus_covers_every_pool_type() -> None:
    assert {defined(name).type for name in CASES} == set(POOL_TYPES)
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", CASES)
def test_format_is_what_libvirt_prints_after_pool_define(name: str) -> None:
    assert defined(name).format() == (DATA / f"{name}.xml").read_text()


@pytest.mark.parametrize("name", CASES)
def test_formatted_pool_validates_against_libvirts_schema(name: str, libvirt_schemas: Path) -> None:
    validate(etree.fromstring(defined(name).format().encode()), "storagepool.rng")


@pytest.mark.parametrize("name", CASES)
def test_formatting_is_a_fixed_point(name: str) -> None:
    text = defined(name).format()
    assert as_test_driver(StoragePool.parse(text)).format() == text


def test_sizes_in_the_document_are_ignored_until_the_driver_sets_them() -> None:
    pool = StoragePool.parse(
        "<pool type='dir'><name>p</name><capacity unit='G'>5</capacity>"
        "<target><path>/p</path></target></pool>"
    )
    assert pool.capacity is None
    assert "<capacity unit='bytes'>0</capacity>" in pool.format()
    pool.capacity = 5 * 1024**3
    assert "<capacity unit='bytes'>5368709120</capacity>" in pool.format()


def test_missing_uuid_is_generated_once_at_parse() -> None:
    pool = StoragePool.parse(
        "<pool type='dir'><name>p</name><target><path>/p</path></target></pool>"
    )
    assert pool.uuid is not None and parse_uuid(pool.uuid) is not None
    assert pool.format() == pool.format()


def test_logical_pool_target_follows_the_volume_group() -> None:
    pool = StoragePool.parse(
        "<pool type='logical'><name>vg</name><source><name>data</name></source>"
        "<target><path>/elsewhere</path></target></pool>"
    )
    definition = pool.definition()
    assert (definition.target_path, definition.source.name) == ("/dev/data", "data")


def test_source_parts_the_type_does_not_use_are_not_written() -> None:
    text = as_test_driver(
        StoragePool.parse(
            "<pool type='dir'><name>p</name><source><host name='h'/><dir path='/d'/>"
            "<device path='/dev/x'/><name>n</name></source><target><path>/p</path></target></pool>"
        )
    ).format()
    assert "<source>\n  </source>" in text


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/a//b/", "/a/b"), ("//host/x//y", "//host/x/y"), ("///x", "/x"), ("/", "/"),
     ("gluster://h//vol", "gluster://h//vol")],
)  # fmt: skip
def test_paths_are_sanitised_like_libvirt(path: str, expected: str) -> None:
    assert sanitize_path(path) == expected


def test_permission_ids_print_through_a_c_int() -> None:
    node = etree.fromstring("<permissions><owner>2147483648</owner><group>-1</group></permissions>")
    permissions = parse_permissions(node)
    assert (permissions.owner, permissions.group) == (2147483648, None)
    parent = etree.Element("target")
    permissions.emit(parent)
    assert parent[0][0].text == "-2147483648"


# -- libvirt's checks ------------------------------------------------------------------


@pytest.mark.parametrize("case", ERRORS, ids=[c["name"] for c in ERRORS])
def test_refused_pool_gets_libvirts_exact_error(case: dict[str, Any]) -> None:
    error = refusal(case["xml"])
    assert (int(error.code), int(error.domain), error.message) == (
        case["code"],
        case["domain"],
        case["message"],
    )


def test_error_corpus_is_large_and_varied() -> None:
    assert len(ERRORS) >= 30


def test_cow_feature_outside_dir_and_fs_is_no_support() -> None:
    error = refusal(
        "<pool type='logical'><name>p</name><features><cow state='yes'/></features></pool>"
    )
    assert (error.code, error.domain) == (ErrorNumber.NO_SUPPORT, ErrorDomain.STORAGE)


def test_syntax_errors_name_the_pool_definition() -> None:
    with pytest.raises(XMLError, match=r"^\(storage_pool_definition\):1:"):
        StoragePool.parse("<pool type='dir'>")


def test_a_check_failure_leaves_the_document_untouched() -> None:
    pool = StoragePool.from_xml("<pool type='netfs'><name>p</name></pool>")
    before = pool.to_string()
    with pytest.raises(XMLError, match="missing storage pool source host name"):
        pool.check()
    assert pool.to_string() == before


# -- the editable view -----------------------------------------------------------------


BUILT = """<pool type='netfs'>
  <name>nfs</name>
  <uuid>7a3b9c10-0000-4000-9000-000000000010</uuid>
  <capacity unit='bytes'>107374182400</capacity>
  <allocation unit='bytes'>0</allocation>
  <available unit='bytes'>107374182400</available>
  <source>
    <host name='nfs.example.com'/>
    <dir path='/export'/>
    <format type='nfs'/>
  </source>
  <target>
    <path>/mnt/nfs</path>
    <permissions>
      <mode>0755</mode>
    </permissions>
  </target>
</pool>
"""


def test_a_pool_built_from_scratch_formats_like_libvirt() -> None:
    pool = StoragePool()
    pool.type = "netfs"
    pool.name = "nfs"
    pool.uuid = "7a3b9c10-0000-4000-9000-000000000010"
    host = pool.source.hosts.append()
    host.name = "nfs.example.com"
    pool.source.dir = "/export"
    pool.source.format = "nfs"
    pool.target.path = "/mnt/nfs"
    pool.target.mode = "0755"
    as_test_driver(pool)
    assert pool.format() == BUILT
    assert pool.to_string().index("<source>") < pool.to_string().index("<target>")


def test_unknown_content_survives_edits() -> None:
    pool = StoragePool.from_xml(
        "<pool type='dir' future='1'><name>p</name><x:ext xmlns:x='urn:x'/>"
        "<target><path>/p</path><later/></target></pool>"
    )
    pool.target.path = "/q"
    pool.name = "q"
    text = pool.to_string()
    assert "future='1'" in text and "<x:ext" in text and "<later/>" in text and "/q" in text


def test_source_adapter_is_editable() -> None:
    pool = StoragePool.from_xml(
        "<pool type='scsi'><name>s</name><target><path>/t</path></target></pool>"
    )
    pool.source.adapter.type = "fc_host"
    pool.source.adapter.wwnn = "20000000c9831b4b"
    pool.source.adapter.wwpn = "10000000c9831b4b"
    definition = pool.definition()
    assert definition.source.adapter.type == "fc_host"
    assert "<adapter type='fc_host' wwnn='20000000c9831b4b' wwpn='10000000c9831b4b'/>" in (
        pool.format()
    )
