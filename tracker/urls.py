"""Every address tracker hands out: a deliverable's page, a feed, a party's or theme's calendar. Pure.

One module, below everything that prints an address (the feeds, the
messages, the dashboard, the CLI), so that an address is built one way
wherever it appears.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def check_base_url(base_url: str) -> str:
    """``base_url`` without a trailing slash; ValueError unless it is an absolute http(s) URL."""
    parts = urlsplit(base_url)
    # An empty "?" or "#" would put the token in the query or fragment.
    if parts.scheme not in ("http", "https") or not parts.netloc or "?" in base_url or "#" in base_url:
        raise ValueError(base_url)
    return base_url.rstrip("/")


def deliverable_url(base_url: str, deliverable_id: str) -> str:
    """The deliverable's page in the web process (the dashboard serves it)."""
    return f"{base_url.rstrip('/')}/deliverables/{deliverable_id}"


def members_url(base_url: str, collective: str) -> str:
    """A collective party's page per member on the dashboard: its per-member deliverables against its members.
    With ``base_url`` "" it is the path the dashboard links by."""
    return f"{base_url.rstrip('/')}/members/{collective}"


def answer_url(base_url: str, token: str) -> str:
    """The answer page of one message (its token is the secret: the logs redact everything after /answer/)."""
    return f"{base_url.rstrip('/')}/answer/{token}"


def webcal(url: str) -> str:
    """The webcal:// twin of an http(s) calendar address, which calendar apps open as a subscription."""
    return "webcal://" + url.split("://", 1)[1]


def feed_urls(base_url: str, token: str) -> tuple[str, str]:
    """The feed's http(s) address and its webcal:// twin."""
    url = f"{base_url.rstrip('/')}/feeds/{token}.ics"
    return url, webcal(url)


def calendar_urls(base_url: str, kind: str, key: str, english: bool = False) -> tuple[str, str]:
    """A party's or theme's calendar (``kind`` "party" or "theme"): its http(s) address and its webcal:// twin."""
    url = f"{base_url.rstrip('/')}/calendar/{kind}/{key}.ics" + ("?lang=en" if english else "")
    return url, webcal(url)
