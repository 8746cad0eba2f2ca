"""Naming a CPU after libvirt's x86 CPU map: the ``host-model`` CPU of domain capabilities.

libvirt describes a CPU (the one QEMU gives a ``host-model`` guest, or the
host's own) as the CPU-map model that needs the fewest corrections, plus
those corrections: features to ``require`` on top of the model and features
of the model to ``disable``. :func:`decode` does the same over feature
names (libvirt works on CPUID bits; the map's features are distinct bits,
so the sets agree):

* models are tried newest first (reverse map order), skipping those QEMU
  does not offer (when it lists its models), those of another vendor and
  those the map does not allow for this kind of description;
* a model's features that QEMU reports as blocking it are disabled too;
* a model whose signature (family, model, stepping) matches the CPU is
  preferred to one whose signature does not; otherwise the lighter
  correction list wins (:func:`candidate_weight`: a disabled feature weighs more than
  a required one), the newer model on a tie;
* describing a host (rather than a guest CPU), a model that would need
  features disabled is not acceptable.

Feature names from QEMU are translated to libvirt's spelling through the
map's aliases; names the map does not know are ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from virtcore_qemu.caps_cpumap import X86_FEATURE_ALIASES, X86_FEATURES, X86_MODELS, X86Model
from virtcore_qemu.caps_model import CPUModelInfo

__all__ = ["VENDORS", "DecodedCPU", "candidate_weight", "decode", "libvirt_feature_names"]

log = logging.getLogger(__name__)

#: CPUID vendor strings -> libvirt's vendor names (x86_vendors.xml).
VENDORS = {
    "GenuineIntel": "Intel",
    "AuthenticAMD": "AMD",
    "HygonGenuine": "Hygon",
}

_KNOWN = frozenset(X86_FEATURES)
#: The cost of the first disabled feature when comparing candidate models.
_BASE_PENALTY = 2
_RANK = {name: index for index, name in enumerate(X86_FEATURES)}


@dataclass(frozen=True)
class DecodedCPU:
    """A CPU described as a map model plus corrections (in map order)."""

    model: str
    vendor: str | None
    required: tuple[str, ...]
    disabled: tuple[str, ...]


def libvirt_feature_names(names: Iterable[str]) -> frozenset[str]:
    """The map's names for *names* (QEMU or Linux spellings); unknown ones dropped."""
    found = set()
    for name in names:
        canonical = name if name in _KNOWN else X86_FEATURE_ALIASES.get(name)
        if canonical is not None:
            found.add(canonical)
    return frozenset(found)


def _ordered(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(names, key=_RANK.__getitem__))


def _has_signature(model: X86Model, signature: tuple[int, int, int] | None) -> bool:
    if signature is None:
        return False
    family, number, stepping = signature
    return any(
        family == sig_family and number == sig_model and first <= stepping <= last
        for sig_family, sig_model, first, last in model.signatures
    )


def decode(
    features: Iterable[str],
    *,
    vendor: str | None = None,
    signature: tuple[int, int, int] | None = None,
    allowed: Sequence[CPUModelInfo] | None = None,
    host: bool = False,
) -> DecodedCPU | None:
    """Describe the CPU with *features* (any spelling) as a map model, or None.

    *vendor* is the CPUID vendor string, *signature* ``(family, model,
    stepping)``; *allowed* the models the hypervisor offers (with their
    blockers), None for every map model; *host* selects the stricter rules
    for describing the host itself.
    """
    data = libvirt_feature_names(features)
    vendor_name = VENDORS.get(vendor or "")
    offered = {m.name: m for m in allowed} if allowed else None
    best: tuple[X86Model, frozenset[str], frozenset[str]] | None = None
    for candidate in reversed(X86_MODELS):
        if not (candidate.decode_host if host else candidate.decode_guest):
            continue
        hv_model = None
        if offered is not None:
            hv_model = offered.get(candidate.name)
            if hv_model is None:
                continue
        if vendor_name and candidate.vendor and vendor_name != candidate.vendor:
            continue
        model_data = set(candidate.features)
        if hv_model is not None:
            # Features that keep the hypervisor from offering the model as
            # it is must be turned off explicitly.
            model_data |= libvirt_feature_names(hv_model.blockers) - data
        required = data - model_data
        disabled = frozenset(model_data) - data
        if host and disabled:
            continue
        if best is None or _better(
            best, candidate, required=required, disabled=disabled, signature=signature, host=host
        ):
            best = (candidate, frozenset(required), disabled)
    if best is None:
        return None
    model, required, disabled = best
    return DecodedCPU(
        model=model.name,
        vendor=vendor_name,
        required=_ordered(required),
        disabled=_ordered(disabled),
    )


def candidate_weight(required: int, disabled: int, *, host: bool = False) -> tuple[int, int]:
    """libvirt's (total, disabled) weight of a feature list: required then disabled.

    Disabled features cost a growing penalty (2, 3, 4, ...). libvirt's loop
    shrinks its bound each time it meets a disabled feature, so trailing
    disabled features are never counted; the weights reproduce that.
    """
    count = required + disabled
    if host:
        return count, 0
    enabled = count
    penalty_sum = 0
    penalty = _BASE_PENALTY
    index = 0
    while index < enabled:
        if index >= required:
            enabled -= 1
            penalty_sum += penalty
            penalty += 1
        index += 1
    return enabled + penalty_sum, penalty_sum


def _better(
    best: tuple[X86Model, frozenset[str], frozenset[str]],
    candidate: X86Model,
    *,
    required: Iterable[str],
    disabled: Iterable[str],
    signature: tuple[int, int, int] | None,
    host: bool,
) -> bool:
    current, current_required, current_disabled = best
    if signature is not None:
        current_matches = _has_signature(current, signature)
        candidate_matches = _has_signature(candidate, signature)
        if current_matches and not candidate_matches:
            return False
        if candidate_matches and not current_matches:
            return True
    total, penalty = candidate_weight(len(set(required)), len(set(disabled)), host=host)
    current_total, current_penalty = candidate_weight(
        len(current_required), len(current_disabled), host=host
    )
    return total < current_total or (total == current_total and penalty < current_penalty)
