"""Specification of QAPI schema queries (virtcore_qemu.caps_schema).

A small hand-written schema in QEMU's introspection format exercises each
step of the path language; the real QEMU's schema is exercised through the
probe (test_qemu_caps).
"""

from __future__ import annotations

from typing import Any

import pytest

from virtcore_qemu.caps_schema import SchemaIndex, schema_flags, schema_query

SCHEMA: list[dict[str, Any]] = [
    {"name": "query-display-options", "meta-type": "command", "arg-type": "0", "ret-type": "1"},
    {"name": "blockdev-add", "meta-type": "command", "arg-type": "2", "ret-type": "0"},
    {
        "name": "device_add",
        "meta-type": "command",
        "arg-type": "0",
        "ret-type": "0",
        "features": ["json-cli"],
    },
    {"name": "BLOCK_JOB_DONE", "meta-type": "event", "arg-type": "0"},
    {"name": "0", "meta-type": "object", "members": []},
    {
        "name": "1",
        "meta-type": "object",
        "tag": "type",
        "members": [{"name": "type", "type": "3"}],
        "variants": [{"case": "egl-headless", "type": "4"}, {"case": "none", "type": "0"}],
    },
    {
        "name": "2",
        "meta-type": "object",
        "tag": "driver",
        "members": [{"name": "driver", "type": "str"}],
        "variants": [{"case": "file", "type": "5"}],
    },
    {"name": "3", "meta-type": "enum", "values": ["egl-headless", "none"]},
    {"name": "4", "meta-type": "object", "members": [{"name": "rendernode", "type": "str"}]},
    {
        "name": "5",
        "meta-type": "object",
        "members": [{"name": "aio", "type": "6"}, {"name": "locks", "type": "7"}],
    },
    {"name": "6", "meta-type": "enum", "values": ["threads", "native", "io_uring"]},
    {"name": "7", "meta-type": "array", "element-type": "8"},
    {"name": "8", "meta-type": "object", "members": [{"name": "mode", "type": "str"}]},
]


@pytest.fixture(scope="module")
def index() -> SchemaIndex:
    return SchemaIndex(SCHEMA)


@pytest.mark.parametrize(
    ("path", "holds"),
    [
        ("query-display-options", True),
        ("no-such-command", False),
        ("query-display-options/ret-type/+egl-headless", True),
        ("query-display-options/ret-type/+sdl", False),
        ("query-display-options/ret-type/+egl-headless/rendernode", True),
        ("query-display-options/ret-type/+egl-headless/gl", False),
        ("query-display-options/ret-type/type/^none", True),
        ("query-display-options/ret-type/type/^gtk", False),
        ("blockdev-add/arg-type/+file/aio/^io_uring", True),
        ("blockdev-add/arg-type/+file/locks/mode", True),
        ("blockdev-add/arg-type/+file/locks/*/mode", True),
        ("device_add/$json-cli", True),
        ("device_add/$json-cli-hotplug", False),
        ("event:BLOCK_JOB_DONE", True),
        ("event:NO_SUCH_EVENT", False),
        ("", False),
    ],
)
def test_path_queries(index: SchemaIndex, path: str, holds: bool) -> None:
    assert schema_query(index, path) is holds


def test_malformed_entries_are_ignored() -> None:
    index = SchemaIndex([{"meta-type": "command"}, "junk", {"name": 5}])
    assert index.commands == {}


def test_dangling_type_references_do_not_hold() -> None:
    index = SchemaIndex([{"name": "x", "meta-type": "command", "arg-type": "missing"}])
    assert schema_query(index, "x/arg-type/member") is False


def test_flags_name_the_facts_that_hold() -> None:
    flags = schema_flags(SCHEMA)
    assert "egl-headless" in flags
    assert "egl-headless.rendernode" in flags
    assert "aio.io_uring" in flags
    assert "sdl" not in flags
