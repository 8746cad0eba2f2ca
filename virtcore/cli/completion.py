"""Completion of command names, options and object names, and shell completion scripts.

:func:`complete_words` answers "what may come next" for a partly typed
command line: command names first, then the command's ``--options``, then
values for the option being filled - domain, network, pool, volume,
interface, node device, secret, network filter or snapshot names from the
open connection, command names after ``help``. The interactive shell
(:mod:`virtcore.cli.shell`) uses it through readline; the bash and zsh
scripts printed by ``virtcore completion bash|zsh`` call the hidden
``virtcore complete -- WORD...`` command, which prints one candidate per
line and never fails (a connection error only drops object names).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from virtcore.cli.context import Ctx
from virtcore.cli.parser import Args
from virtcore.cli.spec import COMMANDS, Command, Opt, OptType, argv, command

__all__ = ["complete_words", "script"]

logger = logging.getLogger(__name__)


def _domain_names(ctx: Ctx, cmd_words: list[str]) -> list[str]:
    return [d.name for d in ctx.conn.list_all_domains(0)]


def _snapshot_names(ctx: Ctx, cmd_words: list[str]) -> list[str]:
    cmd = COMMANDS.get(cmd_words[0]) if cmd_words else None
    if cmd is None:
        return []
    domain = _value_of(cmd, cmd_words[1:], "domain")
    if domain is None:
        return []
    return [s.name for s in ctx.find_domain(domain).list_all_snapshots(0)]


def _volume_names(ctx: Ctx, cmd_words: list[str]) -> list[str]:
    cmd = COMMANDS.get(cmd_words[0]) if cmd_words else None
    pool = _value_of(cmd, cmd_words[1:], "pool") if cmd is not None else None
    if pool is not None:
        return [v.name for v in ctx.find_pool(pool).list_all_volumes(0)]
    paths = []
    for each in ctx.conn.list_all_storage_pools(0):
        if each.is_active():
            paths += [v.path() for v in each.list_all_volumes(0)]
    return paths


_SOURCES: dict[str, Callable[[Ctx, list[str]], list[str]]] = {
    "domain": _domain_names,
    "network": lambda ctx, _: [n.name for n in ctx.conn.list_all_networks(0)],
    "pool": lambda ctx, _: [p.name for p in ctx.conn.list_all_storage_pools(0)],
    "volume": _volume_names,
    "interface": lambda ctx, _: [i.name for i in ctx.conn.list_all_interfaces(0)],
    "nodedev": lambda ctx, _: [d.name for d in ctx.conn.list_all_node_devices(0)],
    "secret": lambda ctx, _: [s.uuid for s in ctx.conn.list_all_secrets(0)],
    "nwfilter": lambda ctx, _: [f.name for f in ctx.conn.list_all_nwfilters(0)],
    "snapshot": _snapshot_names,
    "command": lambda ctx, _: sorted(COMMANDS),
}


def _kind(cmd: Command, opt: Opt) -> str | None:
    if opt.complete is not None:
        return opt.complete
    if cmd.name == "help" and opt.name == "command":
        return "command"
    if opt.name in ("snapshotname", "from") and cmd.name.startswith("snapshot-"):
        return "snapshot"
    if opt.name in ("pool", "inputpool"):
        return "pool"
    return None


def _fill(cmd: Command, words: list[str]) -> tuple[dict[str, str], Opt | None]:
    """Options given in *words* and the option the next word would fill."""
    given: dict[str, str] = {}
    positional = [
        o for o in cmd.opts if o.takes_value and o.positional and o.type is not OptType.ALIAS
    ]
    pending: Opt | None = None
    for word in words:
        if pending is not None:
            given[pending.name] = word
            pending = None
            continue
        if word.startswith("--") and len(word) > 2:
            name, eq, value = word[2:].partition("=")
            opt = cmd.option(name)
            if opt is None:
                continue
            if opt.type is OptType.BOOL:
                given[opt.name] = ""
            elif eq:
                given[opt.name] = value
            else:
                pending = opt
            continue
        target = next((o for o in positional if o.name not in given), None)
        if target is not None:
            given[target.name] = word
    if pending is not None:
        return given, pending
    return given, next((o for o in positional if o.name not in given), None)


def _value_of(cmd: Command | None, words: list[str], name: str) -> str | None:
    if cmd is None:
        return None
    return _fill(cmd, words)[0].get(name)


def complete_words(ctx: Ctx | None, words: list[str]) -> list[str]:
    """Candidates for the last of *words* (``""`` when starting a new word)."""
    if not words:
        words = [""]
    current = words[-1]
    before = words[:-1]
    if ";" in before:
        before = before[len(before) - before[::-1].index(";") :]
    if not before:
        return sorted(name for name in COMMANDS if name.startswith(current))
    cmd = COMMANDS.get(before[0])
    if cmd is None:
        return []
    given, target = _fill(cmd, before[1:])
    if current.startswith("-"):
        names = [
            f"--{o.name}"
            for o in cmd.opts
            if o.type is not OptType.ALIAS and (o.name not in given or o.type is OptType.ARGV)
        ]
        return sorted(n for n in names if n.startswith(current))
    if target is None or ctx is None:
        return []
    kind = _kind(cmd, target)
    source = _SOURCES.get(kind) if kind else None
    if source is None:
        return []
    try:
        names = source(ctx, before)
    except Exception:  # completion must never break the shell
        logger.debug("no completions for %s", kind, exc_info=True)
        return []
    return sorted({n for n in names if n.startswith(current)})


@command(
    "complete",
    "virtcore",
    "print completions for a partial command line",
    "Prints the possible next words, one per line, for shell completion scripts.",
    [argv("words", "the command line so far; the last word is the one to complete")],
    connect=False,
    extension=True,
)
def cmd_complete(ctx: Ctx, args: Args) -> bool:
    session: Ctx | None = ctx
    try:
        ctx.conn  # noqa: B018 - object names need a connection; without one, skip them
    except Exception:
        session = None
    words = args.argv("words")
    ctx.print("".join(f"{word}\n" for word in complete_words(session, words)))
    ctx.skip_separator = True
    return True


_BASH = r"""# bash completion for virtcore                                -*- shell-script -*-
_virtcore_complete()
{
    local cur=${COMP_WORDS[COMP_CWORD]}
    local -a global=()
    local i=1
    while [ $i -lt $COMP_CWORD ]; do
        case "${COMP_WORDS[$i]}" in
            -c|--connect|-d|--debug|-e|--escape|-k|--keepalive-interval|-K|--keepalive-count\
            |-l|--log)
                global+=("${COMP_WORDS[$i]}" "${COMP_WORDS[$((i+1))]}")
                i=$((i+2)); continue ;;
            --connect=*|-r|--readonly|-q|--quiet)
                global+=("${COMP_WORDS[$i]}"); i=$((i+1)); continue ;;
            -*)
                i=$((i+1)); continue ;;
        esac
        break
    done
    if [ $i -eq $COMP_CWORD ] && [[ "$cur" == -* ]]; then
        local opts="-c --connect -d --debug -e --escape -h --help -k -K -l --log"
        opts+=" -q --quiet -r --readonly -t --timing -v -V --version"
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return 0
    fi
    local IFS=$'\n'
    local -a typed=("${COMP_WORDS[@]:$i:$((COMP_CWORD-i))}")
    COMPREPLY=($("${COMP_WORDS[0]}" "${global[@]}" -q complete -- "${typed[@]}" "$cur" \
               2>/dev/null))
    if [ ${#COMPREPLY[@]} -eq 0 ]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
    return 0
}
complete -o default -F _virtcore_complete virtcore
"""

_ZSH = r"""#compdef virtcore
# zsh completion for virtcore
_virtcore() {
    local -a global candidates
    local i=2
    while (( i < CURRENT )); do
        case "${words[i]}" in
            -c|--connect|-d|--debug|-e|--escape|-k|--keepalive-interval|-K|--keepalive-count\
            |-l|--log)
                global+=("${words[i]}" "${words[i+1]}"); (( i += 2 )); continue ;;
            --connect=*|-r|--readonly|-q|--quiet)
                global+=("${words[i]}"); (( i += 1 )); continue ;;
            -*)
                (( i += 1 )); continue ;;
        esac
        break
    done
    local -a typed=(${words[i,CURRENT-1]})
    candidates=("${(@f)$(${words[1]} $global -q complete -- $typed "${words[CURRENT]}" \
                         2>/dev/null)}")
    candidates=(${candidates:#})
    if (( ${#candidates} )); then
        compadd -- $candidates
    else
        _files
    fi
}
compdef _virtcore virtcore
"""


def script(shell: str) -> str:
    """The completion script for *shell* (``bash`` or ``zsh``)."""
    if shell == "bash":
        return _BASH
    if shell == "zsh":
        return _ZSH
    raise ValueError(f"unsupported shell '{shell}': expected 'bash' or 'zsh'")
