"""Connection URIs: ``driver[+transport]://[user@][host][:port]/path[?query][#fragment]``.

:class:`URI` is an immutable value object holding one parsed connection URI.
:meth:`URI.parse` accepts exactly the strings libvirt 9.0 accepts (its
``virURIParse``, a thin layer over libxml2 2.9's RFC 3986 parser) and splits
them the same way; ``str(uri)`` renders them exactly as ``virURIFormat`` does,
which is what ``virConnectGetURI`` / ``virsh uri`` print.

Parsing rules, as in libvirt:

* The scheme is kept as written (``Test:///x`` has scheme ``"Test"``); drivers
  compare schemes exactly, so ``test+unix`` is not ``test``.
* ``user``, ``host``, ``path`` and ``fragment`` are percent-decoded as UTF-8;
  bytes that are not UTF-8 (``%FF``) become surrogate escapes, as in
  ``os.fsdecode``, and are re-encoded unchanged. An IPv6 host loses its
  brackets (``[::1]`` → ``"::1"``); an empty host is ``None`` and a port
  without a host, or port 0, is dropped.
* The query is kept verbatim (:attr:`URI.query_string`) and also split into
  decoded ``(name, value)`` pairs (:attr:`URI.query`): sections are separated
  by the next ``&``, or by ``;`` when no ``&`` follows; ``name`` alone has the
  value ``""``; ``=value`` sections are ignored; ``+`` stays ``+``.
* Input without a scheme parses (as an RFC 3986 relative reference) with
  ``scheme == ""``; opening a connection rejects it through
  :func:`require_scheme`.
* Anything else fails with :class:`URISyntaxError` — ``VIR_ERR_INTERNAL_ERROR``
  in domain ``VIR_FROM_URI``: "internal error: Unable to parse URI <text>".
  That includes raw spaces, control or non-ASCII characters, ``%`` not
  followed by two hex digits, a second ``@`` or ``#``, an empty or non-numeric
  port and ports above 2147483647.

Formatting rules, as in libvirt: ``//`` always follows the scheme, so
``test:`` and ``test:/abs`` print as ``test://`` and ``test:///abs`` (and the
rootless ``test:x`` as ``test://x``, which reads back differently); the query
is written exactly as it was parsed; user, path and fragment are re-escaped
(``/a:b`` prints as ``/a%3Ab``, ``%2F`` in a path comes back as ``/``); a host
containing ``:`` is bracketed; a port is printed only when non-zero.

Where virtcore differs from libvirt, on purpose:

* A ``NUL`` byte, raw or as ``%00``, is a parse error; libvirt's C strings
  silently truncate the component at that point.
* An empty user (``test://@host/p``) is ``""``; libxml2 instead returns the
  whole rest of the URI as the user name.
* A lone ``=`` query section is ignored like ``=value``; libvirt turns it
  into a parameter named after the rest of the query string.
* Inside IPv6 brackets, control and non-ASCII characters are rejected; libxml2
  accepts any byte there.
* Input longer than :data:`MAX_URI_LENGTH` characters is a parse error.

The helpers :func:`parse_connect_uri`, :func:`require_scheme`,
:func:`check_uri_typo` and :func:`validate_embedded` carry the URI checks
libvirt's ``virConnectOpenInternal`` makes before it asks any driver, with its
error codes and wording; :func:`default_uri` reads ``VIRTCORE_DEFAULT_URI``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    ConfigUnsupportedError,
    InternalError,
    InvalidArgError,
    NoConnectError,
)

__all__ = [
    "DEFAULT_URI_ENV",
    "MAX_URI_LENGTH",
    "URI",
    "URISyntaxError",
    "check_uri_typo",
    "default_uri",
    "parse_connect_uri",
    "require_scheme",
    "validate_embedded",
]

logger = logging.getLogger(__name__)

#: Longest URI text :meth:`URI.parse` accepts. libvirt has no limit; a
#: connection URI is a few hundred characters at most, and bounding it keeps
#: hostile input out of error messages and logs.
MAX_URI_LENGTH = 65536

#: Environment variable naming the URI to open when the caller gives none.
DEFAULT_URI_ENV = "VIRTCORE_DEFAULT_URI"

# libxml2 stores the port in an int and fails on overflow.
_MAX_PORT = 2**31 - 1

# How much of an over-long input an error message repeats.
_ERROR_ECHO_LIMIT = 256

# --- grammar (RFC 3986 as libxml2 2.9 implements it) --------------------------

_PCT = r"%[0-9A-Fa-f]{2}"
_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_PCHAR_NO_COLON = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}@]|{_PCT})"

_SCHEME = r"(?P<scheme>[A-Za-z][A-Za-z0-9+\-.]*)"
# Bracketed hosts take anything up to "]" in libxml2; virtcore only refuses
# control and non-ASCII characters there.
_AUTHORITY = (
    rf"(?:(?P<user>(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*)@)?"
    rf"(?P<host>\[[\x20-\x5c\x5e-\x7e]*\]|(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*)"
    r"(?::(?P<port>[0-9]+))?"
)
_PATH_ABEMPTY = rf"(?:/{_PCHAR}*)*"
_PATH_ABSOLUTE = rf"/(?:{_PCHAR}+(?:/{_PCHAR}*)*)?"
_PATH_ROOTLESS = rf"{_PCHAR}+(?:/{_PCHAR}*)*"
_PATH_NOSCHEME = rf"{_PCHAR_NO_COLON}+(?:/{_PCHAR}*)*"
_QUERY = rf"(?:\?(?P<query>(?:{_PCHAR}|[/?])*))?"
_FRAGMENT = rf"(?:\#(?P<fragment>(?:{_PCHAR}|[/?\[\]])*))?"

# libxml2 tries the absolute form first and the relative reference second.
_ABSOLUTE_RE = re.compile(
    rf"{_SCHEME}:"
    rf"(?://{_AUTHORITY}(?P<path1>{_PATH_ABEMPTY})"
    rf"|(?P<path2>{_PATH_ABSOLUTE}|{_PATH_ROOTLESS})?)"
    rf"{_QUERY}{_FRAGMENT}",
    re.ASCII,
)
_RELATIVE_RE = re.compile(
    rf"(?://{_AUTHORITY}(?P<path1>{_PATH_ABEMPTY})"
    rf"|(?P<path2>{_PATH_ABSOLUTE}|{_PATH_NOSCHEME})?)"
    rf"{_QUERY}{_FRAGMENT}",
    re.ASCII,
)
_QUERY_STRING_RE = re.compile(rf"(?:{_PCHAR}|[/?])*", re.ASCII)
_SCHEME_RE = re.compile(r"(?:[A-Za-z][A-Za-z0-9+\-.]*)?", re.ASCII)
_WINDOWS_DRIVE_RE = re.compile(r"/[A-Za-z]:", re.ASCII)

# --- escaping (xmlSaveUri keeps RFC 2396's unreserved set plus these) --------

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_UNRESERVED_2396 = _ALNUM + "-_.!~*'()"
_USER_SAFE = frozenset(_UNRESERVED_2396 + ";:&=+$,")
_PATH_SAFE = frozenset(_UNRESERVED_2396 + "/;@&=+$,")
_FRAGMENT_SAFE = frozenset(_UNRESERVED_2396 + ";/?:@&=+$,[]")
# Query values are encoded like virURIFormatParams (GLib's unreserved set);
# names only where they would otherwise break the query apart.
_QUERY_VALUE_SAFE = frozenset(_ALNUM + "-._~")
_QUERY_NAME_SAFE = frozenset(_ALNUM + "-._~!$'()*+,:@/?")


class URISyntaxError(InternalError):
    """A string that is not a URI: "internal error: Unable to parse URI <text>".

    ``code`` is ``VIR_ERR_INTERNAL_ERROR`` and ``domain`` ``VIR_FROM_URI``,
    as libvirt reports it.
    """

    default_domain = ErrorDomain.URI


def _encode(text: str) -> bytes:
    # surrogateescape round-trips bytes that were not UTF-8 (``%FF``).
    return text.encode("utf-8", "surrogateescape")


def _escape(text: str, safe: frozenset[str]) -> str:
    return "".join(chr(byte) if chr(byte) in safe else f"%{byte:02X}" for byte in _encode(text))


def _unescape(raw: str) -> str | None:
    """Percent-decode *raw* like xmlURIUnescapeString; ``None`` if it holds a NUL."""
    decoded = unquote_to_bytes(raw)
    if b"\0" in decoded:
        return None
    return decoded.decode("utf-8", "surrogateescape")


def _split_query(query: str) -> tuple[tuple[str, str], ...] | None:
    """Split a raw query into decoded pairs (virURIParseParams); ``None`` on NUL."""
    params: list[tuple[str, str]] = []
    pos = 0
    amp_left = True
    while pos < len(query):
        # Once no "&" is left, stop searching for one: keeps this linear.
        end = query.find("&", pos) if amp_left else -1
        if end < 0:
            amp_left = False
            end = query.find(";", pos)
        if end < 0:
            end = len(query)
        section = query[pos:end]
        pos = end + 1
        if not section:
            continue
        name, eq, value = section.partition("=")
        if eq and not name:
            # "=value" (and a bare "=") names nothing, as in CGI.pm.
            continue
        dec_name, dec_value = _unescape(name), _unescape(value)
        if dec_name is None or dec_value is None:
            return None
        params.append((dec_name, dec_value))
    return tuple(params)


def _join_query(params: Iterable[tuple[str, str]]) -> str:
    return "&".join(
        f"{_escape(name, _QUERY_NAME_SAFE)}={_escape(value, _QUERY_VALUE_SAFE)}"
        for name, value in params
    )


def _strip_ipv6_brackets(host: str) -> str:
    if len(host) >= 2 and host[0] == "[" and host[-1] == "]" and ":" in host:
        return host[1:-1]
    return host


def _syntax_error(text: str) -> URISyntaxError:
    shown = text if len(text) <= MAX_URI_LENGTH else text[:_ERROR_ECHO_LIMIT] + "..."
    return URISyntaxError(f"Unable to parse URI {shown}")


@dataclass(frozen=True)
class URI:
    """One connection URI, immutable and hashable.

    Build it with :meth:`URI.parse`, or directly::

        URI("qemu+ssh", user="root", host="h", port=2222, path="/system",
            query=(("keyfile", "/root/k"),))

    which renders as ``qemu+ssh://root@h:2222/system?keyfile=%2Froot%2Fk``.

    Fields:

    * ``scheme`` - as written, ``""`` for a relative reference.
    * ``user``, ``host`` - decoded; ``None`` when absent. An empty host is
      normalised to ``None``; IPv6 hosts are stored without brackets (given
      ``"[::1]"``, the host is ``"::1"``).
    * ``port`` - ``None`` when absent or 0; needs a host.
    * ``path`` - decoded, ``""`` when absent.
    * ``query`` - decoded ``(name, value)`` pairs in order, repeats kept.
    * ``fragment`` - decoded; ``None`` when absent, ``""`` for a bare ``#``.
    * ``query_string`` - the query exactly as written (``None`` without
      ``?``). When only ``query`` is given, it is encoded like libvirt's
      ``virURIFormatParams``; when both are given they must agree.

    Invalid field values raise :class:`~virtcore.errors.InvalidArgError`.
    """

    scheme: str
    user: str | None = None
    host: str | None = None
    port: int | None = None
    path: str = ""
    query: tuple[tuple[str, str], ...] = ()
    fragment: str | None = None
    query_string: str | None = None
    source: str | None = field(default=None, init=False, compare=False, repr=False)
    """The text this URI was parsed from; ``None`` for built or derived URIs."""

    def __post_init__(self) -> None:
        if not isinstance(self.scheme, str) or not _SCHEME_RE.fullmatch(self.scheme):
            raise InvalidArgError(f"invalid URI scheme '{self.scheme}'")
        if self.host is not None:
            self._check_text(self.host)
            object.__setattr__(self, "host", _strip_ipv6_brackets(self.host) or None)
        if self.port is not None:
            if isinstance(self.port, bool) or not isinstance(self.port, int):
                raise InvalidArgError(f"invalid URI port {self.port!r}")
            if not 0 <= self.port <= _MAX_PORT:
                raise InvalidArgError(f"URI port {self.port} out of range")
            if self.port == 0:
                object.__setattr__(self, "port", None)
            elif self.host is None:
                raise InvalidArgError("URI port given without a host")
        for text in (self.user, self.path, self.fragment, self.query_string):
            self._check_text(text)
        query = self._check_query(self.query)
        if self.query_string is not None:
            if not _QUERY_STRING_RE.fullmatch(self.query_string):
                raise InvalidArgError(f"invalid URI query string '{self.query_string}'")
            parsed = _split_query(self.query_string)
            if parsed is None:
                raise InvalidArgError("URI query string decodes to a NUL byte")
            if query and query != parsed:
                raise InvalidArgError(
                    f"URI query {query!r} does not match query string '{self.query_string}'"
                )
            query = parsed
        elif query:
            object.__setattr__(self, "query_string", _join_query(query))
        object.__setattr__(self, "query", query)

    @classmethod
    def _check_query(cls, query: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
        pairs = []
        for pair in query:
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise InvalidArgError(f"URI query item {pair!r} is not a (name, value) pair")
            cls._check_text(pair[0])
            cls._check_text(pair[1])
            if not pair[0]:
                raise InvalidArgError("URI query parameter without a name")
            pairs.append(pair)
        return tuple(pairs)

    @staticmethod
    def _check_text(text: str | None) -> None:
        if text is None:
            return
        if not isinstance(text, str):
            raise InvalidArgError(f"URI component {text!r} is not a string")
        if "\0" in text:
            raise InvalidArgError("URI component contains a NUL byte")
        try:
            _encode(text)
        except UnicodeEncodeError as exc:
            raise InvalidArgError(f"URI component {text!r} is not encodable") from exc

    @classmethod
    def parse(cls, text: str) -> URI:
        """Parse *text* the way libvirt's ``virURIParse`` does.

        Raises :class:`URISyntaxError` for anything libvirt cannot parse (and
        for the inputs listed as differences in the module documentation).
        """
        if not isinstance(text, str):
            raise TypeError(f"URI text must be str, not {type(text).__name__}")
        if len(text) > MAX_URI_LENGTH:
            raise _syntax_error(text)
        match = _ABSOLUTE_RE.fullmatch(text) or _RELATIVE_RE.fullmatch(text)
        if match is None:
            raise _syntax_error(text)
        parts = match.groupdict()
        raw_user, raw_host, raw_port = parts["user"], parts["host"], parts["port"]
        raw_path = parts["path1"] or parts["path2"] or ""
        raw_fragment = parts["fragment"]

        port = 0
        if raw_port is not None:
            digits = raw_port.lstrip("0")
            # Compare lengths first: int() refuses very long digit strings.
            if len(digits) > len(str(_MAX_PORT)) or int(digits or "0") > _MAX_PORT:
                raise _syntax_error(text)
            port = int(digits or "0")

        user = None if raw_user is None else _unescape(raw_user)
        host = _unescape(raw_host) if raw_host else ""
        path = _unescape(raw_path)
        fragment = None if raw_fragment is None else _unescape(raw_fragment)
        if (
            (raw_user is not None and user is None)
            or host is None
            or path is None
            or (raw_fragment is not None and fragment is None)
        ):
            raise _syntax_error(text)

        try:
            uri = cls(
                scheme=parts.get("scheme") or "",
                user=user,
                host=host or None,
                port=port if host else None,
                path=path,
                fragment=fragment,
                query_string=parts["query"],
            )
        except InvalidArgError as exc:
            # The query string is split (and checked for NUL) by __post_init__.
            raise _syntax_error(text) from exc
        object.__setattr__(uri, "source", text)
        logger.debug(
            "Split %r to URI components: scheme=%r server=%r user=%r port=%r path=%r",
            text,
            uri.scheme,
            uri.host,
            uri.user,
            uri.port,
            uri.path,
        )
        return uri

    # --- derived views --------------------------------------------------------

    @property
    def driver(self) -> str:
        """The scheme before any ``+``: ``"qemu"`` for ``qemu+ssh``."""
        return self.scheme.partition("+")[0]

    @property
    def transport(self) -> str | None:
        """The scheme after the first ``+``, lower-cased; ``None`` without ``+``.

        ``qemu+SSH`` gives ``"ssh"``; a trailing ``+`` gives ``""``.
        """
        _, plus, transport = self.scheme.partition("+")
        return transport.lower() if plus else None

    @property
    def has_server(self) -> bool:
        """Whether the URI names a server, which ``local_only`` drivers refuse."""
        return self.host is not None

    @property
    def params(self) -> dict[str, str]:
        """Query parameters as a dict; a repeated name keeps its last value."""
        return dict(self.query)

    def param(
        self, name: str, default: str | None = None, *, ignore_case: bool = False
    ) -> str | None:
        """The last value of query parameter *name*, or *default*.

        Drivers differ on case: the remote and ESX drivers match names
        case-insensitively (``ignore_case=True``), others exactly.
        """
        wanted = name.casefold() if ignore_case else name
        found = default
        for key, value in self.query:
            if (key.casefold() if ignore_case else key) == wanted:
                found = value
        return found

    @property
    def is_embedded(self) -> bool:
        """Whether the URI asks for an embedded driver (path ``/embed``)."""
        return self.path == "/embed"

    @property
    def embed_root(self) -> str | None:
        """The first ``root`` query parameter (exact name), as libvirt 9.0 reads it."""
        for key, value in self.query:
            if key == "root":
                return value
        return None

    # --- derived URIs ---------------------------------------------------------

    def replace(self, **changes: Any) -> URI:
        """A copy with the given fields changed.

        Changing ``query`` alone re-encodes ``query_string``; changing
        ``query_string`` alone re-derives ``query``.
        """
        if "query" in changes and "query_string" not in changes:
            changes["query_string"] = None
        elif "query_string" in changes and "query" not in changes:
            changes["query"] = ()
        return dataclasses.replace(self, **changes)

    def with_transport(self, transport: str | None) -> URI:
        """The same URI with the scheme's transport replaced or (``None``) removed.

        ``test+unix:///default`` with ``None`` gives ``test:///default`` - the
        name a remote client forwards to the daemon.
        """
        scheme = self.driver if not transport else f"{self.driver}+{transport}"
        return self.replace(scheme=scheme)

    def without_params(self, *names: str) -> URI:
        """A copy without the named query parameters (names compared ignoring case).

        The remaining parameters are re-encoded; with none left the ``?``
        disappears, as when libvirt's remote driver strips the parameters it
        consumed before forwarding a URI.
        """
        drop = {name.casefold() for name in names}
        kept = tuple((key, value) for key, value in self.query if key.casefold() not in drop)
        if kept == self.query:
            return self
        return self.replace(query=kept)

    def __str__(self) -> str:
        """The URI as libvirt's ``virURIFormat`` writes it."""
        out = [f"{self.scheme}:" if self.scheme else "", "//"]
        if self.user is not None:
            out.append(_escape(self.user, _USER_SAFE) + "@")
        if self.host is not None:
            out.append(f"[{self.host}]" if ":" in self.host else self.host)
            if self.port:
                out.append(f":{self.port}")
        path = self.path
        if self.scheme == "file" and _WINDOWS_DRIVE_RE.match(path):
            # xmlSaveUri leaves the drive colon of file:///c:/... alone.
            out.append(path[:3])
            path = path[3:]
        out.append(_escape(path, _PATH_SAFE))
        if self.query_string is not None:
            out.append("?" + self.query_string)
        if self.fragment is not None:
            out.append("#" + _escape(self.fragment, _FRAGMENT_SAFE))
        return "".join(out)


# --- the checks virConnectOpenInternal makes ----------------------------------


def _shown(uri: URI, text: str | None) -> str:
    if text is not None:
        return text
    return uri.source if uri.source is not None else str(uri)


def require_scheme(uri: URI, text: str | None = None) -> None:
    """Refuse a URI without a scheme.

    Raises :class:`~virtcore.errors.NoConnectError`: "no connection driver
    available for URI '<text>' does not include a driver name". *text*
    defaults to the string *uri* was parsed from.
    """
    if not uri.scheme:
        raise NoConnectError(f"URI '{_shown(uri, text)}' does not include a driver name")


_TYPO_SCHEMES = frozenset({"qemu", "vbox", "vz"})
_TYPO_HOSTS = frozenset({"session", "system"})


def check_uri_typo(uri: URI, text: str | None = None) -> None:
    """Refuse ``qemu://system``-style URIs, where ``//`` made the path a server.

    Only the schemes ``qemu``, ``vbox`` and ``vz`` are checked, whatever the
    path. Raises :class:`~virtcore.errors.InternalError`: "internal error:
    invalid URI qemu://system (maybe you want qemu:///system)".
    """
    if uri.scheme in _TYPO_SCHEMES and uri.host in _TYPO_HOSTS:
        raise InternalError(
            f"invalid URI {_shown(uri, text)} (maybe you want {uri.scheme}:///{uri.host})"
        )


_EMBED_SCHEME_RE = re.compile(r"[a-z]*", re.ASCII)


def validate_embedded(uri: URI) -> str:
    """Check an embedded-driver URI (``scheme:///embed?root=/dir``); return the root.

    Raises, in libvirt's order:

    * :class:`~virtcore.errors.NoConnectError` "URI scheme '<scheme>' for
      embedded driver is not valid" unless the scheme is lower-case letters;
    * :class:`~virtcore.errors.InvalidArgError` (domain ``VIR_FROM_URI``)
      "Missing URI parameter 'root'";
    * :class:`~virtcore.errors.ConfigUnsupportedError` "root path must be
      absolute".
    """
    if not _EMBED_SCHEME_RE.fullmatch(uri.scheme):
        raise NoConnectError(f"URI scheme '{uri.scheme}' for embedded driver is not valid")
    root = uri.embed_root
    if root is None:
        raise InvalidArgError("Missing URI parameter 'root'", domain=ErrorDomain.URI)
    if not root.startswith("/"):
        raise ConfigUnsupportedError("root path must be absolute")
    return root


def parse_connect_uri(text: str) -> URI:
    """Parse a URI given to open a connection and make libvirt's early checks.

    This is :meth:`URI.parse`, then :func:`require_scheme` and
    :func:`check_uri_typo`, in libvirt's order. Embedded URIs
    (:attr:`URI.is_embedded`) still need :func:`validate_embedded`. An empty
    *text* means "no URI" to libvirt and must be handled before calling this.
    """
    uri = URI.parse(text)
    require_scheme(uri, text)
    check_uri_typo(uri, text)
    return uri


def default_uri(environ: Mapping[str, str] | None = None) -> str | None:
    """The URI named by ``VIRTCORE_DEFAULT_URI`` in *environ* (default ``os.environ``).

    An unset or empty variable gives ``None``; probing the drivers for a
    default is left to the caller.
    """
    env = os.environ if environ is None else environ
    value = env.get(DEFAULT_URI_ENV)
    return value or None
