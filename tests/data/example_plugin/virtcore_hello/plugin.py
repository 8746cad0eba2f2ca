"""Entry-point module: cheap to import, it only names the driver."""

from virtcore import hookimpl


@hookimpl
def virtcore_connect_drivers():  # type: ignore[no-untyped-def]
    from virtcore_hello.driver import HelloConnectDriver

    return [HelloConnectDriver()]
