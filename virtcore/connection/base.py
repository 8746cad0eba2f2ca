"""The dispatch seam the per-family call mixins build on, and their shared argument errors."""

from __future__ import annotations

from typing import Any

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InvalidArgError

__all__ = ["CallsBase", "invalid_arg"]


def invalid_arg(api: str, argname: str, text: str, domain: ErrorDomain) -> InvalidArgError:
    """An error like libvirt's ``virReportInvalidArg``: *text* is the whole message."""
    return InvalidArgError(text, message=text, domain=domain, str1=api, str2=argname)


class CallsBase:
    """Declares the seam every public call goes through.

    :class:`~virtcore.connection.Connection` implements :meth:`_invoke`,
    :meth:`_check_open` and :attr:`read_only`; the mixins in this package only
    translate public methods into ``_invoke(table_kind, driver_method,
    libvirt_api, *args, write=...)``, checking arguments first where libvirt's
    public entry point does.
    """

    __slots__ = ()

    def _invoke(self, kind: str, method: str, api: str, *args: Any, write: bool = False) -> Any:
        raise NotImplementedError

    def _hv(self, method: str, api: str, *args: Any, write: bool = False) -> Any:
        return self._invoke("hypervisor", method, api, *args, write=write)

    def _check_open(self, api: str, domain: int) -> None:
        """Raise if the connection is closed.

        libvirt refuses a closed connection before it looks at the arguments,
        so calls that check arguments call this first.
        """
        raise NotImplementedError

    @property
    def read_only(self) -> bool:
        """Whether the connection is read-only."""
        raise NotImplementedError
