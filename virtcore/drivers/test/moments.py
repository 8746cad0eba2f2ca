"""The tree of a domain's snapshots or checkpoints (libvirt's ``virDomainMomentObjList``).

Snapshots and checkpoints ("moments") form a forest: each records the name of
its parent, and the list links every moment under its parent, or under an
invisible root when it has none. One moment may be *current* (the one a new
moment gets as parent). The operations here are libvirt's, with its quirks:

* A parent lists its children most recent first (libvirt prepends to a
  linked list), and :meth:`MomentList.move_children` prepends the moved
  children to the new parent's list.
* Listings walk the tree depth first, parents before children, which is the
  order libvirt guarantees with ``LIST_TOPOLOGICAL`` (libvirt's unordered
  listings follow its hash table; virtcore uses the same topological order).
* ``ROOTS`` and ``DESCENDANTS`` share a bit: for a domain-wide listing the
  bit selects the roots (otherwise every moment), for a moment's listing it
  selects all descendants (otherwise the direct children).

Errors carry libvirt's codes, error domain and wording (``VIR_FROM_DOMAIN``:
"domain moment a already exists", "parent b would create cycle to a", ...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InvalidArgError, OperationFailedError

if TYPE_CHECKING:
    from virtcore.drivers.test.domainxml import DomainDef

__all__ = ["Moment", "MomentDef", "MomentList"]

_DOM = ErrorDomain.DOMAIN


@dataclass
class MomentDef:
    """What snapshot and checkpoint definitions have in common (``virDomainMomentDef``)."""

    name: str
    description: str | None
    creation_time: int
    parent_name: str | None = None
    dom: DomainDef | None = None


D = TypeVar("D", bound=MomentDef)


class Moment(Generic[D]):
    """One node of the tree: a definition, its parent and its children (newest first)."""

    __slots__ = ("children", "definition", "parent")

    def __init__(self, definition: D | None) -> None:
        self.definition = definition
        self.parent: Moment[D] | None = None
        self.children: list[Moment[D]] = []

    @property
    def def_(self) -> D:
        """The definition (every node but the invisible root has one)."""
        assert self.definition is not None, "the tree root has no definition"
        return self.definition

    @property
    def name(self) -> str:
        """The moment's name."""
        return self.def_.name

    def descendants(self) -> Iterator[Moment[D]]:
        """Every moment below this one, depth first, each parent before its children."""
        for kid in list(self.children):
            yield kid
            yield from kid.descendants()


class MomentList(Generic[D]):
    """The moments of one domain, by name, linked into a tree."""

    def __init__(self) -> None:
        self._objs: dict[str, Moment[D]] = {}
        self.root: Moment[D] = Moment(None)
        self.current: Moment[D] | None = None

    def __len__(self) -> int:
        return len(self._objs)

    def __iter__(self) -> Iterator[Moment[D]]:
        return self.root.descendants()

    def members(self) -> list[Moment[D]]:
        """Every moment, linked into the tree or not, in the order they were added."""
        return list(self._objs.values())

    def find(self, name: str | None) -> Moment[D] | None:
        """The moment called *name*, if any."""
        return self._objs.get(name) if name is not None else None

    @property
    def current_name(self) -> str | None:
        """The current moment's name, if there is a current moment."""
        return self.current.name if self.current is not None else None

    # -- changing the tree ----------------------------------------------------------

    def assign(self, definition: D) -> Moment[D]:
        """Add a moment for *definition* (``virDomainMomentAssignDef``), unlinked."""
        if definition.name in self._objs:
            raise OperationFailedError(
                f"domain moment {definition.name} already exists", domain=_DOM
            )
        moment: Moment[D] = Moment(definition)
        self._objs[definition.name] = moment
        return moment

    def link_parent(self, moment: Moment[D]) -> None:
        """Link *moment* under the moment its definition names as parent, else under the root."""
        self.drop_parent(moment)
        parent = self.find(moment.def_.parent_name) or self.root
        moment.parent = parent
        parent.children.insert(0, moment)

    def drop_parent(self, moment: Moment[D]) -> None:
        """Unlink *moment* from its parent's children."""
        if moment.parent is not None and moment in moment.parent.children:
            moment.parent.children.remove(moment)
        moment.parent = None

    def move_children(self, source: Moment[D], target: Moment[D]) -> None:
        """Move *source*'s children, in their order, to the front of *target*'s children."""
        moved = source.children
        for kid in moved:
            kid.parent = target
        target.children[:0] = moved
        source.children = []

    def remove(self, moment: Moment[D]) -> bool:
        """Forget *moment*; returns whether it was the current moment (which is then cleared)."""
        was_current = self.current is moment
        if was_current:
            self.current = None
        self._objs.pop(moment.name, None)
        return was_current

    def replace_def(self, moment: Moment[D], definition: D) -> None:
        """Give *moment* a new definition under the same name, keeping its children."""
        self.drop_parent(moment)
        moment.definition = definition

    def check_cycles(self, definition: D, domain_name: str) -> None:
        """Refuse a redefinition whose parent is unknown or would close a cycle."""
        parent_name = definition.parent_name
        if parent_name is None:
            return
        if parent_name == definition.name:
            raise InvalidArgError(
                f"cannot set moment {definition.name} as its own parent", domain=_DOM
            )
        other = self.find(parent_name)
        if other is None:
            raise InvalidArgError(
                f"parent {parent_name} for moment {definition.name} not found", domain=_DOM
            )
        seen: set[str] = set()
        while other.def_.parent_name is not None and other.name not in seen:
            seen.add(other.name)
            if other.def_.parent_name == definition.name:
                raise InvalidArgError(
                    f"parent {other.name} would create cycle to {definition.name}", domain=_DOM
                )
            found = self.find(other.def_.parent_name)
            if found is None:
                break
            other = found

    def delete(self, moment: Moment[D], *, children: bool, children_only: bool) -> None:
        """Delete *moment* and/or its descendants as ``virDomainSnapshotDelete`` does."""
        if children or children_only:
            removed_current = False
            for victim in list(moment.descendants()):
                removed_current |= self.remove(victim)
            if removed_current:
                self.current = moment
        elif moment.children:
            parent = moment.parent if moment.parent is not None else self.root
            new_parent_name = parent.definition.name if parent.definition is not None else None
            for kid in moment.children:
                kid.def_.parent_name = new_parent_name
            self.move_children(moment, parent)
        if children_only:
            moment.children = []
            return
        self.drop_parent(moment)
        if self.current is moment:
            self.current = self.find(moment.def_.parent_name)
        self.remove(moment)

    # -- listing ---------------------------------------------------------------------

    def select(
        self,
        start: Moment[D] | None,
        *,
        descend: bool,
        leaves: bool = False,
        no_leaves: bool = False,
        accept: Callable[[Moment[D]], bool] | None = None,
    ) -> list[Moment[D]]:
        """The moments a listing returns (``virDomainMomentObjListGetNames``).

        *start* None lists the domain's moments, where *descend* (the shared
        ROOTS/DESCENDANTS bit) means "roots only"; from a moment it means
        "all descendants" rather than only the children.
        """
        if start is None:
            descend = not descend
            start = self.root
        candidates = list(start.descendants()) if descend else list(start.children)
        out = []
        for moment in candidates:
            if leaves and moment.children:
                continue
            if no_leaves and not moment.children:
                continue
            if accept is not None and not accept(moment):
                continue
            out.append(moment)
        return out
