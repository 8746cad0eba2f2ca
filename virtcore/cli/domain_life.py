"""Domain lifecycle commands: define, undefine, create, start, shutdown, reboot, reset,
destroy, suspend, resume, save, restore, managedsave, managedsave-remove, autostart.

Messages, flag handling and failure wording follow virsh 9.0, including its
quirks: commands name the domain the way the user wrote it (``Domain '1'
destroyed``), ``start`` refuses an active domain itself ("Domain is already
active"), ``save`` and ``managedsave`` end their progress line with the
newline that starts their success message, and ``undefine`` only passes
the flags that matter for the domain's state (so a running domain is
undefined without managed-save or snapshot flags). ``restore`` also takes
``--verbose`` (a virtcore extension). ``start``/``create --pass-fds`` read
each descriptor number as libvirt's ``virStrToLong_i`` does and use the
``...WithFiles`` calls only when there is one; ``--console`` attaches the
terminal afterwards (:mod:`virtcore.cli.console`), and a console that
cannot be attached fails ``start`` but not ``create``, as in virsh.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable

from virtcore.cli.console import run_console
from virtcore.cli.context import CommandError, Ctx
from virtcore.cli.parser import Args, split_commas
from virtcore.cli.progress import progress_enabled, run_job
from virtcore.cli.spec import Handler, Opt, OptType, command, data, flag, string
from virtcore.cli.xmlview import elements, parse_xml, text_of
from virtcore.enums.domain import (
    DomainCreateFlags,
    DomainDestroyFlags,
    DomainSaveRestoreFlags,
    DomainShutdownFlags,
    DomainUndefineFlags,
)
from virtcore.enums.errors import ErrorNumber
from virtcore.enums.snapshot import DomainSnapshotListFlags
from virtcore.errors import NoSupportError, VirtError
from virtcore.objects import Domain, StorageVol

__all__: list[str] = []

logger = logging.getLogger(__name__)


# What libvirt's virStrToLong_i accepts: strtol's blanks and sign, then decimal digits only.
_C_INT = re.compile(r"[ \t\n\v\f\r]*([+-]?[0-9]+)")


def _parse_fds(args: Args) -> list[int]:
    """The ``--pass-fds N,M,...`` list; an empty value passes none, as in virsh."""
    text = args.string_quiet("pass-fds")
    if text is None:
        return []
    fds = []
    for item in text.split(","):
        number = _c_int(item)
        if number is None:
            raise CommandError(f"Unable to parse FD number '{item}'")
        fds.append(number)
    return fds


def _c_int(text: str) -> int | None:
    """*text* as a C ``int`` the way libvirt's ``virStrToLong_i`` reads it, else ``None``.

    Leading white space and a sign are allowed, nothing may follow the
    decimal digits, and the value must fit in 32 bits.
    """
    match = _C_INT.fullmatch(text)
    if match is None:
        return None
    value = int(match.group(1))
    return value if -(1 << 31) <= value < (1 << 31) else None


def _create_domain(ctx: Ctx, dom: Domain, fds: list[int], flags: int) -> None:
    """virsh's choice of API: with descriptors the files variant, else the plain create."""
    if fds:
        dom.create_with_files(fds, flags)
    else:
        dom.create(flags)


@command(
    "define",
    "domain",
    "define (but don't start) a domain from an XML file",
    "Define a domain.",
    [
        data("file", "file containing an XML domain description"),
        flag("validate", "validate the XML against the schema"),
    ],
)
def cmd_define(ctx: Ctx, args: Args) -> bool:
    path = args.require("file")
    flags = 1 if args.flag("validate") else 0
    xml = ctx.read_file(path)
    try:
        dom = ctx.conn.domain_define_xml(xml, flags)
    except VirtError as exc:
        raise CommandError(f"Failed to define domain from {path}", exc) from exc
    ctx.extra(f"Domain '{dom.name}' defined from {path}\n")
    return True


@command(
    "create",
    "domain",
    "create a domain from an XML file",
    "Create a domain.",
    [
        data("file", "file containing an XML domain description"),
        flag("console", "attach to console after creation"),
        flag("paused", "leave the guest paused after creation"),
        flag("autodestroy", "automatically destroy the guest when virsh disconnects"),
        string("pass-fds", "pass file descriptors N,M,... to the guest"),
        flag("validate", "validate the XML against the schema"),
        flag("reset-nvram", "re-initialize NVRAM from its pristine template"),
    ],
)
def cmd_create(ctx: Ctx, args: Args) -> bool:
    path = args.require("file")
    xml = ctx.read_file(path)
    fds = _parse_fds(args)
    flags = DomainCreateFlags.NONE
    for name, value in (
        ("paused", DomainCreateFlags.START_PAUSED),
        ("autodestroy", DomainCreateFlags.START_AUTODESTROY),
        ("validate", DomainCreateFlags.START_VALIDATE),
        ("reset-nvram", DomainCreateFlags.START_RESET_NVRAM),
    ):
        if args.flag(name):
            flags |= value
    try:
        if fds:
            dom = ctx.conn.domain_create_xml_with_files(xml, fds, int(flags))
        else:
            dom = ctx.conn.domain_create_xml(xml, int(flags))
    except VirtError as exc:
        raise CommandError(f"Failed to create domain from {path}", exc) from exc
    ctx.extra(f"Domain '{dom.name}' created from {path}\n")
    if args.flag("console"):
        # virsh reports a console that cannot be attached but still succeeds: the
        # domain was created.
        try:
            run_console(ctx, dom)
        except CommandError as exc:
            if exc.message is not None:
                ctx.error(exc.message)
        except VirtError:
            logger.debug("console of the new domain could not be opened", exc_info=True)
    return True


@command(
    "start",
    "domain",
    "start a (previously defined) inactive domain",
    "Start a domain, either from the last managedsave\n    state, or via a fresh boot if no"
    " managedsave state\n    is present.",
    [
        data("domain", "name of the inactive domain", complete="domain"),
        flag("console", "attach to console after creation"),
        flag("paused", "leave the guest paused after creation"),
        flag("autodestroy", "automatically destroy the guest when virsh disconnects"),
        flag("bypass-cache", "avoid file system cache when loading"),
        flag("force-boot", "force fresh boot by discarding any managed save"),
        string("pass-fds", "pass file descriptors N,M,... to the guest"),
        flag("reset-nvram", "re-initialize NVRAM from its pristine template"),
    ],
)
def cmd_start(ctx: Ctx, args: Args) -> bool:
    dom = ctx.find_domain(args.require("domain"), by_id=False)
    if dom.id >= 0:
        raise CommandError("Domain is already active")
    fds = _parse_fds(args)
    flags = DomainCreateFlags.NONE
    for name, value in (
        ("paused", DomainCreateFlags.START_PAUSED),
        ("autodestroy", DomainCreateFlags.START_AUTODESTROY),
        ("bypass-cache", DomainCreateFlags.START_BYPASS_CACHE),
        ("force-boot", DomainCreateFlags.START_FORCE_BOOT),
        ("reset-nvram", DomainCreateFlags.START_RESET_NVRAM),
    ):
        if args.flag(name):
            flags |= value
    started = False
    if flags & DomainCreateFlags.START_FORCE_BOOT:
        try:
            _create_domain(ctx, dom, fds, int(flags))
            started = True
        except VirtError as exc:
            if exc.code not in (ErrorNumber.NO_SUPPORT, ErrorNumber.INVALID_ARG):
                raise
            # Emulate a forced boot: drop the managed save image, then boot normally.
            try:
                if dom.has_managed_save_image():
                    dom.managed_save_remove()
            except NoSupportError:
                logger.debug("no managed save support; nothing to discard")
            flags &= ~DomainCreateFlags.START_FORCE_BOOT
    if not started:
        try:
            _create_domain(ctx, dom, fds, int(flags))
        except VirtError as exc:
            raise CommandError(f"Failed to start domain '{dom.name}'", exc) from exc
    ctx.extra(f"Domain '{dom.name}' started\n")
    if args.flag("console"):
        run_console(ctx, dom)
    return True


def _undefine_flags(args: Args) -> int:
    flags = 0
    for name, value in (
        ("managed-save", DomainUndefineFlags.MANAGED_SAVE),
        ("snapshots-metadata", DomainUndefineFlags.SNAPSHOTS_METADATA),
        ("checkpoints-metadata", DomainUndefineFlags.CHECKPOINTS_METADATA),
        ("nvram", DomainUndefineFlags.NVRAM),
        ("keep-nvram", DomainUndefineFlags.KEEP_NVRAM),
        ("tpm", DomainUndefineFlags.TPM),
        ("keep-tpm", DomainUndefineFlags.KEEP_TPM),
    ):
        if args.flag(name):
            flags |= int(value)
    return flags


def _count(call: Callable[..., object], *params: int) -> int:
    """A count the driver may not support (treated as zero, like virsh)."""
    try:
        result = call(*params)
    except NoSupportError:
        return 0
    return int(result) if isinstance(result, (int, bool)) else 0


@command(
    "undefine",
    "domain",
    "undefine a domain",
    "Undefine an inactive domain, or convert persistent to transient.",
    [
        data("domain", "domain name, id or uuid", complete="domain"),
        flag("managed-save", "remove domain managed state file"),
        string(
            "storage",
            "remove associated storage volumes (comma separated list of targets or source"
            " paths) (see domblklist)",
        ),
        flag("remove-all-storage", "remove all associated storage volumes (use with caution)"),
        flag(
            "delete-storage-volume-snapshots",
            "delete snapshots associated with volume(s), requires --remove-all-storage (must"
            " be supported by storage driver)",
        ),
        flag("wipe-storage", "wipe data on the removed volumes"),
        flag("snapshots-metadata", "remove all domain snapshot metadata (vm must be inactive)"),
        flag("checkpoints-metadata", "remove all domain checkpoint metadata (vm must be inactive)"),
        flag("nvram", "remove nvram file"),
        flag("keep-nvram", "keep nvram file"),
        flag("tpm", "remove TPM state"),
        flag("keep-tpm", "keep TPM state"),
    ],
)
def cmd_undefine(ctx: Ctx, args: Args) -> bool:
    if args.flag("delete-storage-volume-snapshots") and not args.flag("remove-all-storage"):
        raise CommandError(
            "Option --remove-all-storage is required by option --delete-storage-volume-snapshots"
        )
    for first, second in (("nvram", "keep-nvram"), ("tpm", "keep-tpm")):
        if args.flag(first) and args.flag(second):
            raise CommandError(f"Options --{first} and --{second} are mutually exclusive")
    vol_string = args.string("storage") if args.given("storage") else None
    remove_all = args.flag("remove-all-storage")
    if args.flag("wipe-storage") and not (vol_string or remove_all):
        raise CommandError(
            "'--wipe-storage' requires '--storage <string>' or '--remove-all-storage'"
        )
    name = args.require("domain")
    dom = ctx.find_domain(name)
    flags = _undefine_flags(args)
    running = dom.is_active()
    has_managed = has_snap_meta = has_ckpt = 0
    if not running:
        has_managed = int(_count(dom.has_managed_save_image))
        if _count(dom.snapshot_num):
            has_snap_meta = _count(dom.snapshot_num, int(DomainSnapshotListFlags.METADATA))
        try:
            has_ckpt = len(dom.list_all_checkpoints())
        except NoSupportError:
            has_ckpt = 0
    if not has_managed:
        flags &= ~int(DomainUndefineFlags.MANAGED_SAVE)
    if not has_snap_meta:
        flags &= ~int(DomainUndefineFlags.SNAPSHOTS_METADATA)
    if not has_ckpt:
        flags &= ~int(DomainUndefineFlags.CHECKPOINTS_METADATA)
    volumes = []
    if vol_string or remove_all:
        if running:
            raise CommandError("Storage volume deletion is supported only on stopped domains")
        if vol_string and remove_all:
            raise CommandError("Specified both --storage and --remove-all-storage")
        volumes = _volumes_to_remove(ctx, dom.xml_desc(0), vol_string)
    try:
        dom.undefine(flags)
    except VirtError as exc:
        raise CommandError(f"Failed to undefine domain '{name}'", exc) from exc
    ctx.extra(f"Domain '{name}' has been undefined\n")
    ok = True
    vol_flags = 1 if args.flag("delete-storage-volume-snapshots") else 0
    for target, source, vol in volumes:
        if args.flag("wipe-storage"):
            ctx.extra(f"Wiping volume '{target}'({source}) ... ")
            ctx.out.flush()
            try:
                vol.wipe(0)
            except VirtError:
                ctx.error("Failed! Volume not removed.")
                ok = False
                continue
            ctx.extra("Done.\n")
        try:
            vol.delete(vol_flags)
        except VirtError:
            ctx.error(f"Failed to remove storage volume '{target}'({source})")
            ok = False
        else:
            ctx.extra(f"Removed storage volume '{target}'({source})\n")
    return ok


def _volumes_to_remove(
    ctx: Ctx, xml: str, vol_string: str | None
) -> list[tuple[str, str, StorageVol]]:
    wanted = split_commas(vol_string) if vol_string else None
    found: list[tuple[str, str, StorageVol]] = []
    for disk in elements(parse_xml(xml), "./devices/disk"):
        target = text_of(disk, "./target/@dev")
        source = text_of(
            disk, "./source/@file|./source/@dir|./source/@name|./source/@dev|./source/@volume"
        )
        if not source:
            continue
        if wanted is not None:
            matches = [i for i, w in enumerate(wanted) if w in (target, source)]
            if not matches:
                continue
            wanted[matches[0]] = "\0"
        pool_name = text_of(disk, "./source/@pool")
        try:
            if pool_name:
                try:
                    pool = ctx.conn.storage_pool_lookup_by_name(pool_name)
                except VirtError:
                    ctx.error(f"Storage pool '{pool_name}' for volume '{target}' not found.")
                    continue
                vol = pool.vol_lookup_by_name(source)
            else:
                vol = ctx.conn.storage_vol_lookup_by_path(source)
        except VirtError:
            ctx.error(
                f"Storage volume '{target}'({source}) is not managed by libvirt. "
                "Remove it manually.\n"
            )
            continue
        found.append((target, source, vol))
    if wanted is not None:
        missing = [w for w in wanted if w != "\0"]
        for item in missing:
            ctx.error(f"Volume '{item}' was not found in domain's definition.\n")
        if missing:
            raise CommandError(None)
    return found


_MODES = {
    "acpi": DomainShutdownFlags.ACPI_POWER_BTN,
    "agent": DomainShutdownFlags.GUEST_AGENT,
    "initctl": DomainShutdownFlags.INITCTL,
    "signal": DomainShutdownFlags.SIGNAL,
    "paravirt": DomainShutdownFlags.PARAVIRT,
}


def _mode_flags(args: Args) -> int:
    text = args.string("mode")
    flags = 0
    for mode in text.split(",") if text is not None else []:
        if mode not in _MODES:
            raise CommandError(
                f"Unknown mode {mode} value, expecting 'acpi', 'agent', 'initctl', 'signal', "
                "or 'paravirt'"
            )
        flags |= int(_MODES[mode])
    return flags


_MODE_OPTS = [
    data("domain", "domain name, id or uuid", complete="domain"),
    string("mode", "shutdown mode: acpi|agent|initctl|signal|paravirt"),
]


@command(
    "shutdown",
    "domain",
    "gracefully shutdown a domain",
    "Run shutdown in the target domain.",
    _MODE_OPTS,
)
def cmd_shutdown(ctx: Ctx, args: Args) -> bool:
    flags = _mode_flags(args)
    name = args.require("domain")
    dom = ctx.find_domain(name)
    try:
        dom.shutdown(flags)
    except VirtError as exc:
        raise CommandError(f"Failed to shutdown domain '{name}'", exc) from exc
    ctx.extra(f"Domain '{name}' is being shutdown\n")
    return True


@command(
    "reboot", "domain", "reboot a domain", "Run a reboot command in the target domain.", _MODE_OPTS
)
def cmd_reboot(ctx: Ctx, args: Args) -> bool:
    flags = _mode_flags(args)
    name = args.require("domain")
    dom = ctx.find_domain(name)
    try:
        dom.reboot(flags)
    except VirtError as exc:
        raise CommandError(f"Failed to reboot domain '{name}'", exc) from exc
    ctx.extra(f"Domain '{name}' is being rebooted\n")
    return True


def _simple(verb: str, done: str, call: str) -> Handler:
    def handler(ctx: Ctx, args: Args) -> bool:
        name = args.require("domain")
        dom = ctx.find_domain(name)
        try:
            getattr(dom, call)()
        except VirtError as exc:
            raise CommandError(f"Failed to {verb} domain '{name}'", exc) from exc
        ctx.extra(f"Domain '{name}' {done}\n")
        return True

    return handler


_DOMAIN_OPT = [data("domain", "domain name, id or uuid", complete="domain")]

command(
    "reset",
    "domain",
    "reset a domain",
    "Reset the target domain as if by power button",
    _DOMAIN_OPT,
)(_simple("reset", "was reset", "reset"))
command("suspend", "domain", "suspend a domain", "Suspend a running domain.", _DOMAIN_OPT)(
    _simple("suspend", "suspended", "suspend")
)
command(
    "resume", "domain", "resume a domain", "Resume a previously suspended domain.", _DOMAIN_OPT
)(_simple("resume", "resumed", "resume"))


@command(
    "destroy",
    "domain",
    "destroy (stop) a domain",
    "Forcefully stop a given domain, but leave its resources intact.",
    [
        data("domain", "domain name, id or uuid", complete="domain"),
        flag("graceful", "terminate gracefully"),
        flag("remove-logs", "remove domain logs"),
    ],
)
def cmd_destroy(ctx: Ctx, args: Args) -> bool:
    name = args.require("domain")
    dom = ctx.find_domain(name)
    flags = DomainDestroyFlags.DEFAULT
    if args.flag("graceful"):
        flags |= DomainDestroyFlags.GRACEFUL
    if args.flag("remove-logs"):
        flags |= DomainDestroyFlags.REMOVE_LOGS
    try:
        dom.destroy(int(flags))
    except VirtError as exc:
        raise CommandError(f"Failed to destroy domain '{name}'", exc) from exc
    ctx.extra(f"Domain '{name}' destroyed\n")
    return True


def _save_flags(args: Args) -> int:
    flags = 0
    for name, value in (
        ("bypass-cache", DomainSaveRestoreFlags.BYPASS_CACHE),
        ("running", DomainSaveRestoreFlags.RUNNING),
        ("paused", DomainSaveRestoreFlags.PAUSED),
        ("reset-nvram", DomainSaveRestoreFlags.RESET_NVRAM),
    ):
        if args.command.option(name) is not None and args.flag(name):
            flags |= int(value)
    return flags


def _job_poll(dom: Domain) -> tuple[int, int] | None:
    info = dom.job_info()
    if info.data_total:
        return int(info.data_remaining), int(info.data_total)
    return None


@command(
    "save",
    "domain",
    "save a domain state to a file",
    "Save the RAM state of a running domain.",
    [
        data("domain", "domain name, id or uuid", complete="domain"),
        data("file", "where to save the data"),
        flag("bypass-cache", "avoid file system cache when saving"),
        string("xml", "filename containing updated XML for the target"),
        flag("running", "set domain to be running on restore"),
        flag("paused", "set domain to be paused on restore"),
        flag("verbose", "display the progress of save"),
    ],
)
def cmd_save(ctx: Ctx, args: Args) -> bool:
    path = args.require("file")
    flags = _save_flags(args)
    xml_path = args.string("xml")
    name = args.require("domain")
    dom = ctx.find_domain(name)
    xml = ctx.read_file(xml_path) if xml_path is not None else None
    show = progress_enabled(ctx, args.flag("verbose"))
    try:
        # libvirt's public API resolves relative paths before the driver sees them.
        target = os.path.abspath(path)
        run_job(ctx, "Save", show, lambda: dom.save(target, xml, flags), lambda: _job_poll(dom))
    except VirtError as exc:
        raise CommandError(f"Failed to save domain '{name}' to {path}", exc) from exc
    ctx.extra(f"\nDomain '{name}' saved to {path}\n")
    return True


@command(
    "restore",
    "domain",
    "restore a domain from a saved state in a file",
    "Restore a domain.",
    [
        data("file", "the state to restore"),
        flag("bypass-cache", "avoid file system cache when restoring"),
        string("xml", "filename containing updated XML for the target"),
        flag("running", "restore domain into running state"),
        flag("paused", "restore domain into paused state"),
        flag("reset-nvram", "re-initialize NVRAM from its pristine template"),
        Opt("verbose", OptType.BOOL, "display the progress of restore", hidden=True),
    ],
)
def cmd_restore(ctx: Ctx, args: Args) -> bool:
    path = args.require("file")
    flags = _save_flags(args)
    xml_path = args.string("xml")
    xml = ctx.read_file(xml_path) if xml_path is not None else None
    show = progress_enabled(ctx, args.flag("verbose"))
    try:
        source = os.path.abspath(path)
        run_job(ctx, "Restore", show, lambda: ctx.conn.domain_restore(source, xml, flags))
    except VirtError as exc:
        raise CommandError(f"Failed to restore domain from {path}", exc) from exc
    if show:
        ctx.err.write("\n")
    ctx.extra(f"Domain restored from {path}\n")
    return True


@command(
    "managedsave",
    "domain",
    "managed save of a domain state",
    "Save and destroy a running domain, so it can be restarted from\n    the same state at a"
    " later time.  When the virsh 'start'\n    command is next run for the domain, it will"
    " automatically\n    be started from this saved state.",
    [
        data("domain", "domain name, id or uuid", complete="domain"),
        flag("bypass-cache", "avoid file system cache when saving"),
        flag("running", "set domain to be running on next start"),
        flag("paused", "set domain to be paused on next start"),
        flag("verbose", "display the progress of save"),
    ],
)
def cmd_managedsave(ctx: Ctx, args: Args) -> bool:
    flags = _save_flags(args)
    name = args.require("domain")
    dom = ctx.find_domain(name)
    show = progress_enabled(ctx, args.flag("verbose"))
    try:
        run_job(ctx, "Managedsave", show, lambda: dom.managed_save(flags), lambda: _job_poll(dom))
    except VirtError as exc:
        raise CommandError(f"Failed to save domain '{name}' state", exc) from exc
    ctx.extra(f"\nDomain '{name}' state saved by libvirt\n")
    return True


@command(
    "managedsave-remove",
    "domain",
    "Remove managed save of a domain",
    "Remove an existing managed save state file from a domain",
    [data("domain", "domain name, id or uuid", complete="domain")],
)
def cmd_managedsave_remove(ctx: Ctx, args: Args) -> bool:
    name = args.require("domain")
    dom = ctx.find_domain(name)
    try:
        has_image = dom.has_managed_save_image()
    except VirtError as exc:
        raise CommandError("Failed to check for domain managed save image", exc) from exc
    if not has_image:
        ctx.extra(f"Domain '{name}' has no manage save image; removal skipped")
        return True
    try:
        dom.managed_save_remove()
    except VirtError as exc:
        raise CommandError(f"Failed to remove managed save image for domain '{name}'", exc) from exc
    ctx.extra(f"Removed managedsave image for domain '{name}'")
    return True


@command(
    "autostart",
    "domain",
    "autostart a domain",
    "Configure a domain to be automatically started at boot.",
    [
        data("domain", "domain name, id or uuid", complete="domain"),
        flag("disable", "disable autostarting"),
    ],
)
def cmd_autostart(ctx: Ctx, args: Args) -> bool:
    name = args.require("domain")
    dom = ctx.find_domain(name)
    enable = not args.flag("disable")
    try:
        dom.set_autostart(enable)
    except VirtError as exc:
        verb = "mark" if enable else "unmark"
        raise CommandError(f"Failed to {verb} domain '{name}' as autostarted", exc) from exc
    ctx.extra(f"Domain '{name}' {'marked' if enable else 'unmarked'} as autostarted\n")
    return True
