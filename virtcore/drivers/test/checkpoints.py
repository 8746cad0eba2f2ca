"""Checkpoint calls of the test driver's hypervisor table.

Behaviour is libvirt 9.0's test driver: checkpoints can only be created for
a running domain without snapshots and with at least one disk; a new
checkpoint becomes current and gets the previous current one as parent.
``REDEFINE`` records a checkpoint from its XML (keeping an existing one's
children) and makes it current only when it is the first one or the child
of the current one. Deleting supports ``CHILDREN``, ``CHILDREN_ONLY`` and
``METADATA_ONLY`` (which, with nothing but metadata to remove, deletes the
same way). ``SIZE`` in the XML flags requires a running domain but, as in
libvirt 9.0, adds no size to the output.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from virtcore.drivers.test.domaincommon import DomainTableBase, check_flags, exclusive_flags
from virtcore.drivers.test.moments import Moment, MomentList
from virtcore.drivers.test.momentxml import CheckpointDef
from virtcore.drivers.test.state import DomainObj
from virtcore.enums.checkpoint import (
    DomainCheckpointCreateFlags as Create,
)
from virtcore.enums.checkpoint import (
    DomainCheckpointDeleteFlags as Delete,
)
from virtcore.enums.checkpoint import (
    DomainCheckpointListFlags as ListFlags,
)
from virtcore.enums.checkpoint import (
    DomainCheckpointXMLFlags as XMLFlags,
)
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    InvalidArgError,
    NoDomainCheckpointError,
    OperationInvalidError,
    OperationUnsupportedError,
)
from virtcore.objects import Domain, DomainCheckpoint

if TYPE_CHECKING:
    from virtcore.connection import Connection

__all__ = ["CheckpointCalls"]

logger = logging.getLogger(__name__)

_TEST = ErrorDomain.TEST
_CHK = ErrorDomain.DOMAIN_CHECKPOINT
_DOM = ErrorDomain.DOMAIN
_LIST_FLAGS = ListFlags.ROOTS | ListFlags.TOPOLOGICAL | ListFlags.LEAVES | ListFlags.NO_LEAVES
Checkpoints = MomentList[CheckpointDef]
Chk = Moment[CheckpointDef]


class CheckpointCalls(DomainTableBase):
    """``virDomainCheckpoint*`` on the test host."""

    def _checkpoints(self, dom: Domain) -> tuple[DomainObj, Checkpoints]:
        obj = self._obj(dom)
        return obj, self._runtime(obj).checkpoints

    def _chk(self, checkpoint: DomainCheckpoint) -> tuple[DomainObj, Checkpoints, Chk]:
        obj, chks = self._checkpoints(checkpoint.domain)
        found = chks.find(checkpoint.name)
        if found is None:
            raise NoDomainCheckpointError(
                f"no domain checkpoint with matching name '{checkpoint.name}'", domain=_TEST
            )
        return obj, chks, found

    @staticmethod
    def _select_checkpoints(chks: Checkpoints, start: Chk | None, flags: int) -> list[Chk]:
        return chks.select(
            start,
            descend=bool(flags & ListFlags.ROOTS),
            leaves=bool(flags & ListFlags.LEAVES),
            no_leaves=bool(flags & ListFlags.NO_LEAVES),
        )

    def domain_checkpoint_create_xml(
        self, conn: Connection, dom: Domain, xml: str, flags: int
    ) -> DomainCheckpoint:
        """Create (or with ``REDEFINE`` record) a checkpoint of a running domain."""
        if flags & Create.REDEFINE_VALIDATE and not flags & Create.REDEFINE:
            text = (
                "Flag 'VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE' is required by flag "
                "'VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE_VALIDATE'"
            )
            raise InvalidArgError(text, message=text, domain=_CHK)
        check_flags(flags, Create.REDEFINE | Create.QUIESCE, "testDomainCheckpointCreateXML")
        redefine = bool(flags & Create.REDEFINE)
        with self.state.lock:
            obj, chks = self._checkpoints(dom)
            if len(self._runtime(obj).snapshots):
                raise OperationUnsupportedError(
                    "cannot create checkpoint while snapshot exists", domain=_TEST
                )
            if not obj.is_active():
                raise OperationUnsupportedError(
                    "cannot create checkpoint for inactive domain", domain=_TEST
                )
            chk = CheckpointDef.parse(xml, redefine=redefine, now=self._clock_ns() // 1_000_000_000)
            update_current = not redefine
            if redefine:
                moment, update_current = self._redefine(obj, chks, chk)
            else:
                chk.dom = obj.def_.copy()
                chk.align_disks()
                moment = chks.assign(chk)
            current = chks.current
            if current is not None and not redefine:
                chk.parent_name = current.name
            if update_current:
                chks.current = moment
            chks.link_parent(moment)
            logger.debug("checkpoint %s of domain %s created", chk.name, obj.name)
            return DomainCheckpoint(dom, chk.name)

    @staticmethod
    def _redefine(obj: DomainObj, chks: Checkpoints, chk: CheckpointDef) -> tuple[Chk, bool]:
        """``virDomainCheckpointRedefinePrep`` and ``...RedefineCommit``."""
        chks.check_cycles(chk, obj.name)
        if chk.dom is not None:
            if chk.dom.uuid != obj.uuid:
                raise InvalidArgError(
                    f"definition for checkpoint {chk.name} must use uuid {obj.uuid}",
                    domain=_CHK,
                )
            chk.align_disks()
        else:
            chk.assign_bitmap_names()
        parent = chks.find(chk.parent_name)
        update_current = chks.current is None or (parent is not None and parent is chks.current)
        existing = chks.find(chk.name)
        if existing is not None:
            chks.replace_def(existing, chk)
            return existing, update_current
        return chks.assign(chk), update_current

    def domain_list_all_checkpoints(
        self, conn: Connection, dom: Domain, flags: int
    ) -> list[DomainCheckpoint]:
        """Handles of the matching checkpoints, parents before children."""
        check_flags(flags, _LIST_FLAGS, "testDomainListAllCheckpoints")
        with self.state.lock:
            found = self._select_checkpoints(self._checkpoints(dom)[1], None, flags)
            return [DomainCheckpoint(dom, m.name) for m in found]

    def domain_checkpoint_list_all_children(
        self, conn: Connection, checkpoint: DomainCheckpoint, flags: int
    ) -> list[DomainCheckpoint]:
        """Handles of the matching children (or with ``DESCENDANTS`` descendants)."""
        check_flags(flags, _LIST_FLAGS, "testDomainCheckpointListAllChildren")
        with self.state.lock:
            _, chks, chk = self._chk(checkpoint)
            found = self._select_checkpoints(chks, chk, flags)
            return [DomainCheckpoint(checkpoint.domain, m.name) for m in found]

    def domain_checkpoint_lookup_by_name(
        self, conn: Connection, dom: Domain, name: str, flags: int
    ) -> DomainCheckpoint:
        """The checkpoint called *name*."""
        check_flags(flags, 0, "testDomainCheckpointLookupByName")
        with self.state.lock:
            found = self._checkpoints(dom)[1].find(name)
            if found is None:
                raise NoDomainCheckpointError(
                    f"no domain checkpoint with matching name '{name}'", domain=_TEST
                )
            return DomainCheckpoint(dom, found.name)

    def domain_checkpoint_get_parent(
        self, conn: Connection, checkpoint: DomainCheckpoint, flags: int
    ) -> DomainCheckpoint:
        """The checkpoint's parent."""
        check_flags(flags, 0, "testDomainCheckpointGetParent")
        with self.state.lock:
            _, _, chk = self._chk(checkpoint)
            if chk.def_.parent_name is None:
                raise NoDomainCheckpointError(
                    f"checkpoint '{chk.name}' does not have a parent", domain=_TEST
                )
            return DomainCheckpoint(checkpoint.domain, chk.def_.parent_name)

    def domain_checkpoint_get_xml_desc(
        self, conn: Connection, checkpoint: DomainCheckpoint, flags: int
    ) -> str:
        """The checkpoint document; ``NO_DOMAIN`` leaves out the domain definition."""
        check_flags(flags, XMLFlags.SECURE | XMLFlags.NO_DOMAIN | XMLFlags.SIZE,
                    "testDomainCheckpointGetXMLDesc")  # fmt: skip
        with self.state.lock:
            obj, _, chk = self._chk(checkpoint)
            if flags & XMLFlags.SIZE and not obj.is_active():
                raise OperationInvalidError("domain is not running", domain=_DOM)
            return chk.def_.format(no_domain=bool(flags & XMLFlags.NO_DOMAIN))

    def domain_checkpoint_delete(
        self, conn: Connection, checkpoint: DomainCheckpoint, flags: int
    ) -> None:
        """Delete the checkpoint, its descendants (``CHILDREN``) or only them."""
        exclusive_flags(flags, (Delete.CHILDREN, "VIR_DOMAIN_CHECKPOINT_DELETE_CHILDREN"),
                        (Delete.CHILDREN_ONLY, "VIR_DOMAIN_CHECKPOINT_DELETE_CHILDREN_ONLY"),
                        _CHK)  # fmt: skip
        supported = Delete.CHILDREN | Delete.METADATA_ONLY | Delete.CHILDREN_ONLY
        check_flags(flags, supported, "testDomainCheckpointDelete")
        with self.state.lock:
            _, chks, chk = self._chk(checkpoint)
            chks.delete(
                chk,
                children=bool(flags & Delete.CHILDREN),
                children_only=bool(flags & Delete.CHILDREN_ONLY),
            )
