"""Built-in drivers shipped with virtcore.

Each sub-package is a plugin loaded through the same plugin manager and hooks
as third-party backends (see :mod:`virtcore.registry`); nothing here is
imported until a plugin module asks for it.
"""
