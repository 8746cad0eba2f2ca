"""Secret commands: secret-list, secret-define, secret-dumpxml, secret-set-value,
secret-get-value, secret-undefine.

Values travel base64-encoded on the command line and in output, unless
``--plain`` (raw bytes; ``secret-set-value --plain`` reads them from
``--file``). As in virsh, passing the value itself with ``--base64`` works
but warns that command lines are visible to other users, and
``--interactive`` reads it from the terminal without echo. ``--json``
document of ``secret-list`` (see ``docs/cli.md``): ``[{"uuid",
"usage_type", "usage_id"}]`` sorted by UUID (``usage_type`` is ``none``,
``volume``, ``ceph``, ``iscsi``, ``tls`` or ``vtpm``).
"""

from __future__ import annotations

import base64
import binascii
import getpass
import re

from virtcore.cli.context import CommandError, Ctx
from virtcore.cli.format import Table
from virtcore.cli.parser import Args
from virtcore.cli.spec import command, data, flag, string
from virtcore.cli.xmlview import dump_xml
from virtcore.enums.connect import ConnectListAllSecretsFlags as SecretFlags
from virtcore.enums.errors import ErrorNumber
from virtcore.errors import VirtError
from virtcore.objects import Secret

__all__: list[str] = []

_SECRET = data("secret", "secret UUID", complete="secret")
_USAGES = ("none", "volume", "ceph", "iscsi", "tls", "vtpm")
_MAX_VALUE_FILE = 1024


def _usage_type(secret: Secret) -> str:
    kind = int(secret.usage_type)
    return _USAGES[kind] if 0 <= kind < len(_USAGES) else "unknown"


def _list(ctx: Ctx, flags: int) -> list[Secret]:
    try:
        return ctx.conn.list_all_secrets(flags)
    except VirtError as exc:
        if exc.code != ErrorNumber.NO_SUPPORT or flags:
            raise CommandError("Failed to list secrets", exc) from exc
    # Drivers without the "list all" call: count, then name, like virsh's fallback.
    try:
        ctx.conn.num_of_secrets()
    except VirtError as exc:
        raise CommandError("Failed to count secrets", exc) from exc
    try:
        uuids = ctx.conn.list_secrets()
    except VirtError as exc:
        raise CommandError("Failed to list secrets", exc) from exc
    return [ctx.conn.secret_lookup_by_uuid(uuid) for uuid in uuids]


@command(
    "secret-list",
    "secret",
    "list secrets",
    "Returns a list of secrets",
    [
        flag("ephemeral", "list ephemeral secrets"),
        flag("no-ephemeral", "list non-ephemeral secrets"),
        flag("private", "list private secrets"),
        flag("no-private", "list non-private secrets"),
    ],
    json=True,
)
def cmd_secret_list(ctx: Ctx, args: Args) -> bool:
    flags = 0
    for name, value in (
        ("ephemeral", SecretFlags.EPHEMERAL),
        ("no-ephemeral", SecretFlags.NO_EPHEMERAL),
        ("private", SecretFlags.PRIVATE),
        ("no-private", SecretFlags.NO_PRIVATE),
    ):
        if args.flag(name):
            flags |= int(value)
    secrets = sorted(_list(ctx, flags), key=lambda s: s.uuid)
    if args.flag("json"):
        ctx.json(
            [
                {"uuid": s.uuid, "usage_type": _usage_type(s), "usage_id": s.usage_id or None}
                for s in secrets
            ]
        )
        return True
    table = Table("UUID", "Usage")
    for secret in secrets:
        usage = f"{_usage_type(secret)} {secret.usage_id}" if secret.usage_type else "Unused"
        table.add(secret.uuid, usage)
    ctx.print(table.render(header=not ctx.quiet))
    return True


@command(
    "secret-define",
    "secret",
    "define or modify a secret from an XML file",
    "Define or modify a secret.",
    [
        data("file", "file containing secret attributes in XML"),
        flag("validate", "validate the XML against the schema"),
    ],
)
def cmd_secret_define(ctx: Ctx, args: Args) -> bool:
    path = args.require("file")
    flags = 1 if args.flag("validate") else 0
    xml = ctx.read_file(path)
    try:
        secret = ctx.conn.secret_define_xml(xml, flags)
    except VirtError as exc:
        raise CommandError(f"Failed to set attributes from {path}", exc) from exc
    ctx.extra(f"Secret {secret.uuid} created\n")
    return True


@command(
    "secret-dumpxml",
    "secret",
    "secret attributes in XML",
    "Output attributes of a secret as an XML dump to stdout.",
    [
        _SECRET,
        string("xpath", "xpath expression to filter the XML document", positional=False),
        flag("wrap", "wrap xpath results in an common root element"),
    ],
)
def cmd_secret_dumpxml(ctx: Ctx, args: Args) -> bool:
    secret = ctx.secret(args)
    dump_xml(ctx, secret.xml_desc(0), args.string("xpath"), args.flag("wrap"))
    return True


def _b64decode(text: str) -> bytes:
    """Decode leniently, like GLib: characters outside the alphabet are skipped."""
    cleaned = re.sub(r"[^A-Za-z0-9+/]", "", text)
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned)
    except binascii.Error:
        return base64.b64decode(cleaned[: len(cleaned) // 4 * 4 - 4] or "")


@command(
    "secret-set-value",
    "secret",
    "set a secret value",
    "Set a secret value.",
    [
        _SECRET,
        string("file", "read secret from file", positional=False),
        flag("plain", "read the secret from file without converting from base64"),
        flag("interactive", "read the secret from the terminal"),
        string("base64", "base64-encoded secret value"),
    ],
)
def cmd_secret_set_value(ctx: Ctx, args: Args) -> bool:
    for first, second in (
        ("file", "base64"),
        ("plain", "base64"),
        ("interactive", "base64"),
        ("interactive", "plain"),
        ("interactive", "file"),
    ):
        if args.given(first) and args.given(second):
            raise CommandError(f"Options --{first} and --{second} are mutually exclusive")
    secret = ctx.secret(args)
    encoded = args.string("base64")
    path = args.string("file")
    interactive = args.flag("interactive")
    if encoded is None and path is None and not interactive:
        raise CommandError("Input secret value is missing")
    if encoded is not None:
        ctx.error("Passing secret value as command-line argument is insecure!")
    raw: bytes | None = None
    if path is not None:
        try:
            with open(path, "rb") as handle:
                raw = handle.read(_MAX_VALUE_FILE + 1)
        except OSError as exc:
            raise CommandError(f"Failed to open file '{path}': {exc.strerror}") from exc
        if len(raw) > _MAX_VALUE_FILE:
            raise CommandError(f"File '{path}' is too large")
    plain = args.flag("plain")
    if interactive:
        ctx.print("Enter new value for secret:")
        ctx.out.flush()
        try:
            raw = getpass.getpass(prompt="").encode()
        except (EOFError, OSError) as exc:
            raise CommandError("Failed to read secret") from exc
        plain = True
    if plain:
        value = raw or b""
    else:
        value = _b64decode(encoded if encoded is not None else (raw or b"").decode("latin-1"))
    try:
        secret.set_value(value, 0)
    except VirtError as exc:
        raise CommandError("Failed to set secret value", exc) from exc
    ctx.extra("Secret value set\n")
    return True


@command(
    "secret-get-value",
    "secret",
    "Output a secret value",
    "Output a secret value to stdout.",
    [_SECRET, flag("plain", "get value without converting to base64")],
)
def cmd_secret_get_value(ctx: Ctx, args: Args) -> bool:
    secret = ctx.secret(args)
    value = secret.value(0)
    if not args.flag("plain"):
        ctx.print(base64.b64encode(value).decode() + "\n")
        return True
    binary = getattr(ctx.out, "buffer", None)
    if binary is not None:
        ctx.out.flush()
        binary.write(value)
        binary.flush()
    else:
        ctx.print(value.decode("utf-8", errors="surrogateescape"))
    return True


@command(
    "secret-undefine",
    "secret",
    "undefine a secret",
    "Undefine a secret.",
    [_SECRET],
)
def cmd_secret_undefine(ctx: Ctx, args: Args) -> bool:
    given = args.require("secret")
    secret = ctx.secret(args)
    try:
        secret.undefine()
    except VirtError as exc:
        raise CommandError(f"Failed to delete secret {given}", exc) from exc
    ctx.extra(f"Secret {given} deleted\n")
    return True
