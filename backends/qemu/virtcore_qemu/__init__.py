"""virtcore's QEMU backend (distribution ``virtcore-qemu``).

Runs real QEMU processes: domain XML becomes a QEMU command line
(:mod:`virtcore_qemu.command`), guests are driven over QMP
(:mod:`virtcore_qemu.qmp`), QEMU's capabilities are probed and cached per
binary (:mod:`virtcore_qemu.caps`). The backend registers through the
``virtcore`` entry-point group like any third-party plugin and serves
``qemu:///system``, ``qemu:///session`` and ``qemu:///embed?root=DIR``.
"""
