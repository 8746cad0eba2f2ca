"""RelaxNG validation against libvirt's schemas, reported as libvirt reports it.

libvirt validates a document when an API is called with a ``VALIDATE`` flag
(``virDomainDefineXMLFlags(..., VIR_DOMAIN_DEFINE_VALIDATE)``, ``virsh define
--validate``). It uses the RelaxNG schemas it installs in
``/usr/share/libvirt/schemas`` and, on failure, raises
``VIR_ERR_XML_INVALID_SCHEMA`` from the XML utility error domain::

    XML document failed to validate against schema: Unable to validate doc
    against /usr/share/libvirt/schemas/domain.rng
    Extra element devices in interleave
    Element domain failed to validate content

(one line per validator message, each ending with a newline). :func:`validate`
raises :class:`XMLSchemaValidationError` with exactly that message; its
:attr:`~XMLSchemaValidationError.issues` also locate each problem (line and
element path), which libvirt's message does not.

Schemas are looked up in ``$VIRTCORE_SCHEMA_DIR`` or else
``/usr/share/libvirt/schemas`` (libvirt's, from the ``libvirt0`` package) and
compiled once per file. A missing directory or schema is an error, never a
silent pass.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InternalError, XMLInvalidSchemaError

__all__ = [
    "DEFAULT_SCHEMA_DIR",
    "SCHEMA_DIR_ENV",
    "SCHEMA_FOR_ROOT",
    "CompiledSchema",
    "SchemaIssue",
    "XMLSchemaValidationError",
    "load_schema",
    "schema_dir",
    "schema_for_root",
    "validate",
]

logger = logging.getLogger(__name__)

DEFAULT_SCHEMA_DIR = Path("/usr/share/libvirt/schemas")
"""Where libvirt installs its schemas."""
SCHEMA_DIR_ENV = "VIRTCORE_SCHEMA_DIR"
"""Environment variable naming another schema directory."""

SCHEMA_FOR_ROOT: dict[str, str] = {
    "domain": "domain.rng",
    "network": "network.rng",
    "networkport": "networkport.rng",
    "pool": "storagepool.rng",
    "volume": "storagevol.rng",
    "device": "nodedev.rng",
    "secret": "secret.rng",
    "filter": "nwfilter.rng",
    "filterbinding": "nwfilterbinding.rng",
    "interface": "interface.rng",
    "domainsnapshot": "domainsnapshot.rng",
    "domaincheckpoint": "domaincheckpoint.rng",
    "domainbackup": "domainbackup.rng",
    "capabilities": "capability.rng",
    "domainCapabilities": "domaincaps.rng",
    "storagepoolCapabilities": "storagepoolcaps.rng",
    "cpu": "cpu.rng",
}
"""The schema libvirt uses for each document, by root element."""


@dataclass(frozen=True)
class SchemaIssue:
    """One validator message with where it applies."""

    message: str
    line: int | None
    """Source line of the offending node, when the validator knows it."""
    path: str | None
    """Element path of the offending node (``/domain/devices``), when known."""


class XMLSchemaValidationError(XMLInvalidSchemaError):
    """A document that does not match its schema (``VIR_ERR_XML_INVALID_SCHEMA``)."""

    schema: str
    issues: tuple[SchemaIssue, ...]

    def __init__(self, schema: str, issues: tuple[SchemaIssue, ...]) -> None:
        detail = f"Unable to validate doc against {schema}\n" + "".join(
            f"{issue.message}\n" for issue in issues
        )
        super().__init__(detail, domain=ErrorDomain.XML)
        self.schema = schema
        self.issues = issues


def schema_dir() -> Path:
    """The schema directory in use (``$VIRTCORE_SCHEMA_DIR`` or libvirt's)."""
    configured = os.environ.get(SCHEMA_DIR_ENV)
    return Path(configured) if configured else DEFAULT_SCHEMA_DIR


def schema_for_root(root: str) -> str:
    """The schema file name for a document whose root element is *root*."""
    try:
        return SCHEMA_FOR_ROOT[root]
    except KeyError:
        raise InternalError(f"no schema is known for documents of type '{root}'") from None


@dataclass(frozen=True)
class CompiledSchema:
    """A compiled schema and what it was compiled from."""

    path: Path
    mtime: float
    relaxng: etree.RelaxNG
    lock: threading.Lock
    """Serialises validations: a validator keeps its error log between calls."""


_cache: dict[Path, CompiledSchema] = {}
_cache_lock = threading.Lock()


def load_schema(name: str) -> CompiledSchema:
    """The compiled schema *name* (``"domain.rng"`` in the schema directory, or a path).

    Compiled schemas are cached and recompiled when the file changes. Raises
    :class:`~virtcore.errors.InternalError` when the directory or the schema
    is missing or does not compile.
    """
    path = Path(name)
    if not path.is_absolute():
        directory = schema_dir()
        if not directory.is_dir():
            raise InternalError(
                f"RelaxNG schema directory '{directory}' does not exist; install libvirt's "
                f"schemas there or set {SCHEMA_DIR_ENV} to a directory holding them"
            )
        path = directory / name
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise InternalError(f"Unable to parse RelaxNG schema '{path}': {exc.strerror}") from None
    with _cache_lock:
        cached = _cache.get(path)
        if cached is not None and cached.mtime == mtime:
            return cached
        try:
            relaxng = etree.RelaxNG(etree.parse(str(path)))
        except (etree.RelaxNGParseError, etree.XMLSyntaxError) as exc:
            raise InternalError(f"Unable to parse RelaxNG schema '{path}': {exc}") from None
        logger.debug("compiled RelaxNG schema %s", path)
        compiled = _cache[path] = CompiledSchema(path, mtime, relaxng, threading.Lock())
        return compiled


def validate(document: etree._Element, schema: str | None = None) -> None:
    """Validate *document* against *schema* (by default the one for its root element).

    Raises :class:`XMLSchemaValidationError` with libvirt's message when the
    document does not match.
    """
    name = schema or schema_for_root(etree.QName(document).localname)
    compiled = load_schema(name)
    with compiled.lock:
        valid = compiled.relaxng.validate(document)
        issues = tuple(
            SchemaIssue(entry.message, entry.line or None, entry.path or None)
            for entry in compiled.relaxng.error_log
        )
    if not valid:
        logger.debug("document fails %s: %s", compiled.path, [i.message for i in issues])
        raise XMLSchemaValidationError(str(compiled.path), issues)
