"""URI dispatch follows libvirt's virConnectOpenInternal rules."""

from __future__ import annotations

import pytest

import virtcore
from tests.fakedrivers import FakeConnectDriver, plugin_of
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import (
    AuthCancelledError,
    ConfigUnsupportedError,
    InternalError,
    InvalidArgError,
    NoConnectError,
)
from virtcore.registry import Registry


def test_a_driver_claiming_the_scheme_opens_the_connection(registry: Registry) -> None:
    drv = FakeConnectDriver()
    registry.register(plugin_of(drv), "fake")
    with virtcore.open("fake:///system", registry=registry) as conn:
        assert conn.driver is drv
        assert conn.uri == "fake:///system"
        assert conn.get_type() == "FAKE"


def test_no_driver_for_the_scheme_is_no_connect_with_the_uri(registry: Registry) -> None:
    registry.register(plugin_of(FakeConnectDriver()), "fake")
    with pytest.raises(NoConnectError) as info:
        virtcore.open("nosuchdrv:///x", registry=registry)
    assert info.value.code == ErrorNumber.NO_CONNECT
    assert info.value.domain == ErrorDomain.NONE
    assert info.value.message == "no connection driver available for nosuchdrv:///x"


def test_scheme_match_is_exact_so_a_transport_suffix_does_not_match(registry: Registry) -> None:
    drv = FakeConnectDriver()
    registry.register(plugin_of(drv), "fake")
    with pytest.raises(NoConnectError):
        virtcore.open("fake+unix:///system", registry=registry)
    assert drv.opened == []


def test_a_declining_driver_passes_the_uri_to_the_next(registry: Registry) -> None:
    first = FakeConnectDriver(name="first", decline=True)
    second = FakeConnectDriver(name="second")
    registry.register(plugin_of(first, second), "fakes")
    with virtcore.open("fake:///x", registry=registry) as conn:
        assert conn.driver is second
    assert len(first.opened) == 1


def test_a_failing_driver_stops_dispatch(registry: Registry) -> None:
    first = FakeConnectDriver(name="first", fail=True)
    second = FakeConnectDriver(name="second")
    registry.register(plugin_of(first, second), "fakes")
    with pytest.raises(InternalError, match="first refuses"):
        virtcore.open("fake:///x", registry=registry)
    assert second.opened == []


def test_wildcard_drivers_are_tried_after_named_ones(registry: Registry) -> None:
    wildcard = FakeConnectDriver(name="remote", schemes=None)
    named = FakeConnectDriver(name="named")
    registry.register(plugin_of(wildcard), "a-wildcard")
    registry.register(plugin_of(named), "b-named")
    with virtcore.open("fake:///x", registry=registry) as conn:
        assert conn.driver is named
    assert wildcard.opened == []
    with virtcore.open("other:///x", registry=registry) as conn:
        assert conn.driver is wildcard


def test_local_only_drivers_skip_uris_with_a_server(registry: Registry) -> None:
    local = FakeConnectDriver(name="local", local_only=True)
    wildcard = FakeConnectDriver(name="remote", schemes=None)
    registry.register(plugin_of(local, wildcard), "fakes")
    with virtcore.open("fake://host.example/system", registry=registry) as conn:
        assert conn.driver is wildcard
    assert local.opened == []


def test_remote_only_driver_requires_a_server_part(registry: Registry) -> None:
    registry.register(plugin_of(FakeConnectDriver(remote_only=True)), "fake")
    with pytest.raises(InvalidArgError) as info:
        virtcore.open("fake:///system", registry=registry)
    assert info.value.message == "invalid argument: URI is missing the server part"


def test_uri_without_scheme_names_the_missing_driver(registry: Registry) -> None:
    with pytest.raises(NoConnectError) as info:
        virtcore.open("/foo", registry=registry)
    # libvirt's own wording, quirk included.
    assert info.value.message == (
        "no connection driver available for URI '/foo' does not include a driver name"
    )


def test_qemu_double_slash_typo_gets_a_hint(registry: Registry) -> None:
    with pytest.raises(InternalError) as info:
        virtcore.open("qemu://system", registry=registry)
    assert info.value.message == (
        "internal error: invalid URI qemu://system (maybe you want qemu:///system)"
    )


def test_unparsable_uri_is_an_internal_uri_error(registry: Registry) -> None:
    with pytest.raises(InternalError) as info:
        virtcore.open("test:///de fault", registry=registry)
    assert info.value.domain == ErrorDomain.URI
    assert info.value.message == "internal error: Unable to parse URI test:///de fault"


def test_embedded_uri_needs_a_root_parameter(registry: Registry) -> None:
    registry.register(plugin_of(FakeConnectDriver(embeddable=True)), "fake")
    with pytest.raises(InvalidArgError) as info:
        virtcore.open("fake:///embed", registry=registry)
    assert info.value.message == "invalid argument: Missing URI parameter 'root'"


def test_embedded_root_must_be_absolute(registry: Registry) -> None:
    registry.register(plugin_of(FakeConnectDriver(embeddable=True)), "fake")
    with pytest.raises(ConfigUnsupportedError) as info:
        virtcore.open("fake:///embed?root=relative", registry=registry)
    assert info.value.message == "unsupported configuration: root path must be absolute"


def test_embedded_mode_only_uses_embeddable_drivers(registry: Registry, tmp_path: object) -> None:
    plain = FakeConnectDriver(name="plain")
    wildcard = FakeConnectDriver(name="remote", schemes=None)
    embeddable = FakeConnectDriver(name="embeddable", embeddable=True)
    registry.register(plugin_of(plain, wildcard, embeddable), "fakes")
    with virtcore.open(f"fake:///embed?root={tmp_path}", registry=registry) as conn:
        assert conn.driver is embeddable
        assert conn.parsed_uri is not None and conn.parsed_uri.embed_root == str(tmp_path)
    assert plain.opened == [] and wildcard.opened == []


def test_default_uri_comes_from_the_environment_first(registry: Registry) -> None:
    drv = FakeConnectDriver(probe_uri="fake:///probed")
    registry.register(plugin_of(drv), "fake")
    env = {"VIRTCORE_DEFAULT_URI": "fake:///from-env"}
    with virtcore.open(None, registry=registry, environ=env) as conn:
        assert conn.uri == "fake:///from-env"


def test_default_uri_is_probed_when_the_environment_has_none(registry: Registry) -> None:
    drv = FakeConnectDriver(probe_uri="fake:///probed")
    registry.register(plugin_of(drv), "fake")
    with virtcore.open(None, registry=registry, environ={}) as conn:
        assert conn.uri == "fake:///probed"


def test_without_any_uri_only_wildcard_drivers_are_tried(registry: Registry) -> None:
    named = FakeConnectDriver(name="named")
    wildcard = FakeConnectDriver(name="remote", schemes=None)
    registry.register(plugin_of(named, wildcard), "fakes")
    with virtcore.open(None, registry=registry, environ={}) as conn:
        assert conn.driver is wildcard
        assert conn.parsed_uri is None
    assert named.opened == []


def test_open_auth_hands_the_credentials_to_the_driver(registry: Registry) -> None:
    drv = FakeConnectDriver(require_password="s3cret")
    registry.register(plugin_of(drv), "fake")

    def answer(creds: list[virtcore.Credential]) -> int:
        for cred in creds:
            cred.result = "s3cret"
        return 0

    auth = virtcore.Auth([5], answer)
    with virtcore.open_auth("fake:///x", auth, registry=registry) as conn:
        assert conn.get_type() == "FAKE"
    assert drv.auth_seen == [auth]


def test_a_declining_credential_callback_cancels_the_open(registry: Registry) -> None:
    registry.register(plugin_of(FakeConnectDriver(require_password="x")), "fake")
    auth = virtcore.Auth([5], lambda creds: -1)
    with pytest.raises(AuthCancelledError):
        virtcore.open_auth("fake:///x", auth, registry=registry)


def test_flags_other_than_read_only_are_not_passed_on(registry: Registry) -> None:
    registry.register(plugin_of(FakeConnectDriver()), "fake")
    with virtcore.open("fake:///x", 0x40, registry=registry) as conn:
        assert not conn.read_only
