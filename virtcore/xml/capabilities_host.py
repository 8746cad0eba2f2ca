"""The ``<host>`` part of the capabilities document: typed views a driver fills in.

Each class wraps an element of a live ``<capabilities>`` tree; setting a
property creates the element where libvirt 9.0 writes it, so a driver
builds the host description from probed data property by property::

    host = caps.host
    host.uuid = "..."
    host.cpu.arch = "x86_64"
    host.cpu.add_feature("vme")
    cell = host.cells.append()
    cell.id, cell.memory = 0, 2097152
    cell.add_cpu(0, socket_id=0, die_id=0, core_id=0, siblings="0")

The counts libvirt prints (``<cells num=...>``, ``<cpus num=...>``) and the
elements it always prints (``<power_management/>``, ``<iommu/>``) are
derived when the document is formatted (see
:meth:`virtcore.xml.capabilities.Capabilities.format`).
"""

from __future__ import annotations

import logging

from virtcore.xml.builder import UINT, ULLONG, YESNO, XMLChild, XMLChildList, XMLNode, XMLProperty

__all__ = [
    "PM_TARGETS",
    "BaseLabel",
    "CacheBank",
    "CacheControl",
    "CellCPU",
    "CellPages",
    "Host",
    "HostCPU",
    "HostCPUFeature",
    "MemoryBandwidthNode",
    "NumaCell",
    "NumaSibling",
    "PageSize",
    "SecModel",
    "URITransport",
]

logger = logging.getLogger(__name__)

PM_TARGETS = ("suspend_mem", "suspend_disk", "suspend_hybrid")
"""Host power management targets in libvirt's order (``virCapsHostPMTarget``)."""


class HostCPUFeature(XMLNode):
    """A ``<feature name='...'/>`` of the host CPU model."""

    TAG = "feature"
    name = XMLProperty("./@name")
    policy = XMLProperty("./@policy")


class PageSize(XMLNode):
    """A ``<pages unit='KiB' size='N'/>`` page size the host supports."""

    TAG = "pages"
    unit = XMLProperty("./@unit")
    size = XMLProperty("./@size", UINT, doc="Page size in KiB.")


class HostCPU(XMLNode):
    """The host ``<cpu>``: architecture, model, topology, features and page sizes."""

    TAG = "cpu"
    arch = XMLProperty("./arch")
    model = XMLProperty("./model")
    model_fallback = XMLProperty("./model/@fallback")
    vendor = XMLProperty("./vendor")
    microcode = XMLProperty("./microcode/@version", UINT)
    signature_family = XMLProperty("./signature/@family", UINT)
    signature_model = XMLProperty("./signature/@model", UINT)
    signature_stepping = XMLProperty("./signature/@stepping", UINT)
    counter_name = XMLProperty("./counter/@name")
    counter_frequency = XMLProperty("./counter/@frequency", ULLONG)
    counter_scaling = XMLProperty("./counter/@scaling", YESNO)
    sockets = XMLProperty("./topology/@sockets", UINT)
    dies = XMLProperty("./topology/@dies", UINT)
    cores = XMLProperty("./topology/@cores", UINT)
    threads = XMLProperty("./topology/@threads", UINT)
    maxphysaddr_mode = XMLProperty("./maxphysaddr/@mode")
    maxphysaddr_bits = XMLProperty("./maxphysaddr/@bits", UINT)
    features = XMLChildList(HostCPUFeature, "./feature")
    pages = XMLChildList(PageSize, "./pages")
    XML_ORDER = {
        "": ("arch", "features", "model", "vendor", "microcode", "signature", "counter",
             "topology", "maxphysaddr", "feature", "pages"),
        "model": ("@fallback", "@vendor_id"),
        "counter": ("@name", "@frequency", "@scaling"),
        "topology": ("@sockets", "@dies", "@cores", "@threads"),
    }  # fmt: skip

    @property
    def arch_features(self) -> list[str]:
        """Names of the architecture flags under ``<features>`` (``pae``, ``svm``...)."""
        return [str(e.tag) for e in self.xpath("./features/*")]

    def add_arch_feature(self, name: str) -> None:
        """Add an architecture flag (``<features><name/></features>``) if missing."""
        if name not in self.arch_features:
            self._ensure(f"./features/{name}")

    def add_feature(self, name: str) -> HostCPUFeature:
        """Append a ``<feature name=...>`` of the CPU model."""
        feature = self.features.append()
        feature.name = name
        return feature

    def add_page_size(self, size_kib: int) -> PageSize:
        """Append a supported page size (KiB)."""
        page = self.pages.append()
        page.unit = "KiB"
        page.size = size_kib
        return page


class CellPages(XMLNode):
    """``<pages unit='KiB' size='N'>count</pages>``: free pages of one size in a cell."""

    TAG = "pages"
    unit = XMLProperty("./@unit")
    size = XMLProperty("./@size", UINT)
    count = XMLProperty(".", ULLONG)


class NumaSibling(XMLNode):
    """``<sibling id='N' value='D'/>``: distance to another NUMA cell."""

    TAG = "sibling"
    id = XMLProperty("./@id", UINT)
    value = XMLProperty("./@value", UINT)


class CellCPU(XMLNode):
    """A host CPU of a NUMA cell with its place in the topology."""

    TAG = "cpu"
    id = XMLProperty("./@id", UINT)
    socket_id = XMLProperty("./@socket_id", UINT)
    die_id = XMLProperty("./@die_id", UINT)
    core_id = XMLProperty("./@core_id", UINT)
    siblings = XMLProperty("./@siblings")


class NumaCell(XMLNode):
    """A ``<cell>`` of the host NUMA topology."""

    TAG = "cell"
    id = XMLProperty("./@id", UINT)
    memory = XMLProperty("./memory", ULLONG, doc="Memory of the cell in KiB.")
    memory_unit = XMLProperty("./memory/@unit")
    pages = XMLChildList(CellPages, "./pages")
    distances = XMLChildList(NumaSibling, "./distances/sibling")
    cpus = XMLChildList(CellCPU, "./cpus/cpu")
    XML_ORDER = {"": ("@id", "memory", "pages", "distances", "cache", "cpus")}

    def set_memory(self, kib: int) -> None:
        """Set the cell's memory (KiB), with libvirt's ``unit='KiB'``."""
        self.memory = kib
        self.memory_unit = "KiB"

    def add_pages(self, size_kib: int, count: int) -> CellPages:
        """Append the number of free pages of *size_kib*."""
        pages = self.pages.append()
        pages.unit = "KiB"
        pages.size = size_kib
        pages.count = count
        return pages

    def add_distance(self, cell_id: int, value: int) -> NumaSibling:
        """Append the distance to cell *cell_id*."""
        sibling = self.distances.append()
        sibling.id = cell_id
        sibling.value = value
        return sibling

    def add_cpu(
        self,
        cpu_id: int,
        *,
        socket_id: int | None = None,
        die_id: int | None = None,
        core_id: int | None = None,
        siblings: str | None = None,
    ) -> CellCPU:
        """Append a CPU; libvirt writes its topology only when *siblings* is known."""
        cpu = self.cpus.append()
        cpu.id = cpu_id
        if siblings is not None:
            cpu.socket_id = socket_id or 0
            cpu.die_id = die_id or 0
            cpu.core_id = core_id or 0
            cpu.siblings = siblings
        return cpu


class CacheControl(XMLNode):
    """A resctrl ``<control>`` of a cache bank."""

    TAG = "control"
    granularity = XMLProperty("./@granularity", ULLONG)
    min = XMLProperty("./@min", ULLONG)
    unit = XMLProperty("./@unit")
    type = XMLProperty("./@type")
    max_allocs = XMLProperty("./@maxAllocs", UINT)


class CacheBank(XMLNode):
    """A host cache ``<bank>`` (id, level, type, size and the CPUs sharing it)."""

    TAG = "bank"
    id = XMLProperty("./@id", UINT)
    level = XMLProperty("./@level", UINT)
    type = XMLProperty("./@type")
    size = XMLProperty("./@size", ULLONG)
    unit = XMLProperty("./@unit")
    cpus = XMLProperty("./@cpus")
    controls = XMLChildList(CacheControl, "./control")


class MemoryBandwidthNode(XMLNode):
    """A memory bandwidth allocation ``<node>`` with its ``<control>``."""

    TAG = "node"
    id = XMLProperty("./@id", UINT)
    cpus = XMLProperty("./@cpus")
    granularity = XMLProperty("./control/@granularity", UINT)
    min = XMLProperty("./control/@min", UINT)
    max_allocs = XMLProperty("./control/@maxAllocs", UINT)


class BaseLabel(XMLNode):
    """A ``<baselabel type='kvm'>label</baselabel>`` of a security model."""

    TAG = "baselabel"
    type = XMLProperty("./@type")
    label = XMLProperty(".")


class SecModel(XMLNode):
    """A host security driver (``<secmodel>``): model, DOI and base labels."""

    TAG = "secmodel"
    model = XMLProperty("./model")
    doi = XMLProperty("./doi")
    baselabels = XMLChildList(BaseLabel, "./baselabel")


class URITransport(XMLNode):
    """A migration URI transport (``tcp``, ``rdma``)."""

    TAG = "uri_transport"
    name = XMLProperty(".")


class Host(XMLNode):
    """The ``<host>`` description: UUID, CPU, power management, NUMA, caches, security."""

    TAG = "host"
    uuid = XMLProperty("./uuid")
    cpu = XMLChild(HostCPU)
    iommu = XMLProperty("./iommu/@support", YESNO)
    uri_transports = XMLChildList(URITransport, "./migration_features/uri_transports/uri_transport")
    netprefix = XMLProperty("./netprefix")
    cells = XMLChildList(NumaCell, "./topology/cells/cell")
    cache_banks = XMLChildList(CacheBank, "./cache/bank")
    memory_bandwidth = XMLChildList(MemoryBandwidthNode, "./memory_bandwidth/node")
    secmodels = XMLChildList(SecModel, "./secmodel")
    XML_ORDER = {
        "": ("uuid", "cpu", "power_management", "iommu", "migration_features", "netprefix",
             "topology", "cache", "memory_bandwidth", "secmodel"),
        "migration_features": ("live", "uri_transports"),
        "topology": ("cells", "interconnects"),
    }  # fmt: skip

    @property
    def power_management(self) -> list[str]:
        """Supported suspend targets (``suspend_mem``, ...), in document order."""
        return [str(e.tag) for e in self.xpath("./power_management/*")]

    @power_management.setter
    def power_management(self, targets: list[str]) -> None:
        element = self._ensure("./power_management")
        for child in list(element):
            element.remove(child)
        for name in PM_TARGETS:
            if name in targets:
                self._ensure(f"./power_management/{name}")

    @property
    def migration_live(self) -> bool:
        """Whether the host supports live migration (``<migration_features><live/>``)."""
        return bool(self.xpath("./migration_features/live"))

    @migration_live.setter
    def migration_live(self, value: bool) -> None:
        if value:
            self._ensure("./migration_features/live")
        else:
            self._remove("./migration_features/live")

    def enable_migration(self, *, live: bool, transports: list[str]) -> None:
        """Declare offline migration support, optionally live, with URI *transports*."""
        self._ensure("./migration_features")
        self.migration_live = live
        for name in transports:
            self.uri_transports.append().name = name

    def add_secmodel(self, model: str, doi: str, labels: dict[str, str] | None = None) -> SecModel:
        """Append a security model with its base labels per virtualization type."""
        sec = self.secmodels.append()
        sec.model = model
        sec.doi = doi
        for virt_type, label in (labels or {}).items():
            base = sec.baselabels.append()
            base.type = virt_type
            base.label = label
        return sec
