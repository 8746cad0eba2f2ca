"""Specification of ``virtcore.enums``: libvirt 9.0's enumerations, flags and parameter names.

The differential tests compare every constant with libvirt-python 9.0 itself, run as
``/usr/bin/python3`` in a subprocess (virtcore never imports the binding). When that oracle is
missing or is another version they fail with an explanation; ``VIRTCORE_ALLOW_NO_LIBVIRT=1``
turns them into skips instead.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import os
import pkgutil
import subprocess
import sys
from dataclasses import dataclass
from enum import Enum, IntEnum, IntFlag
from pathlib import Path
from types import ModuleType

import pytest

import virtcore.enums
from virtcore.enums import (
    DomainGuestInfoTypes,
    DomainMemoryStatTags,
    DomainMessageType,
    DomainModificationImpact,
    DomainSnapshotListFlags,
    DomainState,
    DomainStatsTypes,
    DomainUndefineFlags,
    ErrorNumber,
    EventHandleType,
    StreamEventType,
    params,
)
from virtcore.enums.libvirt_names import (
    c_name,
    c_type,
    enum_classes,
    int_constants,
    lookup,
    member_c_names,
    string_constants,
)

ROOT = Path(__file__).resolve().parent.parent
ORACLE_PYTHON = "/usr/bin/python3"
ORACLE_BINDING_VERSION = "9.0."
ALLOW_NO_ORACLE = "VIRTCORE_ALLOW_NO_LIBVIRT"

# Types whose values libvirt ORs together although their names do not say "Flags".
BIT_MASKS_NOT_NAMED_FLAGS: frozenset[type[Enum]] = frozenset(
    {
        DomainModificationImpact,
        DomainStatsTypes,
        DomainGuestInfoTypes,
        DomainMessageType,
        EventHandleType,
        StreamEventType,
    }
)

# Runs under the oracle interpreter: every VIR_* constant, and the C enum type that the
# binding's generated source names (in a "# virType" comment) above each integer constant.
ORACLE_SCRIPT = r"""
import importlib.metadata, json, re, sys
import libvirt

c_types = {}
group = None
with open(libvirt.__file__, encoding="utf-8") as source:
    for line in source:
        line = line.rstrip("\n")
        if line.startswith("# "):
            match = re.fullmatch(r"# (vir\w+)", line)
            group = match.group(1) if match else None
        elif group is not None:
            match = re.match(r"(VIR_\w+) = ", line)
            if match:
                c_types[match.group(1)] = group
json.dump(
    {
        "version": importlib.metadata.version("libvirt-python"),
        "constants": {n: getattr(libvirt, n) for n in dir(libvirt) if n.startswith("VIR_")},
        "c_types": c_types,
    },
    sys.stdout,
)
"""


@dataclass(frozen=True)
class Oracle:
    """What libvirt-python 9.0 exports."""

    ints: dict[str, int]
    strings: dict[str, str]
    c_types: dict[str, str]


def _run_oracle() -> tuple[Oracle | None, str]:
    try:
        proc = subprocess.run(
            [ORACLE_PYTHON, "-c", ORACLE_SCRIPT],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except OSError as exc:
        return None, f"cannot run {ORACLE_PYTHON}: {exc}"
    if proc.returncode != 0:
        last = proc.stderr.strip().splitlines()[-1:] or ["no error output"]
        return None, f"{ORACLE_PYTHON} cannot load libvirt-python: {last[0]}"
    data = json.loads(proc.stdout)
    if not str(data["version"]).startswith(ORACLE_BINDING_VERSION):
        return None, f"the installed libvirt-python is {data['version']}, not 9.0"
    constants = data["constants"]
    return (
        Oracle(
            ints={k: v for k, v in constants.items() if isinstance(v, int)},
            strings={k: v for k, v in constants.items() if isinstance(v, str)},
            c_types=dict(data["c_types"]),
        ),
        "",
    )


@pytest.fixture(scope="module")
def oracle() -> Oracle:
    """libvirt-python 9.0's constants, or a loud failure explaining why they are unavailable."""
    found, problem = _run_oracle()
    if found is not None:
        return found
    if os.environ.get(ALLOW_NO_ORACLE) == "1":
        pytest.skip(f"libvirt-python 9.0 oracle unavailable ({problem}); {ALLOW_NO_ORACLE}=1")
    pytest.fail(
        f"virtcore.enums is checked against libvirt-python 9.0 (Debian: python3-libvirt) run "
        f"as {ORACLE_PYTHON}, but {problem}. Install it, or set {ALLOW_NO_ORACLE}=1 to skip "
        "these comparisons.",
        pytrace=False,
    )


def _enum_modules() -> list[ModuleType]:
    names = sorted(info.name for info in pkgutil.iter_modules(virtcore.enums.__path__))
    return [importlib.import_module(f"virtcore.enums.{name}") for name in names]


def _defined_enum_classes() -> list[type[Enum]]:
    """Every public enum class defined anywhere in the package, found independently of tables."""
    found: list[type[Enum]] = []
    for module in _enum_modules():
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, Enum)
                and obj.__module__ == module.__name__
                and not name.startswith("_")
            ):
                found.append(obj)
    return found


def _class_name_for(c_type_name: str) -> str:
    """The documented naming rule, restated: drop ``vir``; ``Flag(s)Values`` becomes ``Flags``."""
    name = c_type_name.removeprefix("vir")
    for suffix in ("FlagsValues", "FlagValues"):
        if name.endswith(suffix):
            return name.removesuffix(suffix) + "Flags"
    return name


# --------------------------------------------------------------------------- differential


def test_every_libvirt_integer_constant_is_a_member_with_the_same_value(oracle: Oracle) -> None:
    table = int_constants()
    missing = sorted(name for name in oracle.ints if name not in table)
    wrong = sorted(
        f"{name}: libvirt {value}, virtcore {int(table[name])}"
        for name, value in oracle.ints.items()
        if name in table and int(table[name]) != value
    )
    assert (missing, wrong) == ([], [])


def test_every_libvirt_integer_constant_is_in_the_class_named_after_its_c_type(
    oracle: Oracle,
) -> None:
    table = int_constants()
    misplaced = sorted(
        f"{name}: expected {_class_name_for(oracle.c_types[name])}, "
        f"found {type(table[name]).__name__}"
        for name in oracle.ints
        if name in table and type(table[name]).__name__ != _class_name_for(oracle.c_types[name])
    )
    assert misplaced == []


def test_no_enum_member_has_a_name_or_value_libvirt_lacks(oracle: Oracle) -> None:
    problems = []
    for cls in _defined_enum_classes():
        for member_name, constant in member_c_names(cls).items():
            value = int(cls[member_name].value)
            if constant not in oracle.ints:
                problems.append(f"{cls.__name__}.{member_name}: libvirt 9.0 has no {constant}")
            elif oracle.ints[constant] != value:
                problems.append(f"{constant}: libvirt {oracle.ints[constant]}, virtcore {value}")
    assert problems == []


def test_every_libvirt_string_constant_is_a_params_name_with_the_same_value(
    oracle: Oracle,
) -> None:
    ours = string_constants()
    differences = sorted(name for name, value in oracle.strings.items() if ours.get(name) != value)
    assert differences == []


def test_params_holds_only_names_libvirt_exports(oracle: Oracle) -> None:
    assert sorted(set(string_constants()) - set(oracle.strings)) == []


# --------------------------------------------------------------------------- package layout


def test_all_lists_exactly_the_public_enum_classes() -> None:
    defined = {cls.__name__ for cls in _defined_enum_classes()}
    assert sorted(virtcore.enums.__all__) == sorted(defined)


def test_all_names_resolve_to_the_defined_classes() -> None:
    for cls in _defined_enum_classes():
        assert getattr(virtcore.enums, cls.__name__) is cls


def test_every_enum_class_is_in_the_c_name_table() -> None:
    assert set(enum_classes()) == set(_defined_enum_classes())


def test_c_names_are_unique_across_all_classes() -> None:
    every_name = [name for cls in enum_classes() for name in member_c_names(cls).values()]
    assert len(every_name) == len(set(every_name))


@pytest.mark.parametrize("module", _enum_modules(), ids=lambda m: m.__name__)
def test_every_module_docstring_states_it_holds_libvirt_9_0_values(module: ModuleType) -> None:
    assert module.__doc__ is not None
    assert "libvirt 9.0" in module.__doc__


@pytest.mark.parametrize("cls", _defined_enum_classes(), ids=lambda c: c.__name__)
def test_every_class_docstring_names_the_c_type_it_mirrors(cls: type[Enum]) -> None:
    assert cls.__doc__ is not None
    assert f"``{c_type(cls)}``" in cls.__doc__


def test_committed_modules_match_the_generator_output() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_enums.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


# --------------------------------------------------------------------------- enum behaviour


def test_members_compare_equal_to_libvirt_integers() -> None:
    running: int = DomainState.RUNNING
    assert running == 1
    assert DomainState(1) is DomainState.RUNNING


@pytest.mark.parametrize("cls", _defined_enum_classes(), ids=lambda c: c.__name__)
def test_flag_types_and_bit_masks_are_int_flags_and_the_rest_int_enums(cls: type[Enum]) -> None:
    is_mask = cls.__name__.endswith("Flags") or cls in BIT_MASKS_NOT_NAMED_FLAGS
    assert issubclass(cls, IntFlag) is is_mask
    assert issubclass(cls, IntEnum) is not is_mask


def test_flag_members_combine_into_their_own_type() -> None:
    both = DomainModificationImpact.LIVE | DomainModificationImpact.CONFIG
    assert isinstance(both, DomainModificationImpact)
    assert both == 3


def test_two_names_for_one_value_are_the_same_member() -> None:
    # Indexing by name, since a type checker takes two attribute names for two distinct members.
    assert DomainSnapshotListFlags["DESCENDANTS"] is DomainSnapshotListFlags.ROOTS
    assert DomainMemoryStatTags["LAST"] is DomainMemoryStatTags.NR


def test_the_canonical_name_of_an_alias_is_the_one_the_header_declares_first() -> None:
    assert DomainSnapshotListFlags(1).name == "ROOTS"
    assert DomainMemoryStatTags(13).name == "NR"


def test_flags_values_types_are_named_without_values() -> None:
    assert c_type(DomainUndefineFlags) == "virDomainUndefineFlagsValues"


def test_no_enum_sentinel_appears_except_the_one_libvirt_python_exports() -> None:
    sentinels = [
        f"{cls.__name__}.{name}"
        for cls in enum_classes()
        for name in cls.__members__
        if name == "LAST"
    ]
    assert sentinels == ["DomainMemoryStatTags.LAST"]


# --------------------------------------------------------------------------- C names


def test_c_name_gives_the_libvirt_name_of_a_member() -> None:
    assert c_name(DomainState.RUNNING) == "VIR_DOMAIN_RUNNING"


def test_c_name_follows_irregular_libvirt_names() -> None:
    assert c_name(ErrorNumber.WAR_NO_NETWORK) == "VIR_WAR_NO_NETWORK"


def test_c_name_rejects_a_combination_of_flags() -> None:
    with pytest.raises(ValueError, match="combination"):
        c_name(DomainModificationImpact.LIVE | DomainModificationImpact.CONFIG)


def test_c_name_rejects_an_enum_that_mirrors_no_libvirt_type() -> None:
    class Colour(IntEnum):
        RED = 1

    with pytest.raises(ValueError, match="does not mirror"):
        c_name(Colour.RED)


def test_lookup_finds_a_member_by_its_alias_name() -> None:
    assert lookup("VIR_DOMAIN_SNAPSHOT_LIST_DESCENDANTS") is DomainSnapshotListFlags.ROOTS


def test_lookup_of_an_unknown_name_raises_key_error() -> None:
    with pytest.raises(KeyError):
        lookup("VIR_DOMAIN_NO_SUCH_STATE")


def test_params_names_drop_the_vir_prefix_and_keep_libvirt_strings() -> None:
    assert params.DOMAIN_SCHEDULER_CPU_SHARES == "cpu_shares"
    assert string_constants()["VIR_DOMAIN_SCHEDULER_CPU_SHARES"] == "cpu_shares"


# --------------------------------------------------------------------------- generator


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    """``scripts/gen_enums.py`` loaded as a module (it is a script, not a package member)."""
    spec = importlib.util.spec_from_file_location("gen_enums", ROOT / "scripts" / "gen_enums.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with pytest.MonkeyPatch.context() as patch:
        # The generator imports its layout tables from beside itself, as when run as a script.
        patch.syspath_prepend(str(ROOT / "scripts"))
        spec.loader.exec_module(module)
    return module


def test_generator_strips_the_prefix_from_member_names(generator: ModuleType) -> None:
    assert generator.member_name("VIR_DOMAIN_RUNNING", ("VIR_DOMAIN_",)) == "RUNNING"


def test_generator_keeps_a_prefix_word_when_a_name_would_start_with_a_digit(
    generator: ModuleType,
) -> None:
    assert generator.member_name("VIR_FOO_BAR_1X", ("VIR_FOO_BAR_",)) == "BAR_1X"


def test_generator_takes_the_common_prefix_at_an_underscore(generator: ModuleType) -> None:
    names = ["VIR_NETWORK_UPDATE_AFFECT_LIVE", "VIR_NETWORK_UPDATE_AFFECT_LOCAL"]
    assert generator.common_prefix(names) == "VIR_NETWORK_UPDATE_AFFECT_"
