"""The ``virtcore`` command: a virsh-compatible shell with JSON output.

``virtcore`` accepts virsh 9.0's global options, commands, options and
output formats, so scripts written for virsh run unchanged; it adds
``--json`` to listing and info commands, progress bars for long transfers,
``backends`` and shell completion scripts. See ``docs/cli.md``.

Modules: :mod:`.main` (global options, one-shot mode, exit status),
:mod:`.shell` (interactive mode), :mod:`.parser` (virsh's command grammar),
:mod:`.spec` (command definitions, ``help``), :mod:`.context` (session
state, object lookups, errors), :mod:`.format` (tables, sizes, JSON), and one
module per command family (``*_cmds``, ``domain_*``).
"""

from virtcore.cli.main import main

__all__ = ["main"]
