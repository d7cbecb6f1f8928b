"""E-mail addresses: the one check of what an address is, for the contacts file, the e-mail channel and Slack.

Before, the contacts file accepted addresses the e-mail channel refused when
it came to send: now all three ask ``mailbox``.
"""

from __future__ import annotations

import re
from email.headerregistry import Address

_HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]+")

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_PART = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
# Slack looks people up by the address of their account, which may have letters beyond ASCII (RFC 6531); no
# SMTP server is involved, so such an address is fine there.
_UNICODE_ATOM = r"(?:[^\W_]|[!#$%&'*+/=?^_`{|}~-])+"
_UNICODE_LOCAL_PART = re.compile(rf"{_UNICODE_ATOM}(?:\.{_UNICODE_ATOM})*")
_DOMAIN_LABEL = re.compile(r"[^\W_](?:[\w-]{0,61}[^\W_])?")  # letters and digits in any script, inner hyphens
_NAME_ADDR = re.compile(r"(?P<name>[^<>]*)<(?P<spec>[^<>]*)>")


def header_text(value: str) -> str:
    """``value`` as one header line: every run of control characters (CR and LF among them) as one space."""
    return " ".join(_HEADER_UNSAFE.sub(" ", value).split())


def mailbox(text: str, *, smtp: bool = True) -> Address | None:
    """One address, ``ole@example.dk`` or ``Ole Hansen <ole@example.dk>``; None when it is not exactly one.

    Strict on purpose: no control characters, no lists, no groups, no comments,
    an ASCII local part (the message must not need SMTPUTF8); an international
    domain (``kræftens-bekæmpelse.dk``) is written in IDNA form. Without ``smtp``
    (an address to look a Slack user up by), the local part may have any letters.
    """
    if not isinstance(text, str) or _HEADER_UNSAFE.search(text):
        return None
    text = text.strip()
    match = _NAME_ADDR.fullmatch(text)
    name, spec = (match["name"].strip(), match["spec"].strip()) if match else ("", text)
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].strip()
    if '"' in name or "\\" in name:
        return None
    local, at, domain = spec.rpartition("@")
    if not at or len(local) > 64 or not (_LOCAL_PART if smtp else _UNICODE_LOCAL_PART).fullmatch(local):
        return None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        return None
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    if len(local) + 1 + len(ascii_domain) > 254:
        return None
    return Address(display_name=name, username=local, domain=ascii_domain)


def is_address(text: str, *, smtp: bool = True) -> bool:
    """A bare address, ``ole@example.dk``, that the e-mail channel will send to (no display name); without
    ``smtp``, one Slack can find a person by."""
    address = mailbox(text, smtp=smtp)
    return address is not None and not address.display_name and "<" not in text
