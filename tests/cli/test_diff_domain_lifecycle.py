"""virsh compatibility of the domain lifecycle commands on ``test:///default``.

define, create, start, undefine, shutdown, reboot, destroy, suspend,
resume, save, restore, managedsave and autostart, successful and failing;
see :mod:`tests.cli.differential` for the masks and for how virsh's own
``save`` hang is handled.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.differential import assert_same

# Lifecycle.
LIFECYCLE = {
    "define-start-twice-create": (
        "define new.xml; define new.xml; list --all; start new; start new; create new.xml"
    ),
    "define-malformed": "define bad.xml",
    "define-without-name": "define noname.xml",
    "define-validate": "define new.xml --validate",
    "define-missing-file": "define nosuch.xml",
    "define-directory": "define /",
    "create-then-destroy-transient": "create new.xml; list --all; destroy new; list --all",
    "create-paused-unsupported": "create new.xml --paused",
    "undefine-running-then-destroy": "undefine test; list --all; destroy test; list --all",
    "undefine-inactive": "destroy test; undefine test; list --all",
    "undefine-flags-running": "undefine test --managed-save --snapshots-metadata --nvram",
    "undefine-storage-running": "undefine test --remove-all-storage",
    "undefine-exclusive": "undefine test --nvram --keep-nvram",
    "undefine-wipe-needs-storage": "undefine test --wipe-storage",
    "undefine-requires-remove-all": "undefine test --delete-storage-volume-snapshots",
    "shutdown-mode-unsupported": "shutdown test --mode acpi",
    "shutdown-mode-unknown": "shutdown test --mode bogus",
    "reboot-mode": "reboot test --mode agent",
    "destroy-graceful": "destroy test --graceful",
    "destroy-remove-logs-unsupported": "destroy test --remove-logs",
    "suspend-resume-twice": "suspend test; suspend test; resume test; resume test",
    "operations-on-inactive": (
        "destroy test; reset test; reboot test; shutdown test; managedsave test; autostart test"
    ),
    "destroy-twice": "destroy test; destroy test",
    "start-running": "start test",
    "start-force-boot-after-managedsave": "managedsave test; start test --force-boot",
    "start-pass-fds-malformed": "destroy test; start test --pass-fds 1,x",
    "start-pass-fds-trailing-comma": "destroy test; start test --pass-fds 3,",
    "start-pass-fds-out-of-range": "destroy test; start test --pass-fds 99999999999",
    "start-pass-fds-hexadecimal": "destroy test; start test --pass-fds 0x3",
    "start-pass-fds-empty-passes-none": "destroy test; start test --pass-fds ''",
    "start-pass-fds-running": "start test --pass-fds x",
    "start-console-without-tty": "destroy test; start test --console",
    "start-console-paused-unsupported": "destroy test; start test --console --paused",
    "create-pass-fds-malformed": "create new.xml --pass-fds 4,-x",
    "create-pass-fds-missing-file": "create nosuch.xml --pass-fds x",
    "create-console-without-tty": "create new.xml --console; list",
    "managedsave-remove": (
        "managedsave test; dominfo test; managedsave-remove test; managedsave-remove test"
    ),
    "save-restore": (
        "save test sv.img; save test sv.img; restore sv.img; restore sv.img; restore none.img"
    ),
    "save-exclusive-flags": "save test sv2.img --running --paused",
    "save-verbose-progress": "save test sv.img --verbose",
    "managedsave-verbose-progress": "managedsave test --verbose",
    "restore-flags-unsupported": "save test sv.img; restore sv.img --running",
    "names-as-typed": (
        "suspend 1; resume 6695eb01-f6a4-8304-79aa-97f2502e193f; autostart 1; destroy 1"
    ),
    "autostart-disable": "autostart test; autostart test --disable; dominfo test",
}


@pytest.mark.parametrize("line", LIFECYCLE.values(), ids=LIFECYCLE.keys())
def test_lifecycle_commands_match_virsh(line: str, workdir: Path) -> None:
    assert_same(line, workdir, masks=["cpu-time", "random-uuid"])
