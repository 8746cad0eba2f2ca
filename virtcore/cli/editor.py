"""Editing a document in the user's editor, as virsh's ``edit`` commands do.

The text goes to a private temporary file (``$TMPDIR``, default ``/tmp``),
the editor named by ``$VISUAL``, then ``$EDITOR``, then ``vi`` runs on it
with the terminal's standard streams, and the file is read back. An editor
name made only of safe characters runs directly; anything else runs through
``sh -c`` (so ``EDITOR="emacs -nw"`` works), which is refused if the
temporary file's name itself contains shell metacharacters.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from virtcore.cli.context import CommandError, Ctx
from virtcore.errors import InternalError, VirtError

__all__ = ["EditOutcome", "edit_text", "edit_until_accepted"]

logger = logging.getLogger(__name__)

_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:@/")


def _editor(ctx: Ctx) -> str:
    return ctx.environ.get("VISUAL") or ctx.environ.get("EDITOR") or "vi"


def edit_text(ctx: Ctx, text: str, suffix: str = ".xml") -> str:
    """Let the user edit *text*; returns the edited text.

    Raises :class:`CommandError` when the editor cannot run or exits with
    a failure status.
    """
    tmpdir = ctx.environ.get("TMPDIR") or "/tmp"
    fd, path = tempfile.mkstemp(prefix="virtcore", suffix=suffix, dir=tmpdir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        editor = _editor(ctx)
        if set(editor) <= _SAFE:
            argv = [editor, path]
            shown = f"{editor} {path}"
        else:
            if not set(path) <= _SAFE:
                raise CommandError(
                    f"{path}: temporary filename contains shell meta or other unacceptable "
                    "characters (is $TMPDIR wrong?)"
                )
            shown = f"{editor} {path}"
            argv = ["sh", "-c", shown]
        logger.debug("running editor: %s", shlex.join(argv))
        try:
            status = _run_editor(ctx, argv)
        except OSError as exc:
            raise CommandError(
                None, InternalError(f"Cannot run editor {editor}: {exc.strerror}")
            ) from exc
        if status != 0:
            raise CommandError(
                None, InternalError(f"Child process ({shown}) unexpected exit status {status}")
            )
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        except OSError as exc:
            raise CommandError(f"Failed to read file '{path}': {exc.strerror}") from exc
    finally:
        try:
            os.unlink(path)
        except OSError:
            logger.debug("temporary file %s already gone", path)


def _run_editor(ctx: Ctx, argv: list[str]) -> int:
    """Run the editor on the session's own terminal streams when they are real files.

    Captured streams (a session embedded in another program) get the
    editor's output copied into them instead.
    """
    streams: list[int | None] = []
    for stream in (ctx.out, ctx.err):
        try:
            stream.flush()
            streams.append(stream.fileno())
        except (AttributeError, OSError, ValueError):
            streams.append(subprocess.PIPE)
    proc = subprocess.run(
        argv, env=ctx.environ, stdout=streams[0], stderr=streams[1], check=False, text=True
    )
    if proc.stdout:
        ctx.out.write(proc.stdout)
    if proc.stderr:
        ctx.err.write(proc.stderr)
    return proc.returncode


@dataclass
class EditOutcome:
    """How an edit session ended: ``changed`` is False when the user saved no change."""

    changed: bool
    result: object = None


def edit_until_accepted(
    ctx: Ctx,
    fetch: Callable[[], str],
    apply: Callable[[str], object],
) -> EditOutcome:
    """virsh's edit loop: edit *fetch()*'s text and *apply* it if it changed.

    If the object changed meanwhile the edit is refused ("The XML
    configuration was changed by another user."). A failed *apply* ends the
    command with the library's error; virsh offers to re-edit only on a
    terminal, which a non-interactive run never is.
    """
    original = fetch()
    edited = edit_text(ctx, original)
    if edited == original:
        return EditOutcome(False)
    current = fetch()
    if current != original:
        raise CommandError("The XML configuration was changed by another user.")
    try:
        return EditOutcome(True, apply(edited))
    except VirtError as exc:
        raise CommandError(None, exc) from exc
