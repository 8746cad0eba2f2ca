"""The virtcore exception tree, carrying libvirt's error codes, domains and wording.

Every failure virtcore reports is a :class:`VirtError`. It carries libvirt 9.0's
numeric ``code`` (:class:`~virtcore.enums.ErrorNumber`), ``domain``
(:class:`~virtcore.enums.ErrorDomain`, the subsystem that raised it), ``level``
and a ``message`` composed exactly as libvirt composes it: the generic text for
the code, then ``": "`` and the driver's detail (``"Requested operation is not
valid: domain is not running"``). The library never prints errors; it raises
them and logs at debug level.

Catch by class; the classes mirror the codes users act on::

    VirtError
    ├── InternalError                 INTERNAL_ERROR
    ├── NoSupportError                NO_SUPPORT (a driver lacks the call)
    ├── ConnectError                  (connection-level failures)
    │   ├── NoConnectError            NO_CONNECT (no driver for a URI)
    │   ├── ConnectionClosedError     INVALID_CONN (used after close / peer gone)
    │   ├── AuthFailedError           AUTH_FAILED
    │   ├── AuthCancelledError        AUTH_CANCELLED
    │   ├── AuthUnavailableError      AUTH_UNAVAILABLE
    │   └── RPCError                  RPC
    ├── InvalidArgError               INVALID_ARG
    ├── OperationFailedError          OPERATION_FAILED
    ├── XMLError                      XML_ERROR
    │   ├── XMLDetailError            XML_DETAIL (parser error with position)
    │   └── XMLInvalidSchemaError     XML_INVALID_SCHEMA
    ├── NotFoundError                 (an object lookup failed)
    │   ├── NoDomainError             NO_DOMAIN
    │   ├── NoNetworkError            NO_NETWORK
    │   ├── NoNetworkPortError        NO_NETWORK_PORT
    │   ├── NoStoragePoolError        NO_STORAGE_POOL
    │   ├── NoStorageVolError         NO_STORAGE_VOL
    │   ├── NoNodeDeviceError         NO_NODE_DEVICE
    │   ├── NoInterfaceError          NO_INTERFACE
    │   ├── NoSecretError             NO_SECRET
    │   ├── NoNWFilterError           NO_NWFILTER
    │   ├── NoNWFilterBindingError    NO_NWFILTER_BINDING
    │   ├── NoDomainSnapshotError     NO_DOMAIN_SNAPSHOT
    │   ├── NoDomainCheckpointError   NO_DOMAIN_CHECKPOINT
    │   ├── NoDomainMetadataError     NO_DOMAIN_METADATA
    │   └── DeviceMissingError        DEVICE_MISSING
    ├── AlreadyExistsError            DOM_EXIST, NETWORK_EXIST, STORAGE_VOL_EXIST, ...
    ├── OperationDeniedError          OPERATION_DENIED (read-only connection)
    ├── AccessDeniedError             ACCESS_DENIED
    ├── OperationInvalidError         OPERATION_INVALID (wrong object state)
    ├── ConfigUnsupportedError        CONFIG_UNSUPPORTED
    ├── ArgumentUnsupportedError      ARGUMENT_UNSUPPORTED (e.g. unknown flags)
    ├── OperationUnsupportedError     OPERATION_UNSUPPORTED
    ├── OperationTimeoutError         OPERATION_TIMEOUT (e.g. job lock wait)
    ├── OperationAbortedError         OPERATION_ABORTED
    ├── ResourceBusyError             RESOURCE_BUSY (e.g. state directory owned)
    └── SystemCallError               SYSTEM_ERROR (an OS call failed)

A code without a class of its own raises a plain :class:`VirtError`;
:func:`error_class_for` and :meth:`VirtError.from_code` pick the most specific
class for a code.
"""

from __future__ import annotations

import errno as _errno
import os
from typing import Any, ClassVar

from virtcore.enums.errors import ErrorDomain, ErrorLevel, ErrorNumber

__all__ = [
    "AccessDeniedError",
    "AlreadyExistsError",
    "ArgumentUnsupportedError",
    "AuthCancelledError",
    "AuthFailedError",
    "AuthUnavailableError",
    "ConfigUnsupportedError",
    "ConnectError",
    "ConnectionClosedError",
    "DeviceMissingError",
    "InternalError",
    "InvalidArgError",
    "NoConnectError",
    "NoDomainCheckpointError",
    "NoDomainError",
    "NoDomainMetadataError",
    "NoDomainSnapshotError",
    "NoInterfaceError",
    "NoNWFilterBindingError",
    "NoNWFilterError",
    "NoNetworkError",
    "NoNetworkPortError",
    "NoNodeDeviceError",
    "NoSecretError",
    "NoStoragePoolError",
    "NoStorageVolError",
    "NoSupportError",
    "NotFoundError",
    "OperationAbortedError",
    "OperationDeniedError",
    "OperationFailedError",
    "OperationInvalidError",
    "OperationTimeoutError",
    "OperationUnsupportedError",
    "RPCError",
    "ResourceBusyError",
    "SystemCallError",
    "VirtError",
    "XMLDetailError",
    "XMLError",
    "XMLInvalidSchemaError",
    "error_class_for",
    "error_domain_name",
    "format_message",
]

E = ErrorNumber

# libvirt's virErrorMsgStrings: (text without detail, text with detail).  When
# the second is None it is "<first>: %s", which holds for most codes.
_MESSAGES: dict[ErrorNumber, tuple[str, str | None]] = {
    E.INTERNAL_ERROR: ("internal error", None),
    E.NO_MEMORY: ("out of memory", None),
    E.NO_SUPPORT: ("this function is not supported by the connection driver", None),
    E.UNKNOWN_HOST: ("unknown host", "unknown host %s"),
    E.NO_CONNECT: ("no connection driver available", "no connection driver available for %s"),
    E.INVALID_CONN: ("invalid connection pointer in", "invalid connection pointer in %s"),
    E.INVALID_DOMAIN: ("invalid domain pointer in", "invalid domain pointer in %s"),
    E.INVALID_ARG: ("invalid argument", None),
    E.OPERATION_FAILED: ("operation failed", None),
    E.GET_FAILED: ("GET operation failed", None),
    E.POST_FAILED: ("POST operation failed", None),
    E.HTTP_ERROR: ("got unknown HTTP error code", "got unknown HTTP error code %s"),
    E.SEXPR_SERIAL: ("failed to serialize S-Expr", None),
    E.NO_XEN: ("could not use Xen hypervisor entry", "could not use Xen hypervisor entry %s"),
    E.XEN_CALL: ("failed Xen syscall", "failed Xen syscall %s"),
    E.OS_TYPE: ("unknown OS type", "unknown OS type %s"),
    E.NO_KERNEL: ("missing kernel information", None),
    E.NO_ROOT: ("missing root device information", "missing root device information in %s"),
    E.NO_SOURCE: (
        "missing source information for device",
        "missing source information for device %s",
    ),
    E.NO_TARGET: (
        "missing target information for device",
        "missing target information for device %s",
    ),
    E.NO_NAME: ("missing name information", "missing name information in %s"),
    E.NO_OS: (
        "missing operating system information",
        "missing operating system information for %s",
    ),
    E.NO_DEVICE: ("missing devices information", "missing devices information for %s"),
    E.NO_XENSTORE: ("could not connect to Xen Store", "could not connect to Xen Store %s"),
    E.DRIVER_FULL: ("too many drivers registered", "too many drivers registered in %s"),
    E.CALL_FAILED: ("library call failed", None),
    E.XML_ERROR: ("XML description is invalid or not well formed", "XML error: %s"),
    E.DOM_EXIST: ("this domain exists already", "domain %s exists already"),
    E.OPERATION_DENIED: ("operation forbidden for read only access", "operation forbidden: %s"),
    E.OPEN_FAILED: ("failed to open configuration file", "failed to open configuration file %s"),
    E.READ_FAILED: ("failed to read configuration file", "failed to read configuration file %s"),
    E.PARSE_FAILED: ("failed to parse configuration file", "failed to parse configuration file %s"),
    E.CONF_SYNTAX: ("configuration file syntax error", None),
    E.WRITE_FAILED: ("failed to write configuration file", None),
    E.XML_DETAIL: ("parser error", "%s"),
    E.INVALID_NETWORK: ("invalid network pointer in", "invalid network pointer in %s"),
    E.NETWORK_EXIST: ("this network exists already", "network %s exists already"),
    E.SYSTEM_ERROR: ("system call error", "%s"),
    E.RPC: ("RPC error", "%s"),
    E.GNUTLS_ERROR: ("GNUTLS call error", "%s"),
    E.WAR_NO_NETWORK: ("Failed to find the network", None),
    E.NO_DOMAIN: ("Domain not found", None),
    E.NO_NETWORK: ("Network not found", None),
    E.INVALID_MAC: ("invalid MAC address", None),
    E.AUTH_FAILED: ("authentication failed", None),
    E.INVALID_STORAGE_POOL: (
        "invalid storage pool pointer in",
        "invalid storage pool pointer in %s",
    ),
    E.INVALID_STORAGE_VOL: (
        "invalid storage volume pointer in",
        "invalid storage volume pointer in %s",
    ),
    E.WAR_NO_STORAGE: ("Failed to find a storage driver", None),
    E.NO_STORAGE_POOL: ("Storage pool not found", None),
    E.NO_STORAGE_VOL: ("Storage volume not found", None),
    E.WAR_NO_NODE: ("Failed to find a node driver", None),
    E.INVALID_NODE_DEVICE: ("invalid node device pointer", "invalid node device pointer in %s"),
    E.NO_NODE_DEVICE: ("Node device not found", None),
    E.NO_SECURITY_MODEL: ("Security model not found", None),
    E.OPERATION_INVALID: ("Requested operation is not valid", None),
    E.WAR_NO_INTERFACE: ("Failed to find the interface", None),
    E.NO_INTERFACE: ("Interface not found", None),
    E.INVALID_INTERFACE: ("invalid interface pointer in", "invalid interface pointer in %s"),
    E.MULTIPLE_INTERFACES: ("multiple matching interfaces found", None),
    E.WAR_NO_NWFILTER: ("Failed to start the nwfilter driver", None),
    E.INVALID_NWFILTER: ("Invalid network filter", None),
    E.NO_NWFILTER: ("Network filter not found", None),
    E.BUILD_FIREWALL: ("Error while building firewall", None),
    E.WAR_NO_SECRET: ("Failed to find a secret storage driver", None),
    E.INVALID_SECRET: ("Invalid secret", None),
    E.NO_SECRET: ("Secret not found", None),
    E.CONFIG_UNSUPPORTED: ("unsupported configuration", None),
    E.OPERATION_TIMEOUT: ("Timed out during operation", None),
    E.MIGRATE_PERSIST_FAILED: ("Failed to make domain persistent after migration", None),
    E.HOOK_SCRIPT_FAILED: ("Hook script execution failed", None),
    E.INVALID_DOMAIN_SNAPSHOT: ("Invalid domain snapshot", None),
    E.NO_DOMAIN_SNAPSHOT: ("Domain snapshot not found", None),
    E.INVALID_STREAM: ("invalid stream pointer", "invalid stream pointer in %s"),
    E.ARGUMENT_UNSUPPORTED: ("argument unsupported", None),
    E.STORAGE_PROBE_FAILED: ("Storage pool probe failed", None),
    E.STORAGE_POOL_BUILT: ("Storage pool already built", None),
    E.SNAPSHOT_REVERT_RISKY: ("revert requires force", None),
    E.OPERATION_ABORTED: ("operation aborted", None),
    E.AUTH_CANCELLED: ("authentication cancelled", None),
    E.NO_DOMAIN_METADATA: ("metadata not found", None),
    E.MIGRATE_UNSAFE: ("Unsafe migration", None),
    E.OVERFLOW: ("numerical overflow", None),
    E.BLOCK_COPY_ACTIVE: ("block copy still active", None),
    E.OPERATION_UNSUPPORTED: ("Operation not supported", None),
    E.SSH: ("SSH transport error", None),
    E.AGENT_UNRESPONSIVE: ("Guest agent is not responding", None),
    E.RESOURCE_BUSY: ("resource busy", None),
    E.ACCESS_DENIED: ("access denied", None),
    E.DBUS_SERVICE: ("error from service", None),
    E.STORAGE_VOL_EXIST: ("this storage volume exists already", "storage volume %s exists already"),
    E.CPU_INCOMPATIBLE: ("the CPU is incompatible with host CPU", None),
    E.XML_INVALID_SCHEMA: ("XML document failed to validate against schema", None),
    E.MIGRATE_FINISH_OK: ("migration successfully aborted", None),
    E.AUTH_UNAVAILABLE: ("authentication unavailable", None),
    E.NO_SERVER: ("Server not found", None),
    E.NO_CLIENT: ("Client not found", None),
    E.AGENT_UNSYNCED: ("guest agent replied with wrong id to guest-sync command", None),
    E.LIBSSH: ("libssh transport error", None),
    E.DEVICE_MISSING: ("device not found", None),
    E.INVALID_NWFILTER_BINDING: ("Invalid network filter binding", None),
    E.NO_NWFILTER_BINDING: ("Network filter binding not found", None),
    E.INVALID_DOMAIN_CHECKPOINT: ("Invalid domain checkpoint", None),
    E.NO_DOMAIN_CHECKPOINT: ("Domain checkpoint not found", None),
    E.NO_DOMAIN_BACKUP: ("Domain backup job id not found", None),
    E.INVALID_NETWORK_PORT: ("Invalid network port pointer", None),
    E.NETWORK_PORT_EXIST: ("this network port exists already", "network port %s exists already"),
    E.NO_NETWORK_PORT: ("network port not found", None),
    E.NO_HOSTNAME: ("no hostname found", None),
    E.CHECKPOINT_INCONSISTENT: ("checkpoint inconsistent", None),
    E.MULTIPLE_DOMAINS: ("multiple matching domains found", None),
}

# virErrorDomain's names, as libvirt's default error handler prints them
# ("libvirt: Test Driver error : Domain not found").
_DOMAIN_NAMES: tuple[str, ...] = (
    "", "Xen Driver", "Xen Daemon", "Xen Store", "S-Expression",
    "XML Util", "Domain", "XML-RPC", "Proxy Daemon", "Config File",
    "QEMU Driver", "Network", "Test Driver", "Remote Driver", "OpenVZ Driver",
    "Xen XM Driver", "Linux Statistics", "LXC Driver", "Storage Driver", "Network Driver",
    "Domain Config", "User Mode Linux Driver", "Node Device Driver", "Xen Inotify Driver",
    "Security Driver",
    "VirtualBox Driver", "Network Interface Driver", "Open Nebula Driver", "ESX Driver",
    "Power Hypervisor Driver",
    "Secrets Driver", "CPU Driver", "XenAPI Driver", "Network Filter Driver", "Lifecycle Hook",
    "Domain Snapshot", "Audit Utils", "Sysinfo Utils", "I/O Stream Utils", "VMware Driver",
    "Event Loop", "Xen Light Driver", "Lock Driver", "Hyper-V Driver", "Capabilities Utils",
    "URI Utils", "Authentication Utils", "DBus Utils", "Parallels Cloud Server", "Device Config",
    "SSH transport layer", "Lock Space", "Init control", "Identity", "Cgroup",
    "Access Manager", "Systemd", "Bhyve", "Crypto", "Firewall",
    "Polkit", "Thread jobs", "Admin Interface", "Log Manager", "Xen XL Config",
    "Perf", "Libssh transport layer", "Resource control", "FirewallD", "Domain Checkpoint",
    "TPM", "BPF", "Cloud-Hypervisor Driver",
)  # fmt: skip


def format_message(code: int, detail: str | None) -> str:
    """Compose a message the way libvirt's ``virErrorMsg`` does.

    ``format_message(ErrorNumber.NO_DOMAIN, None)`` is ``"Domain not found"``;
    with detail ``"no domain with matching name 'x'"`` it becomes
    ``"Domain not found: no domain with matching name 'x'"``.
    """
    try:
        plain, with_info = _MESSAGES[ErrorNumber(code)]
    except (ValueError, KeyError):
        return detail or "An error occurred, but the cause is unknown"
    if not detail:
        return plain
    template = with_info if with_info is not None else plain + ": %s"
    return template.replace("%s", detail, 1)


def error_domain_name(domain: int) -> str:
    """The human name libvirt gives an error domain (``12`` → ``"Test Driver"``)."""
    if 0 <= domain < len(_DOMAIN_NAMES):
        return _DOMAIN_NAMES[domain]
    return "Unknown"


class VirtError(Exception):
    """Root of every error virtcore raises.

    ``VirtError(detail, code=..., domain=...)``: *detail* is the driver's text
    (may be ``None``); the full :attr:`message` is composed from *code* as
    libvirt does. Subclasses fix :attr:`default_code`, so
    ``NoDomainError("no domain with matching name 'x'")`` is enough.

    Attributes mirror libvirt's ``virError``: ``code``, ``domain``, ``level``,
    ``message``, ``str1``..``str3``, ``int1``, ``int2``; ``detail`` keeps the
    driver's part of the message.
    """

    default_code: ClassVar[ErrorNumber] = ErrorNumber.INTERNAL_ERROR
    default_domain: ClassVar[ErrorDomain] = ErrorDomain.NONE

    code: ErrorNumber | int
    domain: ErrorDomain | int
    level: ErrorLevel
    message: str
    detail: str | None

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: int | None = None,
        domain: int | None = None,
        level: int = ErrorLevel.ERROR,
        message: str | None = None,
        str1: str | None = None,
        str2: str | None = None,
        str3: str | None = None,
        int1: int = -1,
        int2: int = -1,
    ) -> None:
        raw_code = self.default_code if code is None else code
        raw_domain = self.default_domain if domain is None else domain
        self.code = _as_enum(ErrorNumber, raw_code)
        self.domain = _as_enum(ErrorDomain, raw_domain)
        self.level = ErrorLevel(level)
        self.detail = detail
        self.message = message if message is not None else format_message(self.code, detail)
        self.str1 = str1
        self.str2 = str2 if str2 is not None else detail
        self.str3 = str3
        self.int1 = int1
        self.int2 = int2
        super().__init__(self.message)

    @classmethod
    def from_code(
        cls,
        code: int,
        detail: str | None = None,
        *,
        domain: int = ErrorDomain.NONE,
        **kwargs: Any,
    ) -> VirtError:
        """Build the most specific error class for *code* (see :func:`error_class_for`)."""
        return error_class_for(code)(detail, code=code, domain=domain, **kwargs)

    @property
    def domain_name(self) -> str:
        """The subsystem's name as libvirt prints it, e.g. ``"QEMU Driver"``."""
        return error_domain_name(self.domain)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        code = self.code.name if isinstance(self.code, ErrorNumber) else str(self.code)
        dom = self.domain.name if isinstance(self.domain, ErrorDomain) else str(self.domain)
        return f"{type(self).__name__}(code={code}, domain={dom}, message={self.message!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor arguments: rebuild through a helper so the
        # error survives pickling (multiprocessing, the remote protocol).
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[VirtError], state: dict[str, Any]) -> VirtError:
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("message", ""))
    err.__dict__.update(state)
    return err


def _as_enum(enum: type[ErrorNumber] | type[ErrorDomain], value: int) -> Any:
    try:
        return enum(value)
    except ValueError:
        return int(value)


class InternalError(VirtError):
    """``VIR_ERR_INTERNAL_ERROR``: "internal error: ..."."""

    default_code = ErrorNumber.INTERNAL_ERROR


class NoSupportError(VirtError):
    """``VIR_ERR_NO_SUPPORT``: the driver does not implement the call.

    The detail is the libvirt API name, e.g. ``virConnectNumOfSecrets``.
    """

    default_code = ErrorNumber.NO_SUPPORT


class ConnectError(VirtError):
    """Base class of connection-level failures."""

    default_code = ErrorNumber.NO_CONNECT


class NoConnectError(ConnectError):
    """``VIR_ERR_NO_CONNECT``: no driver accepted the URI, or the URI is unusable."""

    default_code = ErrorNumber.NO_CONNECT


class ConnectionClosedError(ConnectError):
    """The connection was closed or its peer went away (``VIR_ERR_INVALID_CONN``)."""

    default_code = ErrorNumber.INVALID_CONN


class AuthFailedError(ConnectError):
    """``VIR_ERR_AUTH_FAILED``."""

    default_code = ErrorNumber.AUTH_FAILED


class AuthCancelledError(ConnectError):
    """``VIR_ERR_AUTH_CANCELLED``: the credential callback gave up."""

    default_code = ErrorNumber.AUTH_CANCELLED


class AuthUnavailableError(ConnectError):
    """``VIR_ERR_AUTH_UNAVAILABLE``: credentials were needed but no callback was given."""

    default_code = ErrorNumber.AUTH_UNAVAILABLE


class RPCError(ConnectError):
    """``VIR_ERR_RPC``: a protocol or transport failure."""

    default_code = ErrorNumber.RPC


class InvalidArgError(VirtError):
    """``VIR_ERR_INVALID_ARG``: "invalid argument: ..."."""

    default_code = ErrorNumber.INVALID_ARG


class OperationFailedError(VirtError):
    """``VIR_ERR_OPERATION_FAILED``: "operation failed: ..."."""

    default_code = ErrorNumber.OPERATION_FAILED


class XMLError(VirtError):
    """``VIR_ERR_XML_ERROR``: a document is invalid ("XML error: ...")."""

    default_code = ErrorNumber.XML_ERROR
    default_domain = ErrorDomain.DOMAIN


class XMLDetailError(XMLError):
    """``VIR_ERR_XML_DETAIL``: the parser rejected a document; the message shows where."""

    default_code = ErrorNumber.XML_DETAIL
    default_domain = ErrorDomain.XML


class XMLInvalidSchemaError(XMLError):
    """``VIR_ERR_XML_INVALID_SCHEMA``: RelaxNG validation failed."""

    default_code = ErrorNumber.XML_INVALID_SCHEMA


class NotFoundError(VirtError):
    """Base class of "no such object" errors (catch it to probe for existence)."""


class NoDomainError(NotFoundError):
    """``VIR_ERR_NO_DOMAIN``: "Domain not found[: ...]"."""

    default_code = ErrorNumber.NO_DOMAIN


class NoNetworkError(NotFoundError):
    """``VIR_ERR_NO_NETWORK``."""

    default_code = ErrorNumber.NO_NETWORK


class NoNetworkPortError(NotFoundError):
    """``VIR_ERR_NO_NETWORK_PORT``."""

    default_code = ErrorNumber.NO_NETWORK_PORT


class NoStoragePoolError(NotFoundError):
    """``VIR_ERR_NO_STORAGE_POOL``."""

    default_code = ErrorNumber.NO_STORAGE_POOL


class NoStorageVolError(NotFoundError):
    """``VIR_ERR_NO_STORAGE_VOL``."""

    default_code = ErrorNumber.NO_STORAGE_VOL


class NoNodeDeviceError(NotFoundError):
    """``VIR_ERR_NO_NODE_DEVICE``."""

    default_code = ErrorNumber.NO_NODE_DEVICE


class NoInterfaceError(NotFoundError):
    """``VIR_ERR_NO_INTERFACE``."""

    default_code = ErrorNumber.NO_INTERFACE


class NoSecretError(NotFoundError):
    """``VIR_ERR_NO_SECRET``."""

    default_code = ErrorNumber.NO_SECRET


class NoNWFilterError(NotFoundError):
    """``VIR_ERR_NO_NWFILTER``."""

    default_code = ErrorNumber.NO_NWFILTER


class NoNWFilterBindingError(NotFoundError):
    """``VIR_ERR_NO_NWFILTER_BINDING``."""

    default_code = ErrorNumber.NO_NWFILTER_BINDING


class NoDomainSnapshotError(NotFoundError):
    """``VIR_ERR_NO_DOMAIN_SNAPSHOT``."""

    default_code = ErrorNumber.NO_DOMAIN_SNAPSHOT


class NoDomainCheckpointError(NotFoundError):
    """``VIR_ERR_NO_DOMAIN_CHECKPOINT``."""

    default_code = ErrorNumber.NO_DOMAIN_CHECKPOINT


class NoDomainMetadataError(NotFoundError):
    """``VIR_ERR_NO_DOMAIN_METADATA``."""

    default_code = ErrorNumber.NO_DOMAIN_METADATA


class DeviceMissingError(NotFoundError):
    """``VIR_ERR_DEVICE_MISSING``."""

    default_code = ErrorNumber.DEVICE_MISSING


class AlreadyExistsError(VirtError):
    """An object with that name or UUID exists already (``DOM_EXIST`` and kin)."""

    default_code = ErrorNumber.DOM_EXIST


class OperationDeniedError(VirtError):
    """``VIR_ERR_OPERATION_DENIED``: e.g. a mutating call on a read-only connection."""

    default_code = ErrorNumber.OPERATION_DENIED


class AccessDeniedError(VirtError):
    """``VIR_ERR_ACCESS_DENIED``."""

    default_code = ErrorNumber.ACCESS_DENIED


class OperationInvalidError(VirtError):
    """``VIR_ERR_OPERATION_INVALID``: the object is in the wrong state for the call."""

    default_code = ErrorNumber.OPERATION_INVALID


class ConfigUnsupportedError(VirtError):
    """``VIR_ERR_CONFIG_UNSUPPORTED``: "unsupported configuration: ..."."""

    default_code = ErrorNumber.CONFIG_UNSUPPORTED


class ArgumentUnsupportedError(VirtError):
    """``VIR_ERR_ARGUMENT_UNSUPPORTED``: e.g. unsupported flags."""

    default_code = ErrorNumber.ARGUMENT_UNSUPPORTED


class OperationUnsupportedError(VirtError):
    """``VIR_ERR_OPERATION_UNSUPPORTED``."""

    default_code = ErrorNumber.OPERATION_UNSUPPORTED


class OperationTimeoutError(VirtError):
    """``VIR_ERR_OPERATION_TIMEOUT``: "Timed out during operation: ..."."""

    default_code = ErrorNumber.OPERATION_TIMEOUT


class OperationAbortedError(VirtError):
    """``VIR_ERR_OPERATION_ABORTED``."""

    default_code = ErrorNumber.OPERATION_ABORTED


class ResourceBusyError(VirtError):
    """``VIR_ERR_RESOURCE_BUSY``: e.g. a state directory owned by another process."""

    default_code = ErrorNumber.RESOURCE_BUSY


class SystemCallError(VirtError):
    """``VIR_ERR_SYSTEM_ERROR``: an OS call failed; ``int1`` holds errno.

    Build it with :meth:`from_os_error` to get libvirt's "<what>: <strerror>" text.
    """

    default_code = ErrorNumber.SYSTEM_ERROR

    @classmethod
    def from_os_error(
        cls, what: str, exc: OSError, *, domain: int = ErrorDomain.NONE
    ) -> SystemCallError:
        """``SystemCallError.from_os_error("cannot open '/x'", e)``."""
        num = exc.errno if exc.errno is not None else _errno.EIO
        return cls(f"{what}: {os.strerror(num)}", domain=domain, int1=num)


_BY_CODE: dict[int, type[VirtError]] = {
    E.INTERNAL_ERROR: InternalError,
    E.NO_SUPPORT: NoSupportError,
    E.NO_CONNECT: NoConnectError,
    E.INVALID_CONN: ConnectionClosedError,
    E.AUTH_FAILED: AuthFailedError,
    E.AUTH_CANCELLED: AuthCancelledError,
    E.AUTH_UNAVAILABLE: AuthUnavailableError,
    E.RPC: RPCError,
    E.INVALID_ARG: InvalidArgError,
    E.OPERATION_FAILED: OperationFailedError,
    E.XML_ERROR: XMLError,
    E.XML_DETAIL: XMLDetailError,
    E.XML_INVALID_SCHEMA: XMLInvalidSchemaError,
    E.NO_DOMAIN: NoDomainError,
    E.NO_NETWORK: NoNetworkError,
    E.NO_NETWORK_PORT: NoNetworkPortError,
    E.NO_STORAGE_POOL: NoStoragePoolError,
    E.NO_STORAGE_VOL: NoStorageVolError,
    E.NO_NODE_DEVICE: NoNodeDeviceError,
    E.NO_INTERFACE: NoInterfaceError,
    E.NO_SECRET: NoSecretError,
    E.NO_NWFILTER: NoNWFilterError,
    E.NO_NWFILTER_BINDING: NoNWFilterBindingError,
    E.NO_DOMAIN_SNAPSHOT: NoDomainSnapshotError,
    E.NO_DOMAIN_CHECKPOINT: NoDomainCheckpointError,
    E.NO_DOMAIN_METADATA: NoDomainMetadataError,
    E.DEVICE_MISSING: DeviceMissingError,
    E.DOM_EXIST: AlreadyExistsError,
    E.NETWORK_EXIST: AlreadyExistsError,
    E.STORAGE_VOL_EXIST: AlreadyExistsError,
    E.NETWORK_PORT_EXIST: AlreadyExistsError,
    E.OPERATION_DENIED: OperationDeniedError,
    E.ACCESS_DENIED: AccessDeniedError,
    E.OPERATION_INVALID: OperationInvalidError,
    E.CONFIG_UNSUPPORTED: ConfigUnsupportedError,
    E.ARGUMENT_UNSUPPORTED: ArgumentUnsupportedError,
    E.OPERATION_UNSUPPORTED: OperationUnsupportedError,
    E.OPERATION_TIMEOUT: OperationTimeoutError,
    E.OPERATION_ABORTED: OperationAbortedError,
    E.RESOURCE_BUSY: ResourceBusyError,
    E.SYSTEM_ERROR: SystemCallError,
}


def error_class_for(code: int) -> type[VirtError]:
    """The most specific :class:`VirtError` subclass for a libvirt error code."""
    return _BY_CODE.get(code, VirtError)
