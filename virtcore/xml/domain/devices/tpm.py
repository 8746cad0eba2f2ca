"""The ``<tpm>`` device: a Trusted Platform Module, emulated or passed through.

::

    <tpm model='tpm-crb'>
      <backend type='emulator' version='2.0' persistent_state='yes'>
        <encryption secret='32ee7e76-2178-47a1-ab7b-269e6e348015'/>
        <active_pcr_banks>
          <sha256/>
        </active_pcr_banks>
      </backend>
    </tpm>
    <tpm model='tpm-tis'>
      <backend type='passthrough'>
        <device path='/dev/tpm0'/>
      </backend>
    </tpm>
    <tpm>
      <backend type='external'>
        <source type='unix' mode='connect' path='/tmp/swtpm.sock'/>
      </backend>
    </tpm>

Exactly one ``<backend>`` with a ``type`` is required. A passthrough TPM
without ``<device>`` uses ``/dev/tpm0``; PCR banks need TPM 2.0; the
external backend connects to a UNIX socket. A domain has at most two TPMs
(one of them a ``spapr-tpm-proxy``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorNumber
from virtcore.xml.builder import YESNO, XMLProperty
from virtcore.xml.domain.devices.chardev import CHR_TYPES, ChrSourceDef
from virtcore.xml.domain.devices.support import (
    DeviceContext,
    DeviceDef,
    DeviceInfo,
    DeviceModel,
    child,
    children,
    element,
    fail,
    optional_element,
    parse_uuid,
    prop,
    prop_enum,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = ["BACKENDS", "MAX_MESSAGE", "MODELS", "PCR_BANKS", "TPM", "VERSIONS", "TPMDef"]

logger = logging.getLogger(__name__)

MODELS = ("default", "tpm-tis", "tpm-crb", "tpm-spapr", "spapr-tpm-proxy")
"""``virDomainTPMModel``."""
BACKENDS = ("passthrough", "emulator", "external")
"""``virDomainTPMBackendType``."""
VERSIONS = ("default", "1.2", "2.0")
"""``virDomainTPMVersion``."""
PCR_BANKS = ("sha1", "sha256", "sha384", "sha512")
"""``virDomainTPMPcrBank``, in the order libvirt writes them."""
MAX_MESSAGE = "a maximum of two TPM devices is supported, one of them being a TPM Proxy device"
"""libvirt's error (``VIR_ERR_XML_ERROR``) for a third ``<tpm>``."""
DEFAULT_DEVICE = "/dev/tpm0"


@dataclass
class TPMDef(DeviceDef):
    """A parsed ``<tpm>`` (``virDomainTPMDef``)."""

    backend: str
    model: str = "default"
    device_path: str | None = None
    version: str = "default"
    persistent_state: bool = False
    secret: str | None = None
    pcr_banks: list[str] | None = None
    source: ChrSourceDef | None = None
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def validate(self, ctx: DeviceContext) -> None:
        """``virDomainTPMDevValidate``."""
        super().validate(ctx)
        if self.backend == "emulator" and self.pcr_banks is not None and self.version != "2.0":
            fail(ErrorNumber.XML_ERROR, "<active_pcr_banks/> requires TPM version '2.0'")
        if self.backend == "external" and self.source is not None:
            if self.source.type != "unix":
                fail(
                    ErrorNumber.XML_ERROR,
                    "only source type 'unix' is supported for external TPM device",
                )
            if self.source.listen:
                fail(
                    ErrorNumber.XML_ERROR,
                    "only 'client' mode is supported for external TPM device",
                )
            if self.source.path is None:
                fail(ErrorNumber.XML_ERROR, "missing socket path for external TPM device")

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainTPMDefFormat``."""
        attrs: list[tuple[str, str | int | None]] = [("type", self.backend)]
        kids: list[OutNode | None] = []
        if self.backend == "passthrough":
            kids.append(element("device", [("path", self.device_path)]))
        elif self.backend == "emulator":
            attrs.append(("version", None if self.version == "default" else self.version))
            attrs.append(("persistent_state", "yes" if self.persistent_state else None))
            if self.secret is not None:
                kids.append(element("encryption", [("secret", self.secret)]))
            if self.pcr_banks is not None:
                banks = [element(bank) for bank in self.pcr_banks]
                kids.append(optional_element("active_pcr_banks", (), banks))
        elif self.source is not None and self.source.type == "unix":
            kids.append(
                element(
                    "source", [("type", "unix"), ("mode", "connect"), ("path", self.source.path)]
                )
            )
        model = None if self.model == "default" else self.model
        return element(
            "tpm", [("model", model)], [element("backend", attrs, kids), *self.info.elements()]
        )


class TPM(DeviceModel):
    """A ``<tpm>`` element."""

    TAG = "tpm"
    XML_ORDER = {
        "": ("@model", "backend", "alias", "address"),
        "backend": ("@type", "@version", "@persistent_state", "device", "encryption", "source"),
    }

    model = XMLProperty("./@model", doc="``tpm-tis``, ``tpm-crb``, ``tpm-spapr``, ...")
    backend_type = XMLProperty(
        "./backend/@type", doc="``emulator``, ``passthrough``, ``external``."
    )
    version = XMLProperty("./backend/@version", doc="Emulated TPM version (``1.2``, ``2.0``).")
    persistent_state = XMLProperty(
        "./backend/@persistent_state", YESNO, doc="Keep the emulator state on undefine."
    )
    device_path = XMLProperty("./backend/device/@path", doc="Host TPM for passthrough.")
    encryption_secret = XMLProperty(
        "./backend/encryption/@secret", doc="UUID of the secret encrypting the state."
    )
    source_path = XMLProperty("./backend/source/@path", doc="External TPM socket.")
    alias = XMLProperty("./alias/@name", doc="The user alias (``ua-...``).")

    @property
    def pcr_banks(self) -> list[str]:
        """The names of the ``<active_pcr_banks>`` children."""
        banks = self.xpath("./backend/active_pcr_banks/*")
        return [etree.QName(bank).localname for bank in banks if isinstance(bank, etree._Element)]

    def parse(self, ctx: DeviceContext | None = None) -> TPMDef:
        """``virDomainTPMDefParseXML``."""
        ctx = ctx or DeviceContext()
        node = self.element
        model = prop_enum(node, "model", MODELS, nonzero=True) or "default"
        backends = children(node, "backend")
        if len(backends) > 1:
            fail(ErrorNumber.XML_ERROR, "only one TPM backend is supported")
        if not backends:
            fail(ErrorNumber.XML_ERROR, "missing TPM device backend")
        backend = backends[0]
        kind = prop_enum(backend, "type", BACKENDS, required=True)
        assert kind is not None
        result = TPMDef(backend=kind, model=model)
        if kind == "passthrough":
            device = child(backend, "device")
            path = prop(device, "path") if device is not None else None
            result.device_path = path or DEFAULT_DEVICE
        elif kind == "emulator":
            self._parse_emulator(backend, result)
        else:
            source = child(backend, "source")
            source_type = prop(source, "type") if source is not None else None
            if not source_type:
                fail(ErrorNumber.XML_ERROR, "missing external TPM backend type")
            if source_type not in CHR_TYPES:
                fail(
                    ErrorNumber.CONFIG_UNSUPPORTED,
                    f"unknown backend type '{source_type}' for external TPM",
                )
            result.source = ChrSourceDef.parse(backend, source_type, ctx)
        result.info = DeviceInfo.parse(node, ctx)
        return result

    @staticmethod
    def _parse_emulator(backend: etree._Element, result: TPMDef) -> None:
        result.version = prop_enum(backend, "version", VERSIONS, nonzero=True) or "default"
        encryption = child(backend, "encryption")
        secret = prop(encryption, "secret") if encryption is not None else None
        if secret:
            canonical = parse_uuid(secret)
            if canonical is None:
                fail(ErrorNumber.INTERNAL_ERROR, f"Unable to parse secret uuid '{secret}'")
            result.secret = canonical
        state = prop(backend, "persistent_state")
        if state is not None:
            if state not in ("yes", "no"):
                fail(
                    ErrorNumber.INTERNAL_ERROR,
                    "Invalid persistent_state value, either 'yes' or 'no'",
                )
            result.persistent_state = state == "yes"
        banks = child(backend, "active_pcr_banks")
        names = [c for c in banks if isinstance(c.tag, str)] if banks is not None else []
        if names:
            chosen: set[str] = set()
            for bank in names:
                name = etree.QName(bank).localname
                if name not in PCR_BANKS:
                    fail(ErrorNumber.CONFIG_UNSUPPORTED, f"Unsupported PCR banks '{name}'")
                chosen.add(name)
            result.pcr_banks = [bank for bank in PCR_BANKS if bank in chosen]
