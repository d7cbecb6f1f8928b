"""Teams Workflows webhook addresses: secrets that are never shown, only named.

A Teams channel is reached by the address Teams' Workflows app gives a "Post
to a channel when a webhook request is received" flow. Whoever has the
address can post to the channel (its ``sig`` query parameter is the
credential), so the address stays in the contacts file and in memory:
everywhere else (the outbox, logs, reports to the coordinators, `notify
preview`, `config check`) a webhook is named by its handle, ``teams:`` and the
first ten hex digits of the address's SHA-256, and shown masked, host only.

Pure: no I/O, so the contacts parser, the planner, the channel and `config
check` share one reading of an address.
"""

from __future__ import annotations

import hashlib
import ipaddress
from urllib.parse import parse_qs, urlsplit

from tracker.i18n import _

HANDLE_PREFIX = "teams:"
# The hosts Microsoft serves Workflows webhooks from: Power Automate's Logic Apps (…logic.azure.com) and the
# Power Platform environments the newer flows get (…environment.api.powerplatform.com).
WORKFLOW_HOSTS = (".logic.azure.com", ".api.powerplatform.com")
# The Office 365 connectors Microsoft retired: their addresses no longer take messages.
RETIRED_HOSTS = (".webhook.office.com", "outlook.office.com", "outlook.office365.com")
MAX_LENGTH = 2000


def teams_handle(url: str) -> str:
    """The name a webhook goes by wherever its address must not appear: ``teams:`` and ten hex digits."""
    return HANDLE_PREFIX + hashlib.sha256(url.strip().encode("utf-8")).hexdigest()[:10]


def is_teams_handle(recipient: str) -> bool:
    return recipient.startswith(HANDLE_PREFIX)


def masked_webhook(url: str) -> str:
    """The address as it may be shown: scheme and host, the rest (path and signature) hidden, and its handle."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or "?"
        scheme = parts.scheme or "?"
    except ValueError:
        scheme, host = "?", "?"
    return f"{scheme}://{host}/… ({teams_handle(url)})"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def webhook_problem(url: str) -> str | None:
    """What is wrong with ``url`` as a Teams Workflows webhook address, with the fix; None when its form is right.

    Only the form is checked (nothing is sent): https on one of Microsoft's Workflows hosts with the flow's
    signature, or any http(s) address on loopback (a stand-in, a test). The message never repeats the address.
    """
    text = url.strip()
    if len(text) > MAX_LENGTH:
        return _("the Teams webhook address is longer than {limit} characters; copy it again from the flow in "
                 "Teams' Workflows app.").format(limit=MAX_LENGTH)
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        query = parse_qs(parts.query)
    except ValueError:
        return _("the Teams webhook address is not a URL; copy it from the flow in Teams' Workflows app "
                 "(“Post to a channel when a webhook request is received”).")
    if parts.scheme in ("http", "https") and _loopback(host):
        return None
    if any(host == retired.lstrip(".") or host.endswith(retired) for retired in RETIRED_HOSTS):
        return _("the address is an Office 365 connector's ({host}), which Microsoft has retired. In Teams, add "
                 "the Workflows app's flow “Post to a channel when a webhook request is received” and use its "
                 "address.").format(host=host)
    if parts.scheme != "https" or not host:
        return _("the Teams webhook address must start with https://; copy it from the flow in Teams' Workflows "
                 "app.")
    if not host.endswith(WORKFLOW_HOSTS):
        return _("{host} is not a Teams Workflows host (…logic.azure.com or …api.powerplatform.com); copy the "
                 "address from the flow in Teams' Workflows app.").format(host=host)
    if "sig" not in query:
        return _("the Teams webhook address has no signature (its sig=… part); copy the whole address from the "
                 "flow in Teams' Workflows app.")
    return None
