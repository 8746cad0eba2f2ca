"""virsh compatibility of the commands that open an editor: edit, desc --edit, metadata --edit.

The editor is chosen through ``$EDITOR`` for both virsh and virtcore: ``cat``
(shows the text, changes nothing), ``false`` (fails), ``sed`` (changes the
domain XML) and a script that replaces the text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.differential import assert_same

REPLACE = '#!/bin/sh\necho "new text" > "$1"\n'

CASES = {
    "edit-unchanged": ("cat", "edit test"),
    "edit-changes-config": ("sed -i s/2097152/1048576/", "edit test; dumpxml test --inactive"),
    "edit-editor-fails": ("false", "edit test"),
    "desc-edit-unchanged": ("cat", "desc test --edit"),
    "desc-title-edit-unchanged": ("cat", "desc test --title --edit"),
    "desc-edit-replaced": ("{script}", "desc test --edit; desc test"),
    "desc-title-edit-replaced": ("{script}", "desc test --title --edit; desc test --title"),
    "desc-edit-editor-fails": ("false", "desc test --edit"),
    "metadata-edit-unchanged": ("cat", "metadata test http://x/y --key k --edit"),
    "metadata-edit-editor-fails": ("false", "metadata test http://x/y --key k --edit"),
}


@pytest.mark.parametrize(("editor", "line"), CASES.values(), ids=CASES.keys())
def test_editing_commands_match_virsh(
    editor: str, line: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = workdir / "replace.sh"
    script.write_text(REPLACE)
    script.chmod(0o755)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", editor.format(script=script))
    assert_same(line, workdir, masks=["editor-file"])
