"""libvirtError, the per-thread last error and error handlers, as libvirt-python 9.0 has them."""

from __future__ import annotations

import threading

import pytest

from virtcore import libvirt
from virtcore.errors import NoDomainError

NOT_FOUND = (42, 12, "Domain not found", 2, "Domain not found", None, None, -1, -1)


def _lookup_error(conn: libvirt.virConnect) -> libvirt.libvirtError:
    with pytest.raises(libvirt.libvirtError) as info:
        conn.lookupByName("nosuch")
    return info.value


def test_failed_lookup_carries_libvirts_error_tuple(conn: libvirt.virConnect) -> None:
    assert _lookup_error(conn).err == NOT_FOUND


def test_error_text_is_the_libvirt_message(conn: libvirt.virConnect) -> None:
    assert str(_lookup_error(conn)) == "Domain not found"


def test_accessors_read_the_error_tuple(conn: libvirt.virConnect) -> None:
    err = _lookup_error(conn)
    got = (
        err.get_error_code(),
        err.get_error_domain(),
        err.get_error_message(),
        err.get_error_level(),
        err.get_str1(),
        err.get_str2(),
        err.get_str3(),
        err.get_int1(),
        err.get_int2(),
    )
    assert got == NOT_FOUND


def test_error_code_compares_with_the_module_constant(conn: libvirt.virConnect) -> None:
    assert _lookup_error(conn).get_error_code() == libvirt.VIR_ERR_NO_DOMAIN


def test_str1_holds_the_message_template_and_str2_the_detail(conn: libvirt.virConnect) -> None:
    with pytest.raises(libvirt.libvirtError) as info:
        conn.networkLookupByName("nosuch")
    assert (info.value.get_str1(), info.value.get_str2()) == (
        "Network not found: %s",
        "no network with matching name 'nosuch'",
    )


def test_native_error_is_kept_on_the_exception(conn: libvirt.virConnect) -> None:
    assert isinstance(_lookup_error(conn).virt_error, NoDomainError)


def test_call_no_driver_implements_raises_no_support(conn: libvirt.virConnect) -> None:
    dom = conn.lookupByName("test")
    with pytest.raises(libvirt.libvirtError) as info:
        dom.migrateGetMaxDowntime()
    assert info.value.err == (
        libvirt.VIR_ERR_NO_SUPPORT,
        libvirt.VIR_FROM_DOMAIN,
        "this function is not supported by the connection driver: virDomainMigrateGetMaxDowntime",
        2,
        "this function is not supported by the connection driver: %s",
        "virDomainMigrateGetMaxDowntime",
        None,
        -1,
        -1,
    )


def test_mutating_call_on_read_only_connection_is_denied(quiet: list[object]) -> None:
    ro = libvirt.openReadOnly("test:///default")
    try:
        with pytest.raises(libvirt.libvirtError) as info:
            ro.lookupByName("test").destroy()
    finally:
        ro.close()
    assert info.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    assert str(info.value) == "operation forbidden: read only access prevents virDomainDestroy"


def test_call_after_close_reports_an_invalid_connection(quiet: list[object]) -> None:
    c = libvirt.open("test:///default")
    c.close()
    with pytest.raises(libvirt.libvirtError) as info:
        c.getType()
    assert info.value.err is not None
    assert info.value.err[:3] == (6, 20, "invalid connection pointer in virConnectGetType")


def test_last_error_is_the_failed_calls_error(conn: libvirt.virConnect) -> None:
    _lookup_error(conn)
    assert libvirt.virGetLastError() == NOT_FOUND


def test_successful_call_clears_the_last_error(conn: libvirt.virConnect) -> None:
    _lookup_error(conn)
    conn.getType()
    assert libvirt.virGetLastError() is None


def test_last_error_accessors_without_an_error() -> None:
    got = (
        libvirt.virGetLastErrorCode(),
        libvirt.virGetLastErrorDomain(),
        libvirt.virGetLastErrorMessage(),
    )
    assert got == (0, 0, "no error")


def test_last_error_accessors_after_an_error(conn: libvirt.virConnect) -> None:
    _lookup_error(conn)
    got = (
        libvirt.virGetLastErrorCode(),
        libvirt.virGetLastErrorDomain(),
        libvirt.virGetLastErrorMessage(),
    )
    assert got == (42, 12, "Domain not found")


def test_reset_last_error_forgets_it(conn: libvirt.virConnect) -> None:
    _lookup_error(conn)
    libvirt.virResetLastError()
    assert libvirt.virGetLastError() is None


def test_last_error_is_per_thread(conn: libvirt.virConnect) -> None:
    _lookup_error(conn)
    seen: list[object] = []
    worker = threading.Thread(target=lambda: seen.append(libvirt.virGetLastError()))
    worker.start()
    worker.join(10)
    assert seen == [None]


def test_user_built_error_without_last_error_uses_its_message() -> None:
    err = libvirt.libvirtError("something failed")
    assert (str(err), err.err, err.get_error_code()) == ("something failed", None, None)


def test_user_built_error_picks_up_the_last_error(conn: libvirt.virConnect) -> None:
    _lookup_error(conn)
    err = libvirt.libvirtError("ignored")
    assert (str(err), err.err) == ("Domain not found", NOT_FOUND)


def test_connection_remembers_its_last_error(conn: libvirt.virConnect) -> None:
    _lookup_error(conn)
    assert conn.virConnGetLastError() == NOT_FOUND


def test_connection_last_error_can_be_reset(conn: libvirt.virConnect) -> None:
    _lookup_error(conn)
    conn.virConnResetLastError()
    assert conn.virConnGetLastError() is None


def test_registered_handler_receives_context_and_error_tuple(
    conn: libvirt.virConnect, quiet: list[tuple[object, tuple[object, ...]]]
) -> None:
    ctx = object()
    seen: list[tuple[object, object]] = []
    assert libvirt.registerErrorHandler(lambda c, e: seen.append((c, e)), ctx) == 1
    _lookup_error(conn)
    assert seen == [(ctx, NOT_FOUND)]


def test_default_handler_prints_like_libvirt(capsys: pytest.CaptureFixture[str]) -> None:
    c = libvirt.open("test:///default")
    try:
        with pytest.raises(libvirt.libvirtError):
            c.lookupByName("nosuch")
    finally:
        c.close()
    assert capsys.readouterr().err == "libvirt: Test Driver error : Domain not found\n"


def test_handler_none_restores_printing(
    conn: libvirt.virConnect, capsys: pytest.CaptureFixture[str]
) -> None:
    libvirt.registerErrorHandler(None, None)
    _lookup_error(conn)
    assert "Domain not found" in capsys.readouterr().err


def test_failing_handler_does_not_hide_the_error(conn: libvirt.virConnect) -> None:
    def broken(ctx: object, err: object) -> None:
        raise RuntimeError("handler bug")

    libvirt.registerErrorHandler(broken, None)
    assert _lookup_error(conn).err == NOT_FOUND
