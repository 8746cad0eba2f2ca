"""Connection calls that list, look up, define and create domains.

The calls that start a domain or open its console with host resources (file
descriptors handed to the guest, a stream) live here too: libvirt checks the
connection state, read-only access and that the stream belongs to the same
connection before the driver is asked, with the same codes and wording.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from virtcore.connection.base import CallsBase, invalid_arg
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import OperationDeniedError
from virtcore.objects import Domain, Stream

__all__ = ["DomainCalls"]


class DomainCalls(CallsBase):
    """Connection calls that list, look up, define and create domains.

    The calls that start a domain or open its console with host resources (file
    descriptors handed to the guest, a stream) live here too: libvirt checks the
    connection state, read-only access and that the stream belongs to the same
    connection before the driver is asked, with the same codes and wording.
    """

    __slots__ = ()

    def list_all_domains(self, flags: int = 0) -> list[Domain]:
        """Domains matching the ``ConnectListAllDomainsFlags`` filter."""
        return list(self._hv("connect_list_all_domains", "virConnectListAllDomains", flags))

    def list_domains_ids(self) -> list[int]:
        """Ids of running domains (``virConnectListDomains``)."""
        return list(self._hv("connect_list_domains", "virConnectListDomains"))

    def list_defined_domains(self) -> list[str]:
        """Names of inactive persistent domains (``virConnectListDefinedDomains``)."""
        return list(self._hv("connect_list_defined_domains", "virConnectListDefinedDomains"))

    def num_of_domains(self) -> int:
        """Number of running domains (``virConnectNumOfDomains``)."""
        result: int = self._hv("connect_num_of_domains", "virConnectNumOfDomains")
        return result

    def num_of_defined_domains(self) -> int:
        """Number of inactive persistent domains (``virConnectNumOfDefinedDomains``)."""
        result: int = self._hv("connect_num_of_defined_domains", "virConnectNumOfDefinedDomains")
        return result

    def domain_lookup_by_name(self, name: str) -> Domain:
        """Find a domain by name (``virDomainLookupByName``)."""
        result: Domain = self._hv("domain_lookup_by_name", "virDomainLookupByName", name)
        return result

    def domain_lookup_by_uuid(self, uuid: str) -> Domain:
        """Find a domain by UUID string (``virDomainLookupByUUIDString``)."""
        result: Domain = self._hv("domain_lookup_by_uuid", "virDomainLookupByUUID", uuid)
        return result

    def domain_lookup_by_id(self, id: int) -> Domain:
        """Find a running domain by id (``virDomainLookupByID``)."""
        result: Domain = self._hv("domain_lookup_by_id", "virDomainLookupByID", id)
        return result

    def domain_define_xml(self, xml: str, flags: int = 0) -> Domain:
        """Define (or redefine) a persistent domain (``virDomainDefineXMLFlags``)."""
        result: Domain = self._hv(
            "domain_define_xml_flags",
            "virDomainDefineXMLFlags" if flags else "virDomainDefineXML",
            xml,
            flags,
            write=True,
        )
        return result

    def domain_create_xml(self, xml: str, flags: int = 0) -> Domain:
        """Start a transient domain (``virDomainCreateXML``)."""
        result: Domain = self._hv("domain_create_xml", "virDomainCreateXML", xml, flags, write=True)
        return result

    def domain_create_xml_with_files(
        self, xml: str, files: Sequence[int], flags: int = 0
    ) -> Domain:
        """Start a transient domain, handing it the open file descriptors *files*
        (``virDomainCreateXMLWithFiles``); drivers whose guests take no descriptors
        ignore them, as libvirt's test driver does.
        """
        result: Domain = self._hv(
            "domain_create_xml_with_files",
            "virDomainCreateXMLWithFiles",
            xml,
            list(files),
            flags,
            write=True,
        )
        return result

    def domain_create_with_files(self, dom: Domain, files: Sequence[int], flags: int = 0) -> None:
        """Start the defined domain *dom*, handing it the open file descriptors *files*
        (``virDomainCreateWithFiles``); :meth:`Domain.create_with_files` is the same call.
        """
        self._hv(
            "domain_create_with_files",
            "virDomainCreateWithFiles",
            dom,
            list(files),
            flags,
            write=True,
        )

    def domain_open_console(
        self, dom: Domain, dev_name: str | None, stream: Stream, flags: int = 0
    ) -> None:
        """Bind *stream* to the console, serial or parallel port *dev_name* of *dom*, the
        first console when ``None`` (``virDomainOpenConsole``); :meth:`Domain.open_console`
        is the same call.
        """
        api = "virDomainOpenConsole"
        self._check_open(api, ErrorDomain.DOMAIN)
        # libvirt refuses a read-only connection before comparing connections.
        if self.read_only:
            raise OperationDeniedError(
                f"read only access prevents {api}", domain=ErrorDomain.DOMAIN
            )
        if stream.connection is not self:
            text = f"stream must match connection of domain '{dom.name}'"
            raise invalid_arg(api, "st", text, ErrorDomain.DOMAIN)
        self._hv("domain_open_console", api, dom, dev_name, stream, flags, write=True)

    def domain_restore(self, path: str, dxml: str | None = None, flags: int = 0) -> None:
        """Restore a domain saved to *path* (``virDomainRestoreFlags``)."""
        self._hv("domain_restore_flags", "virDomainRestoreFlags", path, dxml, flags, write=True)

    def save_image_get_xml_desc(self, file: str, flags: int = 0) -> str:
        """The domain definition inside a save image (``virDomainSaveImageGetXMLDesc``)."""
        result: str = self._hv(
            "domain_save_image_get_xml_desc",
            "virDomainSaveImageGetXMLDesc",
            file,
            flags,
            write=True,
        )
        return result

    def save_image_define_xml(self, file: str, dxml: str, flags: int = 0) -> None:
        """Replace the definition inside a save image (``virDomainSaveImageDefineXML``)."""
        self._hv(
            "domain_save_image_define_xml",
            "virDomainSaveImageDefineXML",
            file,
            dxml,
            flags,
            write=True,
        )

    def get_all_domain_stats(
        self, stats: int = 0, flags: int = 0
    ) -> list[tuple[Domain, dict[str, Any]]]:
        """Statistics of every matching domain (``virConnectGetAllDomainStats``).

        *stats* selects groups (:class:`~virtcore.enums.domain_guest.DomainStatsTypes`,
        0 for every group the driver supports); *flags* filter domains like
        ``list_all_domains`` and may add ``ENFORCE_STATS`` (bit 31).
        """
        return [
            (dom, dict(params))
            for dom, params in self._hv(
                "connect_get_all_domain_stats", "virConnectGetAllDomainStats", None, stats, flags
            )
        ]

    def domain_list_get_stats(
        self, doms: Sequence[Domain], stats: int = 0, flags: int = 0
    ) -> list[tuple[Domain, dict[str, Any]]]:
        """Statistics of the given domains (``virDomainListGetStats``)."""
        return [
            (dom, dict(params))
            for dom, params in self._hv(
                "connect_get_all_domain_stats", "virDomainListGetStats", list(doms), stats, flags
            )
        ]
