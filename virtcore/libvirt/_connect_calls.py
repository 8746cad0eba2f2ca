"""``virConnect`` calls on domains and the host, one driver call each (libvirt-python's order).

These go to the hypervisor table (calls on the secondary drivers' objects are
in :mod:`._connect_objects`). See :mod:`virtcore.libvirt._base` for the
conventions.
"""

# libvirt-python's camelCase names and signatures are the API reproduced here.
# ruff: noqa: N802, N803, PLR0917

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from virtcore.errors import VirtError
from virtcore.libvirt._base import route, status, through, uuid_str
from virtcore.libvirt._domain import virDomain
from virtcore.libvirt._errors import ErrorTuple, _last, libvirtError, raise_from, reset_last_error

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore.libvirt._callbacks import EventPump

__all__ = ["ConnectCalls"]

# libvirt-python's own bound on startCell + maxCells for getCellsFreeMemory.
_MAX_CELLS_QUERY = 10000


class ConnectCalls:
    """The mechanical half of ``virConnect``."""

    _c: Connection
    _pump: EventPump | None
    _last_error: ErrorTuple | None
    _routes: dict[tuple[str, str], bool]

    def _call(self, method: str, api: str, *args: Any, write: bool = False) -> Any:
        """``tables.hypervisor.<method>(conn, *args)``."""
        _last.err = None
        if write and self._pump is not None:
            return self._call_in("hypervisor", method, api, *args, write=True)
        try:
            if write:
                return self._c._invoke("hypervisor", method, api, *args, write=True)
            return self._c._invoke("hypervisor", method, api, *args)
        except VirtError as exc:
            raise raise_from(exc, api, self) from None

    def _call_in(self, kind: str, method: str, api: str, *args: Any, write: bool = False) -> Any:
        """``tables.<kind>.<method>(conn, *args)``, errors as ``libvirtError``."""
        reset_last_error()
        pump = self._pump if write else None
        if pump is not None:
            pump.enter_call()
        try:
            return self._c._invoke(kind, method, api, *args, write=write)
        except VirtError as exc:
            raise raise_from(exc, api, self) from None
        finally:
            if pump is not None:
                pump.leave_call()

    def _call_either(
        self,
        kind: str,
        plain: tuple[str, tuple[Any, ...]],
        variant: tuple[str, tuple[Any, ...]],
        api: str,
    ) -> Any:
        """Call *plain* ``(method, args)`` on table *kind* if the driver has it, else *variant*.

        See :meth:`virtcore.libvirt._base.Wrapped._call_either`; always a mutating call.
        """
        method, args = plain if route(self, kind, plain[0], variant[0]) else variant
        return self._call_in(kind, method, api, *args, write=True)

    def allocPages(
        self, pages: list[int], startCell: int = 0, cellCount: int = 0, flags: int = 0
    ) -> int:
        """Allocate or free some pages in the huge pages pool (``virNodeAllocPages``)."""
        return status(
            self._call(
                "node_alloc_pages",
                "virNodeAllocPages",
                pages,
                startCell,
                cellCount,
                flags,
                write=True,
            )
        )

    def baselineCPU(self, xmlCPUs: list[str], flags: int = 0) -> str:
        """Computes the most feature-rich CPU which is compatible with all given host CPUs
        (``virConnectBaselineCPU``).
        """
        result: str = self._call("connect_baseline_cpu", "virConnectBaselineCPU", xmlCPUs, flags)
        return result

    def baselineHypervisorCPU(
        self,
        emulator: str | None,
        arch: str | None,
        machine: str | None,
        virttype: str | None,
        xmlCPUs: list[str],
        flags: int = 0,
    ) -> str:
        """Computes the most feature-rich CPU which is compatible with all given CPUs and can be
        provided by the specified hypervisor (``virConnectBaselineHypervisorCPU``).
        """
        result: str = self._call(
            "connect_baseline_hypervisor_cpu",
            "virConnectBaselineHypervisorCPU",
            emulator,
            arch,
            machine,
            virttype,
            xmlCPUs,
            flags,
        )
        return result

    def compareCPU(self, xmlDesc: str, flags: int = 0) -> int:
        """Compares the given CPU description with the host CPU (``virConnectCompareCPU``)."""
        return status(self._call("connect_compare_cpu", "virConnectCompareCPU", xmlDesc, flags))

    def compareHypervisorCPU(
        self,
        emulator: str | None,
        arch: str | None,
        machine: str | None,
        virttype: str | None,
        xmlCPU: str,
        flags: int = 0,
    ) -> int:
        """Compares the given CPU description with the CPU the specified hypervisor is able to
        provide on the host (``virConnectCompareHypervisorCPU``).
        """
        return status(
            self._call(
                "connect_compare_hypervisor_cpu",
                "virConnectCompareHypervisorCPU",
                emulator,
                arch,
                machine,
                virttype,
                xmlCPU,
                flags,
            )
        )

    def createLinux(self, xmlDesc: str, flags: int = 0) -> virDomain:
        """Deprecated after 0.4.6 (``virDomainCreateLinux``)."""
        return virDomain(
            self,
            _obj=self._call(
                "domain_create_xml", "virDomainCreateLinux", xmlDesc, flags, write=True
            ),
        )

    def createXML(self, xmlDesc: str, flags: int = 0) -> virDomain:
        """``virDomainCreateXML``."""
        return virDomain(
            self,
            _obj=self._call("domain_create_xml", "virDomainCreateXML", xmlDesc, flags, write=True),
        )

    def defineXML(self, xml: str) -> virDomain:
        """Define a domain, but does not start it (``virDomainDefineXML``)."""
        return virDomain(
            self,
            _obj=self._call_either(
                "hypervisor",
                ("domain_define_xml", (xml,)),
                ("domain_define_xml_flags", (xml, 0)),
                "virDomainDefineXML",
            ),
        )

    def defineXMLFlags(self, xml: str, flags: int = 0) -> virDomain:
        """Defines a domain, but does not start it (``virDomainDefineXMLFlags``)."""
        return virDomain(
            self,
            _obj=self._call(
                "domain_define_xml_flags", "virDomainDefineXMLFlags", xml, flags, write=True
            ),
        )

    def domainXMLFromNative(self, nativeFormat: str, nativeConfig: str, flags: int = 0) -> str:
        """Reads native configuration data describing a domain, and generates libvirt domain XML
        (``virConnectDomainXMLFromNative``).
        """
        result: str = self._call(
            "connect_domain_xml_from_native",
            "virConnectDomainXMLFromNative",
            nativeFormat,
            nativeConfig,
            flags,
        )
        return result

    def domainXMLToNative(self, nativeFormat: str, domainXml: str, flags: int = 0) -> str:
        """Reads a domain XML configuration document, and generates a native configuration file
        describing the domain (``virConnectDomainXMLToNative``).
        """
        result: str = self._call(
            "connect_domain_xml_to_native",
            "virConnectDomainXMLToNative",
            nativeFormat,
            domainXml,
            flags,
        )
        return result

    def getCPUMap(self, flags: int = 0) -> tuple[int, list[bool], int]:
        """``(host CPUs, [online? per CPU], online CPUs)`` (``virNodeGetCPUMap``)."""
        cpus, online_map, online = through(self, "virNodeGetCPUMap", self._c.get_cpu_map, flags)
        return cpus, list(online_map), online

    def getCPUModelNames(self, arch: str | None, flags: int = 0) -> list[Any]:
        """Get the list of supported CPU models (``virConnectGetCPUModelNames``)."""
        return list(
            self._call("connect_get_cpu_model_names", "virConnectGetCPUModelNames", arch, flags)
        )

    def getCPUStats(self, cpuNum: int, flags: int = 0) -> dict[str, Any]:
        """Extract node's CPU statistics (``virNodeGetCPUStats``)."""
        return dict(through(self, "virNodeGetCPUStats", self._c.get_cpu_stats, cpuNum, flags))

    def getCapabilities(self) -> str:
        """Provides capabilities of the hypervisor / driver (``virConnectGetCapabilities``)."""
        result: str = self._call("connect_get_capabilities", "virConnectGetCapabilities")
        return result

    def getCellsFreeMemory(self, startCell: int, maxCells: int) -> list[Any]:
        """Returns the available memory for a list of cells (``virNodeGetCellsFreeMemory``)."""
        if startCell < 0 or maxCells <= 0 or startCell + maxCells > _MAX_CELLS_QUERY:
            # libvirt-python refuses these itself, without calling libvirt: the
            # exception carries whatever error the thread recorded last, if any.
            raise libvirtError("virNodeGetCellsFreeMemory() failed")
        api = "virNodeGetCellsFreeMemory"
        return list(through(self, api, self._c.get_cells_free_memory, startCell, maxCells))

    def getDomainCapabilities(
        self,
        emulatorbin: str | None = None,
        arch: str | None = None,
        machine: str | None = None,
        virttype: str | None = None,
        flags: int = 0,
    ) -> str:
        """Query domain capabilities (``virConnectGetDomainCapabilities``)."""
        result: str = through(
            self,
            "virConnectGetDomainCapabilities",
            self._c.get_domain_capabilities,
            emulatorbin,
            arch,
            machine,
            virttype,
            flags,
        )
        return result

    def getFreeMemory(self) -> int:
        """Free host memory in bytes (``virNodeGetFreeMemory``).

        Like libvirt-python, a failure is reported (recorded and dispatched to
        the error handler) but not raised: the call answers 0.
        """
        try:
            return int(through(self, "virNodeGetFreeMemory", self._c.get_free_memory))
        except libvirtError:
            return 0

    def getFreePages(
        self, pages: list[int], startCell: int, maxCells: int, flags: int = 0
    ) -> dict[str, Any]:
        """Returns the number of available pages for a list of cells and page sizes
        (``virNodeGetFreePages``).
        """
        return dict(
            self._call(
                "node_get_free_pages", "virNodeGetFreePages", pages, startCell, maxCells, flags
            )
        )

    def getHostname(self) -> str:
        """``virConnectGetHostname``."""
        result: str = self._call("connect_get_hostname", "virConnectGetHostname")
        return result

    def getMaxVcpus(self, type: str | None) -> int:
        """Provides the maximum number of virtual CPUs supported for a guest VM of a specific type
        (``virConnectGetMaxVcpus``).
        """
        return status(self._call("connect_get_max_vcpus", "virConnectGetMaxVcpus", type))

    def getMemoryParameters(self, flags: int = 0) -> dict[str, Any]:
        """Get the node memory parameters (``virNodeGetMemoryParameters``)."""
        return dict(self._call("node_get_memory_parameters", "virNodeGetMemoryParameters", flags))

    def getMemoryStats(self, cellNum: int, flags: int = 0) -> dict[str, Any]:
        """Extract node's memory statistics (``virNodeGetMemoryStats``)."""
        return dict(
            through(self, "virNodeGetMemoryStats", self._c.get_memory_stats, cellNum, flags)
        )

    def getSEVInfo(self, flags: int = 0) -> dict[str, Any]:
        """Get platform specific information from the SEV firmware (``virNodeGetSEVInfo``)."""
        return dict(self._call("node_get_sev_info", "virNodeGetSEVInfo", flags))

    def getSecurityModel(self) -> list[Any]:
        """Extract information about the hypervisor security model (``virNodeGetSecurityModel``)."""
        return list(through(self, "virNodeGetSecurityModel", self._c.get_security_model))

    def getSysinfo(self, flags: int = 0) -> str:
        """``virConnectGetSysinfo``."""
        result: str = self._call("connect_get_sysinfo", "virConnectGetSysinfo", flags)
        return result

    def isEncrypted(self) -> int:
        """Determine if the connection to the hypervisor is encrypted
        (``virConnectIsEncrypted``).
        """
        return status(self._call("connect_is_encrypted", "virConnectIsEncrypted"))

    def isSecure(self) -> int:
        """``virConnectIsSecure``."""
        return status(self._call("connect_is_secure", "virConnectIsSecure"))

    def listDefinedDomains(self) -> list[Any]:
        """List the defined domains, stores the pointers to the names in @names
        (``virConnectListDefinedDomains``).
        """
        return list(self._call("connect_list_defined_domains", "virConnectListDefinedDomains"))

    def listDomainsID(self) -> list[Any]:
        """Returns the list of the ID of the domains on the hypervisor
        (``virConnectListDomainsID``).
        """
        return list(self._call("connect_list_domains", "virConnectListDomainsID"))

    def lookupByID(self, id: int) -> virDomain:
        """``virDomainLookupByID``."""
        return virDomain(self, _obj=self._call("domain_lookup_by_id", "virDomainLookupByID", id))

    def lookupByName(self, name: str) -> virDomain:
        """Try to lookup a domain on the given hypervisor based on its name
        (``virDomainLookupByName``).
        """
        return virDomain(
            self, _obj=self._call("domain_lookup_by_name", "virDomainLookupByName", name)
        )

    def lookupByUUID(self, uuid: bytes) -> virDomain:
        """Try to lookup a domain on the given hypervisor based on its UUID
        (``virDomainLookupByUUID``).
        """
        return virDomain(
            self, _obj=self._call("domain_lookup_by_uuid", "virDomainLookupByUUID", uuid_str(uuid))
        )

    def lookupByUUIDString(self, uuidstr: str) -> virDomain:
        """Try to lookup a domain on the given hypervisor based on its UUID
        (``virDomainLookupByUUIDString``).
        """
        return virDomain(
            self, _obj=self._call("domain_lookup_by_uuid", "virDomainLookupByUUIDString", uuidstr)
        )

    def numOfDefinedDomains(self) -> int:
        """Provides the number of defined but inactive domains
        (``virConnectNumOfDefinedDomains``).
        """
        return status(self._call("connect_num_of_defined_domains", "virConnectNumOfDefinedDomains"))

    def numOfDomains(self) -> int:
        """Provides the number of active domains (``virConnectNumOfDomains``)."""
        return status(self._call("connect_num_of_domains", "virConnectNumOfDomains"))

    def restore(self, frm: str) -> int:
        """This method will restore a domain saved to disk by virDomainSave()
        (``virDomainRestore``).
        """
        return status(
            self._call_either(
                "hypervisor",
                ("domain_restore", (frm,)),
                ("domain_restore_flags", (frm, None, 0)),
                "virDomainRestore",
            )
        )

    def restoreFlags(self, frm: str, dxml: str | None = None, flags: int = 0) -> int:
        """This method will restore a domain saved to disk by virDomainSave()
        (``virDomainRestoreFlags``).
        """
        return status(
            self._call(
                "domain_restore_flags", "virDomainRestoreFlags", frm, dxml, flags, write=True
            )
        )

    def restoreParams(self, params: dict[str, Any], flags: int = 0) -> int:
        """This method will restore a domain saved to disk (``virDomainRestoreParams``)."""
        return status(
            self._call("domain_restore_params", "virDomainRestoreParams", params, flags, write=True)
        )

    def saveImageDefineXML(self, file: str, dxml: str | None, flags: int = 0) -> int:
        """This updates the definition of a domain stored in a saved state file
        (``virDomainSaveImageDefineXML``).
        """
        return status(
            self._call(
                "domain_save_image_define_xml",
                "virDomainSaveImageDefineXML",
                file,
                dxml,
                flags,
                write=True,
            )
        )

    def saveImageGetXMLDesc(self, file: str, flags: int = 0) -> str:
        """This method will extract the XML describing the domain at the time a saved state file was
        created (``virDomainSaveImageGetXMLDesc``).
        """
        result: str = self._call(
            "domain_save_image_get_xml_desc", "virDomainSaveImageGetXMLDesc", file, flags
        )
        return result

    def setIdentity(self, params: dict[str, Any], flags: int = 0) -> int:
        """Override the default identity information associated with the connection
        (``virConnectSetIdentity``).
        """
        return status(
            self._call("connect_set_identity", "virConnectSetIdentity", params, flags, write=True)
        )

    def setMemoryParameters(self, params: dict[str, Any], flags: int = 0) -> int:
        """Change the node memory tunables (``virNodeSetMemoryParameters``)."""
        return status(
            self._call(
                "node_set_memory_parameters",
                "virNodeSetMemoryParameters",
                params,
                flags,
                write=True,
            )
        )

    def suspendForDuration(self, target: int, duration: int, flags: int = 0) -> int:
        """``virNodeSuspendForDuration``."""
        return status(
            self._call(
                "node_suspend_for_duration",
                "virNodeSuspendForDuration",
                target,
                duration,
                flags,
                write=True,
            )
        )

    def listAllDomains(self, flags: int = 0) -> list[virDomain]:
        """List all domains and returns a list of domain objects (``virConnectListAllDomains``)."""
        return [
            virDomain(self, _obj=o)
            for o in self._call("connect_list_all_domains", "virConnectListAllDomains", flags)
        ]

    def createXMLWithFiles(self, xmlDesc: str, files: list[int], flags: int = 0) -> virDomain:
        """``virDomainCreateXMLWithFiles``."""
        return virDomain(
            self,
            _obj=self._call(
                "domain_create_xml_with_files",
                "virDomainCreateXMLWithFiles",
                xmlDesc,
                files,
                flags,
                write=True,
            ),
        )
