"""The state one ``virtcore`` session carries between commands, and object lookups.

:class:`Ctx` holds the output streams, the global options (quiet, read-only,
timing), the connection (opened on demand, replaced by ``connect``) and the
helpers every command family uses: printing (``print`` always, ``extra``
unless ``-q``), JSON output, reading input files with virsh's messages, and
looking objects up the way virsh does:

* domains by id (a non-negative integer), then UUID (a 36-character
  string), then name; every lookup error is swallowed and only "failed to
  get domain 'x'" is reported;
* networks, pools and network filters by UUID then name, reporting the
  name lookup's error after virsh's line;
* volumes by name within ``--pool``, then by key, then by path;
* node devices by name (or a ``wwnn,wwpn`` pair), secrets by UUID.

Failures are raised as :class:`CommandError` (virsh's own line, then the
library's message) and printed by the command loop.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import TYPE_CHECKING, Any, TextIO

import virtcore
from virtcore.cli.format import to_json
from virtcore.errors import NotFoundError, VirtError

if TYPE_CHECKING:
    from virtcore.cli.parser import Args
    from virtcore.connection import Connection
    from virtcore.objects import (
        Domain,
        DomainSnapshot,
        Network,
        NodeDevice,
        NWFilter,
        Secret,
        StoragePool,
        StorageVol,
    )

__all__ = ["CommandError", "Ctx", "QuitShell"]

logger = logging.getLogger(__name__)

_UUID_LEN = 36


class CommandError(Exception):
    """A command failure: virsh's context line (optional) and the library's error (optional)."""

    def __init__(self, message: str | None, cause: BaseException | None = None) -> None:
        super().__init__(message or (str(cause) if cause else ""))
        self.message = message
        self.cause = cause

    def lines(self) -> list[str]:
        """The ``error: ...`` lines virsh prints for this failure."""
        out = []
        if self.message is not None:
            out.append(self.message)
        if isinstance(self.cause, VirtError):
            out.append(self.cause.message)
        elif self.cause is not None:
            out.append(str(self.cause))
        return out


class QuitShell(Exception):
    """Raised by ``quit``/``exit`` to leave the interactive shell."""


class Ctx:
    """One shell session: streams, options and the connection."""

    def __init__(
        self,
        out: TextIO,
        err: TextIO,
        *,
        uri: str | None = None,
        readonly: bool = False,
        quiet: bool = False,
        timing: bool = False,
        escape: str = "^]",
        environ: dict[str, str] | None = None,
        stdin: TextIO | None = None,
    ) -> None:
        self.out = out
        self.err = err
        # Commands that talk to a terminal (console attachment) read from here.
        self.stdin = sys.stdin if stdin is None else stdin
        self.uri = uri
        self.readonly = readonly
        self.quiet = quiet
        self.timing = timing
        self.escape = escape
        self.environ = dict(os.environ) if environ is None else environ
        self.interactive = False
        self.skip_separator = False
        self._conn: Connection | None = None

    # -- output ------------------------------------------------------------------

    def print(self, text: str) -> None:
        """Write *text* to standard output (``vshPrint``)."""
        self.out.write(text)

    def extra(self, text: str) -> None:
        """Write *text* unless ``-q`` was given (``vshPrintExtra``)."""
        if not self.quiet:
            self.out.write(text)

    def error(self, message: str) -> None:
        """Write ``error: message`` to standard error."""
        self.err.write(f"error: {message}\n")

    def json(self, document: Any) -> None:
        """Write a ``--json`` document; the blank line virsh adds after commands is dropped."""
        self.out.write(to_json(document))
        self.skip_separator = True

    # -- connection --------------------------------------------------------------

    @property
    def conn(self) -> Connection:
        """The open connection, opening it on first use."""
        if self._conn is None or self._conn.closed:
            self.connect(self.uri, self.readonly)
        assert self._conn is not None
        return self._conn

    def connect(self, uri: str | None, readonly: bool) -> None:
        """Open a new connection (closing the current one first), as virsh's ``connect``."""
        self.disconnect()
        try:
            if readonly:
                conn = virtcore.open_read_only(uri, environ=self.environ)
            else:
                conn = virtcore.open(uri, environ=self.environ)
        except VirtError as exc:
            raise CommandError("failed to connect to the hypervisor", exc) from exc
        self._conn = conn
        self.uri = uri
        self.readonly = readonly
        logger.debug("connected to %s (read-only: %s)", conn.uri, readonly)

    def disconnect(self) -> None:
        """Close the connection, if any."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- input files ---------------------------------------------------------------

    @staticmethod
    def read_file(path: str) -> str:
        """A file's text, with virsh's messages for unreadable files."""
        try:
            with open(path, "rb") as handle:
                raw = handle.read()
        except IsADirectoryError as exc:
            raise CommandError(f"Failed to read file '{path}': {exc.strerror}") from exc
        except OSError as exc:
            raise CommandError(f"Failed to open file '{path}': {exc.strerror}") from exc
        return raw.decode("utf-8", errors="replace")

    # -- lookups -------------------------------------------------------------------

    def domain(self, args: Args, opt: str = "domain") -> Domain:
        """The domain named by option *opt*: id, then UUID, then name."""
        return self.find_domain(args.require(opt))

    def find_domain(
        self, name: str, *, by_id: bool = True, by_uuid: bool = True, by_name: bool = True
    ) -> Domain:
        """Look a domain up by id, UUID or name; only virsh's own line on failure."""
        conn = self.conn
        match = re.fullmatch(r"[ \t\n\v\f\r]*([+-]?[0-9]+)", name)
        if by_id and match is not None and 0 <= int(match.group(1)) < 2**31:
            try:
                return conn.domain_lookup_by_id(int(match.group(1)))
            except VirtError:
                logger.debug("no domain with id %s", name)
        if by_uuid and len(name) == _UUID_LEN:
            try:
                return conn.domain_lookup_by_uuid(name)
            except VirtError:
                logger.debug("no domain with uuid %s", name)
        if by_name:
            try:
                return conn.domain_lookup_by_name(name)
            except VirtError:
                logger.debug("no domain named %s", name)
        raise CommandError(f"failed to get domain '{name}'")

    def network(
        self, args: Args, opt: str = "network", *, by_uuid: bool = True, by_name: bool = True
    ) -> Network:
        """The network named by option *opt*: UUID, then name."""
        name = args.require(opt)
        conn = self.conn
        failure: VirtError | None = None
        if by_uuid and len(name) == _UUID_LEN:
            try:
                return conn.network_lookup_by_uuid(name)
            except VirtError as exc:
                failure = exc
        if by_name:
            try:
                return conn.network_lookup_by_name(name)
            except VirtError as exc:
                failure = exc
        raise CommandError(f"failed to get network '{name}'", failure)

    def pool(
        self, args: Args, opt: str = "pool", *, by_uuid: bool = True, by_name: bool = True
    ) -> StoragePool:
        """The pool named by option *opt*: UUID, then name."""
        return self.find_pool(args.require(opt), by_uuid=by_uuid, by_name=by_name)

    def find_pool(self, name: str, *, by_uuid: bool = True, by_name: bool = True) -> StoragePool:
        """Look a pool up by UUID, then name."""
        conn = self.conn
        failure: VirtError | None = None
        if by_uuid and len(name) == _UUID_LEN:
            try:
                return conn.storage_pool_lookup_by_uuid(name)
            except VirtError as exc:
                failure = exc
        if by_name:
            try:
                return conn.storage_pool_lookup_by_name(name)
            except VirtError as exc:
                failure = exc
        raise CommandError(f"failed to get pool '{name}'", failure)

    def volume(self, args: Args, opt: str = "vol", pool_opt: str | None = "pool") -> StorageVol:
        """The volume named by *opt*: by name in ``--pool``, else by key, else by path."""
        name = args.require(opt)
        pool_name = args.string(pool_opt) if pool_opt else None
        pool = None
        if pool_name is not None:
            pool = self.find_pool(pool_name)
            if not pool.is_active():
                raise CommandError(f"pool '{pool_name}' is not active")
        conn = self.conn
        failure: VirtError | None = None
        vol = None
        if pool is not None:
            try:
                vol = pool.vol_lookup_by_name(name)
            except VirtError as exc:
                failure = exc
        for finder in (conn.storage_vol_lookup_by_key, conn.storage_vol_lookup_by_path):
            if vol is not None:
                break
            try:
                vol = finder(name)
            except VirtError as exc:
                failure = exc
        if vol is None:
            if pool is not None or not pool_opt:
                raise CommandError(f"failed to get vol '{name}'", failure)
            raise CommandError(
                f"failed to get vol '{name}', specifying --{pool_opt} might help", failure
            )
        if pool is not None and vol.pool_name != pool.name:
            raise CommandError(f"Requested volume '{name}' is not in pool '{pool.name}'")
        return vol

    def nodedev(self, args: Args, opt: str = "device") -> NodeDevice:
        """The node device named by *opt*."""
        name = args.require(opt)
        try:
            return self.conn.node_device_lookup_by_name(name)
        except VirtError as exc:
            raise CommandError(f"Could not find matching device '{name}'", exc) from exc

    def secret(self, args: Args, opt: str = "secret") -> Secret:
        """The secret with the UUID in *opt*."""
        name = args.require(opt)
        try:
            return self.conn.secret_lookup_by_uuid(name)
        except VirtError as exc:
            raise CommandError(f"failed to get secret '{name}'", exc) from exc

    def nwfilter(self, args: Args, opt: str = "nwfilter") -> NWFilter:
        """The network filter named by *opt*: UUID, then name."""
        name = args.require(opt)
        conn = self.conn
        if len(name) == _UUID_LEN:
            try:
                return conn.nwfilter_lookup_by_uuid(name)
            except VirtError:
                logger.debug("no nwfilter with uuid %s", name)
        try:
            return conn.nwfilter_lookup_by_name(name)
        except VirtError as exc:
            raise CommandError(f"failed to get nwfilter '{name}'", exc) from exc

    def snapshot(self, dom: Domain, name: str) -> DomainSnapshot:
        """The snapshot *name* of *dom*; the library's error alone on failure."""
        try:
            return dom.snapshot_lookup_by_name(name)
        except NotFoundError as exc:
            raise CommandError(None, exc) from exc
