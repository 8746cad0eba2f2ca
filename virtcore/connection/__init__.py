"""Opening connections (URI dispatch) and the :class:`Connection` object.

:mod:`.core` holds the dispatch rules and the connection's seam; the call
families live in :mod:`.domains`, :mod:`.networks`, :mod:`.storage` and
:mod:`.host` as mixins of :class:`Connection`.
"""

from virtcore.connection.core import CloseCallback, Connection, open, open_auth, open_read_only

__all__ = ["CloseCallback", "Connection", "open", "open_auth", "open_read_only"]
