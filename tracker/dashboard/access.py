"""Who may see the dashboard: everyone (the public view, without notes), or whoever presents the secret.

``TRACKER_DASHBOARD_AUTH`` holds one credential:

- ``basic:USER:PASSWORD``: HTTP basic auth, which every browser asks for
  by itself and which Apple Calendar and Thunderbird send for the calendar
  links;
- ``token:SECRET``: ``Authorization: Bearer SECRET`` (a wall screen's
  kiosk, a script), or basic auth with any user name and SECRET as password.

Unset, the dashboard is public and hides what coordinators write for each
other: notes, evidence links and who made each change.

Only SHA-256 digests of the secret are kept, and a presented credential is
compared with ``hmac.compare_digest`` on digests of equal length, the user
name and the password both, whichever fails: how long the comparison takes
says nothing about how close a guess came.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

from tracker.errors import TrackerError
from tracker.i18n import _

VARIABLE = "TRACKER_DASHBOARD_AUTH"
REALM = "Kraeftplan V tracker"


class AccessSettingError(TrackerError):
    """TRACKER_DASHBOARD_AUTH cannot be read."""


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


@dataclass(frozen=True)
class Access:
    scheme: str  # "basic" or "token"
    user_digest: bytes | None  # None: any user name (the token scheme)
    secret_digest: bytes

    def __repr__(self) -> str:  # never the digests either: nothing to brute-force from a log
        return f"Access(scheme={self.scheme!r})"

    def admits(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header carries the credential."""
        if not authorization:
            return False
        scheme, _space, value = authorization.strip().partition(" ")
        scheme = scheme.lower()
        value = value.strip()
        if scheme == "bearer" and self.scheme == "token":
            return hmac.compare_digest(_digest(value), self.secret_digest)
        if scheme != "basic":
            return False
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, colon, password = decoded.partition(":")
        if not colon:
            return False
        # Both comparisons always run: & rather than `and`.
        user_ok = self.user_digest is None or hmac.compare_digest(_digest(user), self.user_digest)
        password_ok = hmac.compare_digest(_digest(password), self.secret_digest)
        return bool(user_ok & password_ok)


MINIMUM_SECRET = 12


def parse_access(value: str | None) -> Access | None:
    """The credential in TRACKER_DASHBOARD_AUTH; None when unset (public); AccessSettingError when unreadable.

    The message never repeats the value: it may be a password with a typo.
    """
    text = (value or "").strip()
    if not text:
        return None
    scheme, _colon, rest = text.partition(":")
    if scheme == "basic":
        user, colon, password = rest.partition(":")
        if not user or not colon or not password:
            raise AccessSettingError(_(
                "{variable} must be basic:USER:PASSWORD or token:SECRET; the basic form needs a user name and a "
                "password after it, each not empty.").format(variable=VARIABLE))
        secret, user_digest = password, _digest(user)
    elif scheme == "token":
        if not rest:
            raise AccessSettingError(_("{variable} is token: with no secret after it. Set it to token:SECRET.")
                                     .format(variable=VARIABLE))
        secret, user_digest = rest, None
    else:
        raise AccessSettingError(_(
            "{variable} must start with basic: or token: (e.g. basic:taskforce:PASSWORD); unset it for a public "
            "dashboard without notes.").format(variable=VARIABLE))
    if len(secret) < MINIMUM_SECRET:
        raise AccessSettingError(_("The secret in {variable} is shorter than {minimum} characters: use a longer "
                                   "one, e.g. from `python -c \"import secrets; print(secrets.token_urlsafe())\"`.")
                                 .format(variable=VARIABLE, minimum=MINIMUM_SECRET))
    return Access(scheme=scheme, user_digest=user_digest, secret_digest=_digest(secret))
