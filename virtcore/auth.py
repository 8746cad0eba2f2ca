"""Credentials for opening connections: libvirt's ``virConnectAuth`` model.

A caller that can answer questions (user name, passphrase, ...) passes an
:class:`Auth` to :func:`virtcore.open_auth`: the credential types it can answer
and a callback. A driver that needs credentials builds :class:`Credential`
requests and calls :meth:`Auth.ask`, which fills in ``result`` or raises:

* :class:`~virtcore.errors.AuthUnavailableError` when no callback was given or
  it does not handle a requested type (libvirt reports this before asking);
* :class:`~virtcore.errors.AuthCancelledError` when the callback declines
  (returns ``False`` or a negative number, libvirt's ``-1``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from virtcore.enums.connect import ConnectCredentialType
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import AuthCancelledError, AuthUnavailableError

__all__ = ["Auth", "AuthCallback", "Credential"]

logger = logging.getLogger(__name__)


@dataclass
class Credential:
    """One question for the credential callback (libvirt's ``virConnectCredential``).

    The callback answers by setting :attr:`result` (``None`` = no answer).
    """

    type: ConnectCredentialType
    prompt: str
    challenge: str | None = None
    default: str | None = None
    result: str | None = field(default=None)


AuthCallback = Callable[[list[Credential]], "bool | int | None"]
"""``callback(credentials)``: fill each ``result``; return ``False``/negative to cancel."""


@dataclass
class Auth:
    """What a caller can answer, and the callback that answers it."""

    credtypes: Sequence[int]
    callback: AuthCallback | None = None

    def supports(self, credtype: int) -> bool:
        """Whether the callback declared it can answer *credtype*."""
        return self.callback is not None and credtype in self.credtypes

    def ask(self, credentials: Iterable[Credential], *, domain: int = ErrorDomain.AUTH) -> None:
        """Ask the callback to answer *credentials*, filling their ``result``.

        Raises :class:`AuthUnavailableError` if a type cannot be asked and
        :class:`AuthCancelledError` if the callback declines.
        """
        creds = list(credentials)
        if self.callback is None:
            raise AuthUnavailableError("no authentication callback available", domain=domain)
        for cred in creds:
            if cred.type not in self.credtypes:
                raise AuthUnavailableError(
                    f"no callback handler for credential type {int(cred.type)}", domain=domain
                )
        outcome = self.callback(creds)
        if outcome is False or (
            isinstance(outcome, int) and not isinstance(outcome, bool) and outcome < 0
        ):
            raise AuthCancelledError("credential callback declined", domain=domain)
        logger.debug("credential callback answered %d question(s)", len(creds))
