"""Domain configuration commands: dumpxml, edit, setmem, setmaxmem, setvcpus, desc,
metadata, domrename.

As in virsh 9.0, sizes accept scaled units (``setmem test 512M``; KiB
without a suffix), ``--current`` excludes ``--live`` and ``--config``, and
a command given none of the three uses libvirt's flag-less API, which
drivers treat as "the running domain" (so ``setmem`` on a shut-off domain
fails rather than editing its configuration). Library errors of these
commands are printed without a context line, exactly as virsh does.
"""

from __future__ import annotations

from virtcore.cli.context import CommandError, Ctx
from virtcore.cli.domain_cmds import domain_description
from virtcore.cli.editor import edit_text, edit_until_accepted
from virtcore.cli.parser import Args
from virtcore.cli.spec import alias, argv, command, data, flag, integer, string
from virtcore.cli.xmlview import dump_xml
from virtcore.enums.domain import (
    DomainDefineFlags,
    DomainMemoryModFlags,
    DomainMetadataType,
    DomainModificationImpact,
    DomainVcpuFlags,
    DomainXMLFlags,
)
from virtcore.enums.errors import ErrorNumber
from virtcore.errors import VirtError

__all__: list[str] = []

ULONG_MAX = 2**64 - 1


def _exclusive(args: Args, first: str, second: str) -> None:
    if args.flag(first) and args.flag(second):
        raise CommandError(f"Options --{first} and --{second} are mutually exclusive")


def _requires(args: Args, option: str, needed: str) -> None:
    if args.flag(option) and not args.flag(needed):
        raise CommandError(f"Option --{needed} is required by option --{option}")


def _impact(args: Args) -> int:
    """``--current/--live/--config`` as VIR_DOMAIN_AFFECT_* flags, or -1 for none given."""
    _exclusive(args, "current", "live")
    _exclusive(args, "current", "config")
    flags = int(DomainModificationImpact.CURRENT)
    if args.flag("config"):
        flags |= DomainModificationImpact.CONFIG
    if args.flag("live"):
        flags |= DomainModificationImpact.LIVE
    if not (args.flag("current") or args.flag("live") or args.flag("config")):
        return -1
    return flags


@command(
    "dumpxml",
    "domain",
    "domain information in XML",
    "Output the domain information as an XML dump to stdout.",
    [
        data("domain", "domain name, id or uuid", complete="domain"),
        flag("inactive", "show inactive defined XML"),
        flag("security-info", "include security sensitive information in XML dump"),
        flag("update-cpu", "update guest CPU according to host CPU"),
        flag("migratable", "provide XML suitable for migrations"),
        string("xpath", "xpath expression to filter the XML document", positional=False),
        flag("wrap", "wrap xpath results in an common root element"),
    ],
)
def cmd_dumpxml(ctx: Ctx, args: Args) -> bool:
    dom = ctx.domain(args)
    flags = 0
    for name, value in (
        ("inactive", DomainXMLFlags.INACTIVE),
        ("security-info", DomainXMLFlags.SECURE),
        ("update-cpu", DomainXMLFlags.UPDATE_CPU),
        ("migratable", DomainXMLFlags.MIGRATABLE),
    ):
        if args.flag(name):
            flags |= int(value)
    xpath = args.string("xpath")
    dump_xml(ctx, dom.xml_desc(flags), xpath, args.flag("wrap"))
    return True


@command(
    "edit",
    "domain",
    "edit XML configuration for a domain",
    "Edit the XML configuration for a domain.",
    [
        data("domain", "domain name, id or uuid", complete="domain"),
        flag("skip-validate", "skip validation of the XML against the schema"),
    ],
)
def cmd_edit(ctx: Ctx, args: Args) -> bool:
    dom = ctx.domain(args)
    query = int(DomainXMLFlags.SECURE | DomainXMLFlags.INACTIVE)
    define_flags = 0 if args.flag("skip-validate") else int(DomainDefineFlags.VALIDATE)
    outcome = edit_until_accepted(
        ctx,
        lambda: dom.xml_desc(query),
        lambda xml: ctx.conn.domain_define_xml(xml, define_flags),
    )
    if not outcome.changed:
        ctx.extra(f"Domain '{dom.name}' XML configuration not changed.\n")
        return True
    edited = outcome.result
    name = getattr(edited, "name", dom.name)
    ctx.extra(f"Domain '{name}' XML configuration edited.\n")
    return True


@command(
    "setmem",
    "domain",
    "change memory allocation",
    "Change the current memory allocation in the guest domain.",
    [
        data("domain", "domain name, id or uuid", complete="domain"),
        integer("size", "new memory size, as scaled integer (default KiB)", required=True),
        alias("kilobytes", "size"),
        flag("config", "affect next boot"),
        flag("live", "affect running domain"),
        flag("current", "affect current domain"),
    ],
)
def cmd_setmem(ctx: Ctx, args: Args) -> bool:
    flags = _impact(args)
    dom = ctx.domain(args)
    size = args.scaled("size", 1024, ULONG_MAX)
    assert size is not None
    kib = -(-size // 1024)
    # Without flags virsh calls virDomainSetMemory, which drivers apply to the live domain.
    dom.set_memory(kib, int(DomainModificationImpact.LIVE) if flags < 0 else flags)
    return True


@command(
    "setmaxmem",
    "domain",
    "change maximum memory limit",
    "Change the maximum memory allocation limit in the guest domain.",
    [
        data("domain", "domain name, id or uuid", complete="domain"),
        integer("size", "new maximum memory size, as scaled integer (default KiB)", required=True),
        alias("kilobytes", "size"),
        flag("config", "affect next boot"),
        flag("live", "affect running domain"),
        flag("current", "affect current domain"),
    ],
)
def cmd_setmaxmem(ctx: Ctx, args: Args) -> bool:
    impact = _impact(args)
    dom = ctx.domain(args)
    size = args.scaled("size", 1024, ULONG_MAX)
    assert size is not None
    kib = -(-size // 1024)
    try:
        if impact < 0:
            dom.set_max_memory(kib)
        else:
            dom.set_memory(kib, impact | int(DomainMemoryModFlags.MAXIMUM))
    except VirtError as exc:
        raise CommandError("Unable to change MaxMemorySize", exc) from exc
    return True


@command(
    "setvcpus",
    "domain",
    "change number of virtual CPUs",
    "Change the number of virtual CPUs in the guest domain.",
    [
        data("domain", "domain name, id or uuid", complete="domain"),
        integer("count", "number of virtual CPUs", required=True),
        flag("maximum", "set maximum limit on next boot"),
        flag("config", "affect next boot"),
        flag("live", "affect running domain"),
        flag("current", "affect current domain"),
        flag("guest", "modify cpu state in the guest"),
        flag("hotpluggable", "make added vcpus hot(un)pluggable"),
    ],
)
def cmd_setvcpus(ctx: Ctx, args: Args) -> bool:
    _exclusive(args, "current", "live")
    _exclusive(args, "current", "config")
    _exclusive(args, "guest", "config")
    _requires(args, "maximum", "config")
    flags = 0
    for name, value in (
        ("config", DomainVcpuFlags.CONFIG),
        ("live", DomainVcpuFlags.LIVE),
        ("guest", DomainVcpuFlags.GUEST),
        ("maximum", DomainVcpuFlags.MAXIMUM),
        ("hotpluggable", DomainVcpuFlags.HOTPLUGGABLE),
    ):
        if args.flag(name):
            flags |= int(value)
    dom = ctx.domain(args)
    count = args.unsigned("count")
    assert count is not None
    if count == 0:
        raise VirtError(code=ErrorNumber.INVALID_ARG, message="Can't set 0 processors for a VM")
    if not args.flag("current") and flags == 0:
        # virDomainSetVcpus: drivers apply it to the live domain.
        flags = int(DomainVcpuFlags.LIVE)
    dom.set_vcpus(count, flags)
    return True


@command(
    "desc",
    "domain",
    "show or set domain's description or title",
    "Allows setting or modifying the description or title of a domain.",
    [
        data("domain", "domain name, id or uuid", complete="domain"),
        flag("live", "modify/get running state"),
        flag("config", "modify/get persistent configuration"),
        flag("current", "modify/get current state configuration"),
        flag("title", "modify/get the title instead of description"),
        flag("edit", "open an editor to modify the description"),
        argv("new-desc", "message"),
    ],
)
def cmd_desc(ctx: Ctx, args: Args) -> bool:
    _exclusive(args, "current", "live")
    _exclusive(args, "current", "config")
    flags = 0
    query = 0
    if args.flag("config"):
        flags |= int(DomainModificationImpact.CONFIG)
        query |= int(DomainXMLFlags.INACTIVE)
    if args.flag("live"):
        flags |= int(DomainModificationImpact.LIVE)
    dom = ctx.domain(args)
    title = args.flag("title")
    what = "title" if title else "description"
    kind = DomainMetadataType.TITLE if title else DomainMetadataType.DESCRIPTION
    text = " ".join(args.argv("new-desc")) or None
    if args.flag("edit") or text is not None:
        current = domain_description(dom, title, query)
        new = current if text is None else text
        if args.flag("edit"):
            edited = edit_text(ctx, new)
            if title and edited.endswith("\n"):
                edited = edited[:-1]
            if edited == current:
                ctx.extra(f"Domain {what} not changed\n")
                return True
            new = edited
        try:
            dom.set_metadata(kind, new, None, None, flags)
        except VirtError as exc:
            raise CommandError(f"Failed to set new domain {what}", exc) from exc
        ctx.extra(f"Domain {what} updated successfully")
        return True
    current = domain_description(dom, title, query)
    if current:
        ctx.print(current)
    else:
        ctx.extra(f"No {what} for domain: {dom.name}")
    return True


@command(
    "metadata",
    "domain",
    "show or set domain's custom XML metadata",
    "Shows or modifies the XML metadata of a domain.",
    [
        data("domain", "domain name, id or uuid", complete="domain"),
        data("uri", "URI of the namespace"),
        flag("live", "modify/get running state"),
        flag("config", "modify/get persistent configuration"),
        flag("current", "modify/get current state configuration"),
        flag("edit", "use an editor to change the metadata"),
        string("key", "key to be used as a namespace identifier"),
        string("set", "new metadata to set"),
        flag("remove", "remove the metadata corresponding to an uri"),
    ],
)
def cmd_metadata(ctx: Ctx, args: Args) -> bool:
    for first, second in (("edit", "set"), ("remove", "set"), ("remove", "edit")):
        if args.given(first) and args.given(second):
            raise CommandError(f"Options --{first} and --{second} are mutually exclusive")
    _exclusive(args, "current", "live")
    _exclusive(args, "current", "config")
    flags = 0
    if args.flag("config"):
        flags |= int(DomainModificationImpact.CONFIG)
    if args.flag("live"):
        flags |= int(DomainModificationImpact.LIVE)
    dom = ctx.domain(args)
    uri = args.require("uri")
    key = args.string("key")
    value = args.string("set")
    edit = args.flag("edit")
    if (value is not None or edit) and key is None:
        raise CommandError("namespace key is required when modifying metadata")
    element = DomainMetadataType.ELEMENT
    if value is not None or args.flag("remove"):
        dom.set_metadata(element, value, key, uri, flags)
        ctx.extra("Metadata removed\n" if args.flag("remove") else "Metadata modified\n")
        return True
    if edit:

        def fetch() -> str:
            try:
                return dom.metadata(element, uri, flags)
            except VirtError as exc:
                if exc.code != ErrorNumber.NO_DOMAIN_METADATA:
                    raise
                return "\n"

        outcome = edit_until_accepted(
            ctx, fetch, lambda xml: dom.set_metadata(element, xml, key, uri, flags)
        )
        if not outcome.changed:
            ctx.extra("Metadata not changed")
            return True
        ctx.extra("Metadata modified\n")
        return True
    ctx.print(dom.metadata(element, uri, flags) + "\n")
    return True


@command(
    "domrename",
    "domain",
    "rename a domain",
    "Rename an inactive domain.",
    [
        data("domain", "domain name or uuid", complete="domain"),
        data("new-name", "new domain name"),
    ],
)
def cmd_domrename(ctx: Ctx, args: Args) -> bool:
    dom = ctx.find_domain(args.require("domain"), by_id=False)
    dom.rename(args.require("new-name"), 0)
    ctx.extra("Domain successfully renamed\n")
    return True
