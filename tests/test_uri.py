"""Specification of virtcore.uri: libvirt's connection-URI grammar and checks.

The expected components and formatted strings below are libvirt 9.0's own
(``virURIParse`` / ``virURIFormat`` on Debian 12); the differential tests at
the end re-check a sample against an installed libvirt.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.libvirt_oracle import require_libvirt_python
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import (
    ConfigUnsupportedError,
    InternalError,
    InvalidArgError,
    NoConnectError,
    VirtError,
)
from virtcore.uri import (
    DEFAULT_URI_ENV,
    MAX_URI_LENGTH,
    URI,
    URISyntaxError,
    check_uri_typo,
    default_uri,
    parse_connect_uri,
    require_scheme,
    validate_embedded,
)

# text, expected fields (others at their defaults), str() of the parsed URI
# (None: the text itself)
PARSE_TABLE: list[tuple[str, dict[str, Any], str | None]] = [
    ("test:///default", {"scheme": "test", "path": "/default"}, "test:///default"),
    ("test:///abs/path.xml", {"scheme": "test", "path": "/abs/path.xml"}, "test:///abs/path.xml"),
    ("qemu:///system", {"scheme": "qemu", "path": "/system"}, "qemu:///system"),
    ("qemu:///session", {"scheme": "qemu", "path": "/session"}, "qemu:///session"),
    ("storage:///system", {"scheme": "storage", "path": "/system"}, "storage:///system"),
    ("lxc:///", {"scheme": "lxc", "path": "/"}, "lxc:///"),
    ("remote://host", {"scheme": "remote", "host": "host"}, "remote://host"),
    (
        "qemu+ssh://user@host:2222/system?keyfile=/k&no_verify=1",
        {
            "scheme": "qemu+ssh",
            "user": "user",
            "host": "host",
            "port": 2222,
            "path": "/system",
            "query": (("keyfile", "/k"), ("no_verify", "1")),
            "query_string": "keyfile=/k&no_verify=1",
        },
        "qemu+ssh://user@host:2222/system?keyfile=/k&no_verify=1",
    ),
    (
        "qemu+ssh://root@host:2222/system?keyfile=%2Froot%2Fk",
        {
            "scheme": "qemu+ssh",
            "user": "root",
            "host": "host",
            "port": 2222,
            "path": "/system",
            "query": (("keyfile", "/root/k"),),
            "query_string": "keyfile=%2Froot%2Fk",
        },
        "qemu+ssh://root@host:2222/system?keyfile=%2Froot%2Fk",
    ),
    (
        "qemu+tls://[::1]/system",
        {"scheme": "qemu+tls", "host": "::1", "path": "/system"},
        "qemu+tls://[::1]/system",
    ),
    (
        "qemu+tls://[::1]:123/system",
        {"scheme": "qemu+tls", "host": "::1", "port": 123, "path": "/system"},
        "qemu+tls://[::1]:123/system",
    ),
    (
        "qemu:///embed?root=/tmp/x",
        {
            "scheme": "qemu",
            "path": "/embed",
            "query": (("root", "/tmp/x"),),
            "query_string": "root=/tmp/x",
        },
        "qemu:///embed?root=/tmp/x",
    ),
    (
        "esx://host/?no_verify=1",
        {
            "scheme": "esx",
            "host": "host",
            "path": "/",
            "query": (("no_verify", "1"),),
            "query_string": "no_verify=1",
        },
        "esx://host/?no_verify=1",
    ),
    (
        "vpx://vc/dc/cluster/host",
        {"scheme": "vpx", "host": "vc", "path": "/dc/cluster/host"},
        "vpx://vc/dc/cluster/host",
    ),
    # percent-encoding: decoded fields, query kept verbatim, path re-escaped
    (
        "test:///a%20b?x=a%20b&y=c+d",
        {
            "scheme": "test",
            "path": "/a b",
            "query": (("x", "a b"), ("y", "c+d")),
            "query_string": "x=a%20b&y=c+d",
        },
        "test:///a%20b?x=a%20b&y=c+d",
    ),
    (
        "test:///%E2%82%AC?x=%E2%82%AC",
        {
            "scheme": "test",
            "path": "/\u20ac",
            "query": (("x", "\u20ac"),),
            "query_string": "x=%E2%82%AC",
        },
        "test:///%E2%82%AC?x=%E2%82%AC",
    ),
    ("test:///a%FF", {"scheme": "test", "path": "/a\udcff"}, "test:///a%FF"),
    ("test:///%2541", {"scheme": "test", "path": "/%41"}, "test:///%2541"),
    ("test:///%64efault", {"scheme": "test", "path": "/default"}, "test:///default"),
    ("test:///a%2Fb%3F", {"scheme": "test", "path": "/a/b?"}, "test:///a/b%3F"),
    ("test:///a:b", {"scheme": "test", "path": "/a:b"}, "test:///a%3Ab"),
    ("test:///~user/a(b)", {"scheme": "test", "path": "/~user/a(b)"}, "test:///~user/a(b)"),
    ("test:///it's", {"scheme": "test", "path": "/it's"}, "test:///it's"),
    ("test:///p/../q", {"scheme": "test", "path": "/p/../q"}, "test:///p/../q"),
    ("test:////x", {"scheme": "test", "path": "//x"}, "test:////x"),
    ("file:///c:/x", {"scheme": "file", "path": "/c:/x"}, "file:///c:/x"),
    # user info
    (
        "test://us%40er@host/p",
        {"scheme": "test", "user": "us@er", "host": "host", "path": "/p"},
        "test://us%40er@host/p",
    ),
    (
        "test://u%20ser@h/p",
        {"scheme": "test", "user": "u ser", "host": "h", "path": "/p"},
        "test://u%20ser@h/p",
    ),
    (
        "test://user:pw@host/p",
        {"scheme": "test", "user": "user:pw", "host": "host", "path": "/p"},
        "test://user:pw@host/p",
    ),
    (
        "test://%E2%82%AC@h/",
        {"scheme": "test", "user": "\u20ac", "host": "h", "path": "/"},
        "test://%E2%82%AC@h/",
    ),
    # hosts and ports
    ("test://h%41st/p", {"scheme": "test", "host": "hAst", "path": "/p"}, "test://hAst/p"),
    (
        "test://1.2.3.4x/p",
        {"scheme": "test", "host": "1.2.3.4x", "path": "/p"},
        "test://1.2.3.4x/p",
    ),
    (
        "test://[fe80::1%25eth0]/p",
        {"scheme": "test", "host": "fe80::1%eth0", "path": "/p"},
        "test://[fe80::1%eth0]/p",
    ),
    ("test://[::1]", {"scheme": "test", "host": "::1"}, "test://[::1]"),
    ("test://[]/p", {"scheme": "test", "host": "[]", "path": "/p"}, "test://[]/p"),
    ("test://host:0/p", {"scheme": "test", "host": "host", "path": "/p"}, "test://host/p"),
    (
        "test://h:000000000000000000001/p",
        {"scheme": "test", "host": "h", "port": 1, "path": "/p"},
        "test://h:1/p",
    ),
    (
        "test://host:2147483647/p",
        {"scheme": "test", "host": "host", "port": 2147483647, "path": "/p"},
        "test://host:2147483647/p",
    ),
    ("test://:123/p", {"scheme": "test", "path": "/p"}, "test:///p"),
    ("test://user@:22/p", {"scheme": "test", "user": "user", "path": "/p"}, "test://user@/p"),
    # empty and odd parts
    ("test://", {"scheme": "test"}, "test://"),
    ("test:", {"scheme": "test"}, "test://"),
    ("test:/abs", {"scheme": "test", "path": "/abs"}, "test:///abs"),
    ("test:x/y", {"scheme": "test", "path": "x/y"}, "test://x/y"),
    ("x:y:z", {"scheme": "x", "path": "y:z"}, "x://y%3Az"),
    ("Test:///x", {"scheme": "Test", "path": "/x"}, "Test:///x"),
    ("test.x-y+z:///x", {"scheme": "test.x-y+z", "path": "/x"}, "test.x-y+z:///x"),
    # fragments
    ("test:///default#frag", {"scheme": "test", "path": "/default", "fragment": "frag"}, None),
    ("test:///default#fr%20ag", {"scheme": "test", "path": "/default", "fragment": "fr ag"}, None),
    ("test:///p#[x]", {"scheme": "test", "path": "/p", "fragment": "[x]"}, None),
    ("test:///p#a/b?c", {"scheme": "test", "path": "/p", "fragment": "a/b?c"}, None),
    ("test:///p#%23", {"scheme": "test", "path": "/p", "fragment": "#"}, None),
    ("test://h#f", {"scheme": "test", "host": "h", "fragment": "f"}, None),
    # query splitting
    ("test:///p?", {"scheme": "test", "path": "/p", "query_string": ""}, None),
    ("test:///p?#", {"scheme": "test", "path": "/p", "query_string": "", "fragment": ""}, None),
    (
        "test:///?a=1;b=2",
        {
            "scheme": "test",
            "path": "/",
            "query": (("a", "1"), ("b", "2")),
            "query_string": "a=1;b=2",
        },
        None,
    ),
    (
        "test:///p?a=1;b&c=2;d",
        {
            "scheme": "test",
            "path": "/p",
            "query": (("a", "1;b"), ("c", "2"), ("d", "")),
            "query_string": "a=1;b&c=2;d",
        },
        None,
    ),
    (
        "test:///p?a&&b=",
        {"scheme": "test", "path": "/p", "query": (("a", ""), ("b", "")), "query_string": "a&&b="},
        None,
    ),
    (
        "test:///p?=x&y",
        {"scheme": "test", "path": "/p", "query": (("y", ""),), "query_string": "=x&y"},
        None,
    ),
    (
        "test:///p?%41=%42",
        {"scheme": "test", "path": "/p", "query": (("A", "B"),), "query_string": "%41=%42"},
        None,
    ),
    (
        "test:///p?a=%26&b=c%3Dd",
        {
            "scheme": "test",
            "path": "/p",
            "query": (("a", "&"), ("b", "c=d")),
            "query_string": "a=%26&b=c%3Dd",
        },
        None,
    ),
    (
        "test://h/p?a=b?c/d:e@f",
        {
            "scheme": "test",
            "host": "h",
            "path": "/p",
            "query": (("a", "b?c/d:e@f"),),
            "query_string": "a=b?c/d:e@f",
        },
        None,
    ),
    (
        "test://h/p;x=1?q",
        {
            "scheme": "test",
            "host": "h",
            "path": "/p;x=1",
            "query": (("q", ""),),
            "query_string": "q",
        },
        None,
    ),
    # no scheme: parses, with scheme ""
    ("/default", {"scheme": "", "path": "/default"}, "///default"),
    ("default", {"scheme": "", "path": "default"}, "//default"),
    ("//host/p", {"scheme": "", "host": "host", "path": "/p"}, "//host/p"),
    ("", {"scheme": ""}, "//"),
    # deliberate differences from libvirt (see the module documentation)
    ("test://@host/p", {"scheme": "test", "user": "", "host": "host", "path": "/p"}, None),
    ("test:///p?=", {"scheme": "test", "path": "/p", "query_string": "="}, None),
]


@pytest.mark.parametrize(
    ("text", "fields", "formatted"), PARSE_TABLE, ids=[row[0] or "<empty>" for row in PARSE_TABLE]
)
def test_parse_splits_components_like_libvirt(
    text: str, fields: dict[str, Any], formatted: str | None
) -> None:
    assert URI.parse(text) == URI(**fields)


@pytest.mark.parametrize(
    ("text", "fields", "formatted"), PARSE_TABLE, ids=[row[0] or "<empty>" for row in PARSE_TABLE]
)
def test_str_formats_like_libvirt(text: str, fields: dict[str, Any], formatted: str | None) -> None:
    assert str(URI.parse(text)) == (text if formatted is None else formatted)


UNPARSEABLE = [
    "a b",
    "test:///a b",
    "test:///p?q=a b",
    "test:///a\tb",
    "test:///\u00e9",
    "test:///%zz",
    "test:///p%4",
    "test:///p?a=%4",
    "test:///p?q=%zz",
    "test://h%zz/p",
    "test://us%zz@h/p",
    "test://host:/p",
    "test://h:12x/p",
    "test://host:2147483648/p",
    "test://host:99999999999/p",
    "test://[::1",
    "test://[::1]x/p",
    "test://a@b@h/p",
    "test:///p#a#b",
    "test:///p?[x]",
    "test://h/[x]",
    "1test:///x",
    "te_st:///x",
]


@pytest.mark.parametrize("text", UNPARSEABLE)
def test_unparseable_text_raises_internal_error_in_uri_domain(text: str) -> None:
    with pytest.raises(URISyntaxError) as info:
        URI.parse(text)
    err = info.value
    assert isinstance(err, InternalError)
    assert err.code == ErrorNumber.INTERNAL_ERROR
    assert err.domain == ErrorDomain.URI
    assert err.message == f"internal error: Unable to parse URI {text}"


HOSTILE = [
    "test:///a\0b",
    "\0",
    "test:///a%00b",
    "test:///p?a=%00",
    "test:///p?%00=1",
    "test://us%00er@h/p",
    "test://h%00/p",
    "test:///p#%00",
    "test://[::1\n]/p",
    "test://[::\u00e9]/p",
    "test:///\udcff",
    "test://h:" + "9" * 5000 + "/p",
    "test:///" + "%" * 5000,
    "a" * 5000 + " ",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_raises_only_the_parse_error(text: str) -> None:
    with pytest.raises(URISyntaxError):
        URI.parse(text)


def test_leading_zeros_do_not_count_against_the_port_limit() -> None:
    assert URI.parse("test://h:" + "0" * 5000 + "7/p").port == 7


def test_text_longer_than_the_limit_is_refused_with_a_shortened_message() -> None:
    text = "test:///" + "a" * MAX_URI_LENGTH
    with pytest.raises(URISyntaxError) as info:
        URI.parse(text)
    assert info.value.message.startswith("internal error: Unable to parse URI test:///aaa")
    assert info.value.message.endswith("...")
    assert len(info.value.message) < 400


def test_text_at_the_limit_parses() -> None:
    text = "test:///" + "a" * (MAX_URI_LENGTH - len("test:///"))
    assert URI.parse(text).path == "/" + "a" * (MAX_URI_LENGTH - len("test:///"))


def test_parse_refuses_non_string_input() -> None:
    with pytest.raises(TypeError):
        URI.parse(b"test:///default")  # type: ignore[arg-type]


# --- derived views ---------------------------------------------------------------


def test_driver_is_the_scheme_before_the_plus() -> None:
    assert URI.parse("qemu+ssh://h/system").driver == "qemu"
    assert URI.parse("qemu:///system").driver == "qemu"


def test_transport_is_the_lowercased_scheme_after_the_first_plus() -> None:
    assert URI.parse("qemu+SSH://h/system").transport == "ssh"
    assert URI.parse("a+b+c:///x").transport == "b+c"


def test_transport_is_none_without_plus_and_empty_after_a_trailing_plus() -> None:
    assert URI.parse("qemu:///system").transport is None
    assert URI.parse("qemu+:///system").transport == ""


def test_has_server_only_when_a_host_is_present() -> None:
    assert URI.parse("qemu+ssh://h/system").has_server
    assert not URI.parse("qemu:///system").has_server
    assert not URI.parse("test://:22/x").has_server


def test_params_keep_the_last_value_of_a_repeated_name() -> None:
    uri = URI.parse("test:///p?a=1&b=2&a=3")
    assert uri.params == {"a": "3", "b": "2"}
    assert uri.query == (("a", "1"), ("b", "2"), ("a", "3"))


def test_param_returns_the_last_value_or_the_default() -> None:
    uri = URI.parse("test:///p?a=1&a=2")
    assert uri.param("a") == "2"
    assert uri.param("missing") is None
    assert uri.param("missing", "fallback") == "fallback"


def test_param_matches_names_exactly_unless_asked_to_ignore_case() -> None:
    uri = URI.parse("test:///p?Socket=/s")
    assert uri.param("socket") is None
    assert uri.param("socket", ignore_case=True) == "/s"


def test_embedded_uri_is_recognised_by_its_path() -> None:
    assert URI.parse("qemu:///embed?root=/r").is_embedded
    assert not URI.parse("qemu:///embed/x?root=/r").is_embedded
    assert not URI.parse("qemu:///system").is_embedded


def test_embed_root_is_the_first_root_parameter_matched_exactly() -> None:
    assert URI.parse("qemu:///embed?root=/a&root=/b").embed_root == "/a"
    assert URI.parse("qemu:///embed?ROOT=/a").embed_root is None


# --- construction and derived URIs -------------------------------------------------


def test_query_pairs_are_encoded_like_libvirt_format_params() -> None:
    uri = URI(
        "qemu+ssh",
        user="root",
        host="h",
        port=2222,
        path="/system",
        query=(("keyfile", "/root/k"),),
    )
    assert str(uri) == "qemu+ssh://root@h:2222/system?keyfile=%2Froot%2Fk"
    value = "a/b c~d.e_f-g\u00e9!*'()"
    assert (
        URI("t", query=(("k", value),)).query_string == "k=a%2Fb%20c~d.e_f-g%C3%A9%21%2A%27%28%29"
    )


def test_query_names_are_escaped_only_where_they_would_break_the_query() -> None:
    uri = URI("t", query=(("n/x", "1"), ("a&b=c", "2")))
    assert uri.query_string == "n/x=1&a%26b%3Dc=2"
    assert URI.parse(str(uri)).query == uri.query


def test_a_query_string_given_alone_supplies_the_pairs() -> None:
    assert URI("t", query_string="a=1;b").query == (("a", "1"), ("b", ""))


def test_query_and_query_string_that_disagree_are_refused() -> None:
    with pytest.raises(InvalidArgError):
        URI("t", query=(("a", "1"),), query_string="a=2")


@pytest.mark.parametrize(
    "fields",
    [
        {"scheme": "1x"},
        {"scheme": "a b"},
        {"scheme": "t", "port": 22},
        {"scheme": "t", "host": "h", "port": -1},
        {"scheme": "t", "host": "h", "port": 2**31},
        {"scheme": "t", "host": "h", "port": True},
        {"scheme": "t", "path": "/a\0b"},
        {"scheme": "t", "user": "\ud800"},
        {"scheme": "t", "query_string": "a b"},
        {"scheme": "t", "query_string": "a=%00"},
        {"scheme": "t", "query": (("", "v"),)},
        {"scheme": "t", "query": (("a", "b", "c"),)},
    ],
    ids=repr,
)
def test_invalid_fields_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgError):
        URI(**fields)


def test_empty_host_and_port_zero_mean_absent() -> None:
    assert URI("t", host="", path="/x") == URI("t", path="/x")
    assert URI("t", host="h", port=0).port is None


def test_bracketed_ipv6_host_is_stored_without_brackets() -> None:
    uri = URI("t", host="[::1]", port=5)
    assert uri.host == "::1"
    assert str(uri) == "t://[::1]:5"


def test_uri_is_immutable_and_hashable() -> None:
    uri = URI.parse("test:///default")
    with pytest.raises(dataclasses.FrozenInstanceError):
        uri.path = "/other"  # type: ignore[misc]
    assert {uri, URI.parse("test:///default")} == {uri}


def test_source_records_the_parsed_text_without_affecting_equality() -> None:
    uri = URI.parse("test:/default")
    assert uri.source == "test:/default"
    assert uri == URI("test", path="/default")
    assert uri.replace(path="/x").source is None


def test_replace_changes_only_the_named_fields() -> None:
    uri = URI.parse("qemu+ssh://root@h:22/system?keyfile=/k#f")
    assert str(uri.replace(host="other", port=None)) == "qemu+ssh://root@other/system?keyfile=/k#f"


def test_replacing_query_re_encodes_the_query_string() -> None:
    uri = URI.parse("test:///p?a=%41").replace(query=(("b", "x y"),))
    assert uri.query_string == "b=x%20y"


def test_replacing_query_string_re_derives_the_pairs() -> None:
    uri = URI.parse("test:///p?a=1").replace(query_string="b=2")
    assert uri.query == (("b", "2"),)


def test_with_transport_none_strips_the_transport() -> None:
    uri = URI.parse("test+unix:///default?socket=/s")
    assert str(uri.with_transport(None)) == "test:///default?socket=/s"


def test_with_transport_sets_or_replaces_the_transport() -> None:
    assert str(URI.parse("qemu:///system").with_transport("ssh")) == "qemu+ssh:///system"
    assert URI.parse("qemu+tls://h/system").with_transport("tcp").scheme == "qemu+tcp"


def test_without_params_drops_names_ignoring_case_and_re_encodes_the_rest() -> None:
    uri = URI.parse("qemu+ssh://h/system?KeyFile=/k&extra=a%20b&no_verify=1")
    stripped = uri.without_params("keyfile", "no_verify")
    assert str(stripped) == "qemu+ssh://h/system?extra=a%20b"


def test_without_params_removes_the_question_mark_when_nothing_is_left() -> None:
    assert str(URI.parse("test:///default?a=1").without_params("a")) == "test:///default"


def test_without_params_returns_the_same_uri_when_nothing_matches() -> None:
    uri = URI.parse("test:///default?a=%41")
    assert uri.without_params("b") is uri


# --- the checks virConnectOpenInternal makes ----------------------------------------


def test_require_scheme_refuses_a_uri_without_a_driver_name() -> None:
    with pytest.raises(NoConnectError) as info:
        require_scheme(URI.parse("/default"))
    assert info.value.code == ErrorNumber.NO_CONNECT
    assert info.value.domain == ErrorDomain.NONE
    assert info.value.message == (
        "no connection driver available for URI '/default' does not include a driver name"
    )


def test_require_scheme_accepts_any_scheme() -> None:
    require_scheme(URI.parse("anything:///x"))


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("qemu://system", "qemu:///system"),
        ("qemu://session", "qemu:///session"),
        ("vbox://system", "vbox:///system"),
        ("vz://session", "vz:///session"),
        ("qemu://system/", "qemu:///system"),
        ("qemu://system/foo", "qemu:///system"),
        ("qemu://user@system:22/x?y", "qemu:///system"),
        ("qemu://sys%74em/", "qemu:///system"),
    ],
)
def test_check_uri_typo_suggests_the_missing_slash(text: str, suggestion: str) -> None:
    with pytest.raises(InternalError) as info:
        check_uri_typo(URI.parse(text))
    assert info.value.domain == ErrorDomain.NONE
    assert info.value.message == (
        f"internal error: invalid URI {text} (maybe you want {suggestion})"
    )


@pytest.mark.parametrize(
    "text", ["qemu:///system", "qemu://System", "test://system", "qemu+ssh://system/system"]
)
def test_check_uri_typo_leaves_other_uris_alone(text: str) -> None:
    check_uri_typo(URI.parse(text))


def test_parse_connect_uri_checks_the_scheme_before_the_typo() -> None:
    with pytest.raises(NoConnectError):
        parse_connect_uri("//system/")
    with pytest.raises(InternalError, match="maybe you want"):
        parse_connect_uri("qemu://system")
    with pytest.raises(URISyntaxError):
        parse_connect_uri("qemu:///a b")
    assert parse_connect_uri("qemu:///system").path == "/system"


def test_validate_embedded_returns_the_root() -> None:
    assert validate_embedded(URI.parse("qemu:///embed?root=/var/x")) == "/var/x"


@pytest.mark.parametrize("text", ["QEMU:///embed?root=/x", "qemu+ssh:///embed?root=/x"])
def test_validate_embedded_requires_a_lowercase_letters_scheme(text: str) -> None:
    scheme = text.partition(":")[0]
    with pytest.raises(NoConnectError) as info:
        validate_embedded(URI.parse(text))
    assert info.value.message == (
        f"no connection driver available for URI scheme '{scheme}' for embedded driver is not valid"
    )


@pytest.mark.parametrize("text", ["qemu:///embed", "qemu:///embed?ROOT=/x"])
def test_validate_embedded_requires_the_root_parameter(text: str) -> None:
    with pytest.raises(InvalidArgError) as info:
        validate_embedded(URI.parse(text))
    assert info.value.domain == ErrorDomain.URI
    assert info.value.message == "invalid argument: Missing URI parameter 'root'"


@pytest.mark.parametrize(
    "text", ["qemu:///embed?root=x", "qemu:///embed?root=", "qemu:///embed?root=y&root=/x"]
)
def test_validate_embedded_requires_an_absolute_root(text: str) -> None:
    with pytest.raises(ConfigUnsupportedError) as info:
        validate_embedded(URI.parse(text))
    assert info.value.domain == ErrorDomain.NONE
    assert info.value.message == "unsupported configuration: root path must be absolute"


def test_default_uri_reads_the_environment_variable() -> None:
    assert default_uri({DEFAULT_URI_ENV: "test:///default"}) == "test:///default"


def test_default_uri_is_none_when_unset_or_empty() -> None:
    assert default_uri({}) is None
    assert default_uri({DEFAULT_URI_ENV: ""}) is None


def test_default_uri_uses_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(DEFAULT_URI_ENV, "qemu:///session")
    assert default_uri() == "qemu:///session"


# --- differential: the installed libvirt agrees -----------------------------------

_LIBVIRT_PYTHON = "/usr/bin/python3"

_ORACLE = r"""
import json, sys
import libvirt
libvirt.registerErrorHandler(lambda *args: None, None)
results = []
for uri in json.load(sys.stdin):
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError as err:
        results.append(["error", err.get_error_code(), err.get_error_domain(),
                        err.get_error_message()])
    else:
        results.append(["uri", conn.getURI()])
        conn.close()
json.dump(results, sys.stdout)
"""


def _ask_libvirt(uris: list[str]) -> list[list[Any]]:
    require_libvirt_python()
    done = subprocess.run(
        [_LIBVIRT_PYTHON, "-c", _ORACLE],
        input=json.dumps(uris),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    results: list[list[Any]] = json.loads(done.stdout)
    return results


def _ours(text: str) -> list[Any]:
    try:
        uri = parse_connect_uri(text)
        if uri.is_embedded:
            validate_embedded(uri)
    except VirtError as err:
        return ["error", int(err.code), int(err.domain), err.message]
    return ["uri", str(uri)]


def test_libvirt_formats_test_uris_as_we_do(tmp_path: Path) -> None:
    spaced = tmp_path / "d ir" / "n\u00e9 x.xml"
    spaced.parent.mkdir()
    spaced.write_text("<node/>")
    plain = tmp_path / "plain.xml"
    plain.write_text("<node/>")
    spaced_uri = "test://" + str(spaced).replace(" ", "%20").replace("\u00e9", "%C3%A9")
    uris = [
        "test:///default",
        "test:///default?foo=bar%20x",
        "test:///default#frag",
        "test:///default#fr%20ag",
        "test:///default?a=1&&b=&=c;d#x/y?z[w]",
        "test:///default?%7E",
        "test:///%64efault",
        "test://:5/default",
        f"test://{plain}",
        f"test:{plain}",
        f"test://{plain}?",
        f"test://{plain}#",
        f"test://{plain.parent}/./{plain.name}",
        spaced_uri,
        spaced_uri + "?a=%41;b#f%20g",
    ]
    expected = _ask_libvirt(uris)
    assert [_ours(text) for text in uris] == expected


def test_libvirt_rejects_bad_uris_as_we_do() -> None:
    uris = [
        "test:///a b",
        "test:///%zz",
        "test://host:2147483648/p",
        "/default",
        "default",
        "qemu://system",
        "vbox://session/x",
        "QEMU:///embed",
        "qemu:///embed",
        "qemu:///embed?ROOT=/x",
        "qemu:///embed?root=x",
        "qemu:///embed?root=y&root=/x",
    ]
    expected = _ask_libvirt(uris)
    assert [_ours(text) for text in uris] == expected
