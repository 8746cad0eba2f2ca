"""The dispatch seam the per-family call mixins build on."""

from __future__ import annotations

from typing import Any

__all__ = ["CallsBase"]


class CallsBase:
    """Declares the one seam every public call goes through.

    :class:`~virtcore.connection.Connection` implements :meth:`_invoke`; the
    mixins in this package only translate public methods into
    ``_invoke(table_kind, driver_method, libvirt_api, *args, write=...)``.
    """

    __slots__ = ()

    def _invoke(self, kind: str, method: str, api: str, *args: Any, write: bool = False) -> Any:
        raise NotImplementedError

    def _hv(self, method: str, api: str, *args: Any, write: bool = False) -> Any:
        return self._invoke("hypervisor", method, api, *args, write=write)
