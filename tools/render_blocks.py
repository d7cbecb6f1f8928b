"""Screenshots of tracker's Slack messages for the README, rendered from the exact Block Kit tracker sends.

    .venv/bin/python tools/render_blocks.py docs/    writes docs/slack-reminder.png and docs/slack-answered.png

The blocks are the product's own: a reminder ``Message`` is built from the
shipped register (``tracker/deliverables.toml``, the deliverable
``senfoelgeklinikker-etableret``) by the planner's ``bundle``, exactly as a
sweep would bundle it, and turned into blocks by
``tracker.notify.slack.blocks_for``. The second picture is the same message
after the owner pressed **Færdig**: the item's buttons replaced by
``answered_blocks`` the way ``tracker.notify.interactions`` replaces them.
The answer token is a fake (``"x" * 32``): button values are never shown, and
a real token must never end up in a picture.

This script renders those blocks to an HTML page approximating Slack's look
(a header, sections with mrkdwn, context lines, and actions with buttons:
``primary`` green, ``danger`` red) inside a Slack-like message frame, and
screenshots the page with headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by Selenium, as ``tests/dashboard/test_browser.py``
does). It is an approximation for documentation, not Slack itself: the tests
check the blocks against Slack's limits, not these pixels.

The mrkdwn rendering is minimal and safe. Register text in the blocks is
already escaped for Slack (``&amp;``, ``&lt;``, ``&gt;``); only ``*bold*``,
``<url|label>`` links and line breaks are turned into HTML, and every other
character is HTML-escaped, so a ``&lt;`` from the register shows as a visible
"<" and nothing in the blocks can become markup. Anything in the blocks this
renderer does not know (another block type, a mention, a date) is an error
rather than a silently wrong picture.

Nothing here needs the network: the page has no external resources and
Chromium runs with its background networking off.
"""

from __future__ import annotations

import argparse
import html
import math
import re
import shutil
import sys
import tempfile
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tracker.i18n import _, format_day, using_language
from tracker.model import OccurrenceView, Status
from tracker.notify.interactions import replace_item
from tracker.notify.message import Message
from tracker.notify.planner import Notice, bundle, notice_key
from tracker.notify.slack import answered_blocks, blocks_for
from tracker.workdays import on_or_before
from tracker.register import load_register

DELIVERABLE = "senfoelgeklinikker-etableret"  # the register has no plain "senfoelgeklinikker"
RECIPIENT = "#regionerne"
REMINDER_DAYS = 7  # the reminder a week before the due day (one of the policy's reminder_days)
BASE_URL = "https://tracker.example.dk"  # the example address the docs use for TRACKER_BASE_URL
FAKE_TOKEN = "x" * 32  # never a real answer token in a picture
ANSWERED_BY = "Mette Sørensen"  # the example owner of the README
ANSWERED_AT = (2026, 6, 23, 10, 12)  # the moment the README's example answer names
ANSWERED_TEXT = "✓ Markeret færdig af Mette Sørensen, 23. juni 2026 10:12"  # as the README quotes it

WIDTH = 800  # CSS pixels
CHROMIUM_FLAGS = (  # as tests/dashboard/test_browser.py starts Chromium
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--force-device-scale-factor=1",
)


# ---------------------------------------------------------------------------
# The message, as the product builds it


def reminder() -> Message:
    """The reminder the owner of ``DELIVERABLE`` gets on Slack a week before its due day, with answer buttons."""
    register = load_register()
    deliverable = register.deliverables[DELIVERABLE]
    party = register.parties[deliverable.owner]
    [occurrence] = deliverable.occurrences()
    deadline = occurrence.deadline
    zone = ZoneInfo(register.timezone)
    # What tracker.store.queries builds from the synced register, for an occurrence nobody has touched yet.
    subject = OccurrenceView(
        deliverable_id=deliverable.id, year=occurrence.key, title=deliverable.title, title_en=deliverable.title_en,
        kind=deliverable.kind, owner=deliverable.owner, co_owners=deliverable.co_owners,
        recipient=deliverable.recipient, theme=deliverable.theme, deadline_text=deliverable.deadline_text,
        window_start=deadline.window_start, due=deadline.due, baseline_due=deadline.due,
        precision=str(deadline.precision), status=deliverable.status, overdue=False, withdrawn=False, note=None,
        updated_at=None, source_file=deliverable.source.file, source_section=deliverable.source.section,
        source_quote=deliverable.source.quote, owner_name=party.name, owner_name_en=party.name_en,
    )
    # The notice tracker.notify.planner.plan_notices makes for this reminder, on the day it goes out.
    kind, step = "reminder", f"{REMINDER_DAYS}d"
    day = on_or_before(deadline.due - timedelta(days=REMINDER_DAYS))
    notice = Notice(key=notice_key(subject, kind, step, "slack", RECIPIENT), kind=kind, step=step, day=day,
                    subject=subject, channel="slack", recipient=RECIPIENT, language="da",
                    reason=f"responsible party {deliverable.owner}", party=deliverable.owner)
    [message] = bundle([notice], [subject], [], register.policy, zone, BASE_URL)
    # The sweep sets the answer token for a message an owner is told about.
    return replace(message, answer=FAKE_TOKEN)


def answered(message: Message) -> list[dict[str, Any]]:
    """The message's blocks after the owner pressed Færdig on its first item (tracker.notify.interactions)."""
    register = load_register()
    at = datetime(*ANSWERED_AT, tzinfo=ZoneInfo(register.timezone))
    with using_language(message.language):
        # The words interactions.py writes (its _when: the day and the time in the plan's zone).
        said = _("✓ Marked {status} by {name}, {when}").format(
            status=Status.DONE.label, name=ANSWERED_BY, when=f"{format_day(at.date())} {at.strftime('%H:%M')}")
        if said != ANSWERED_TEXT:
            print(f"note: tracker says {said!r} where the README quotes {ANSWERED_TEXT!r}", file=sys.stderr)
        return replace_item(tuple(blocks_for(message)), 0, answered_blocks(ANSWERED_TEXT, FAKE_TOKEN, 0),
                            status=Status.DONE)


# ---------------------------------------------------------------------------
# mrkdwn and plain text to HTML

_SLACK_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
# Slack's <…>: a link <url|label> or <url>; anything else (<@U…>, <!here>, <#C…>, <!date…>) is refused.
_ANGLE = re.compile(r"<([^<>]*)>")
# *bold*: opens after the start, a space or punctuation and before a non-space; closes after a non-space. One line.
_BOLD = re.compile(r"(?<![^\s(“\"'])\*(?=[^\s*])([^\n*]*?[^\s*])\*(?![^\s.,;:!?)”\"'])")


def _text(slack_text: str) -> str:
    """Slack-escaped text as HTML: Slack's three entities read once (never twice), then everything HTML-escaped."""
    return html.escape(_SLACK_ENTITY.sub(lambda match: _ENTITIES[match.group(1)], slack_text), quote=True)


def _inline(slack_text: str) -> str:
    """Links and plain text (no bold) as HTML."""
    parts: list[str] = []
    position = 0
    for match in _ANGLE.finditer(slack_text):
        parts.append(_text(slack_text[position:match.start()]))
        url, _bar, label = match.group(1).partition("|")
        if not re.match(r"https?://", url):
            raise ValueError(f"not a link this renderer shows: <{match.group(1)}>")
        parts.append(f'<a href="{_text(url)}">{_text(label or url)}</a>')
        position = match.end()
    parts.append(_text(slack_text[position:]))
    return "".join(parts)


def mrkdwn(slack_text: str) -> str:
    """A mrkdwn text as HTML: *bold*, <url|label> links and line breaks; every other character escaped."""
    lines = []
    for line in slack_text.split("\n"):
        parts: list[str] = []
        position = 0
        for match in _BOLD.finditer(line):
            parts.append(_inline(line[position:match.start()]))
            parts.append(f"<b>{_inline(match.group(1))}</b>")
            position = match.end()
        parts.append(_inline(line[position:]))
        lines.append("".join(parts))
    return "<br>".join(lines)


def text_object(text: dict[str, Any]) -> str:
    """A Block Kit text object as HTML: plain_text is shown as it is, mrkdwn as above."""
    if text["type"] == "plain_text":
        return html.escape(text["text"], quote=True).replace("\n", "<br>")
    if text["type"] == "mrkdwn":
        return mrkdwn(text["text"])
    raise ValueError(f"unknown text object type {text['type']!r}")


# ---------------------------------------------------------------------------
# Blocks to HTML


def _button(button: dict[str, Any]) -> str:
    if button.get("type") != "button":
        raise ValueError(f"unknown action element {button.get('type')!r}")
    style = button.get("style")
    if style not in (None, "primary", "danger"):
        raise ValueError(f"unknown button style {style!r}")
    kind = f" {style}" if style else ""
    return f'<span class="button{kind}">{text_object(button["text"])}</span>'


def block_html(block: dict[str, Any]) -> str:
    """One block as HTML (header, section, context, actions, divider)."""
    kind = block["type"]
    if kind == "header":
        return f'<div class="header">{text_object(block["text"])}</div>'
    if kind == "section":
        if set(block) - {"type", "text", "block_id"}:
            raise ValueError(f"a section with more than text: {sorted(block)}")
        return f'<div class="section">{text_object(block["text"])}</div>'
    if kind == "context":
        elements = []
        for element in block["elements"]:
            if element["type"] not in ("plain_text", "mrkdwn"):
                raise ValueError(f"unknown context element {element['type']!r}")
            elements.append(f"<span>{text_object(element)}</span>")
        return f'<div class="context">{"".join(elements)}</div>'
    if kind == "actions":
        return f'<div class="actions">{"".join(_button(element) for element in block["elements"])}</div>'
    if kind == "divider":
        return '<hr class="divider">'
    raise ValueError(f"unknown block type {kind!r}")


_STYLE = """
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; background: #ffffff; }
body { width: %(width)dpx; font-family: "DejaVu Sans", sans-serif; font-size: 15px; line-height: 22px;
       color: #1d1c1d; -webkit-font-smoothing: antialiased; }
.message { display: flex; gap: 8px; padding: 16px 20px 18px 20px; }
.avatar { flex: none; width: 36px; height: 36px; border-radius: 6px; background: #2e6b5e; color: #ffffff;
          font-weight: bold; font-size: 15px; line-height: 36px; text-align: center; margin-top: 3px; }
.body { flex: 1; min-width: 0; }
.meta { display: flex; align-items: baseline; gap: 6px; line-height: 22px; }
.name { font-weight: bold; font-size: 15px; }
.app { font-size: 10px; font-weight: bold; line-height: 14px; padding: 0 3px; border-radius: 2px;
       background: rgba(29, 28, 29, 0.13); color: rgba(29, 28, 29, 0.7); position: relative; top: -1px; }
.time { font-size: 12px; color: #616061; }
.header { font-size: 18px; line-height: 26px; font-weight: bold; margin: 4px 0 8px 0; }
.section { margin: 4px 0; overflow-wrap: anywhere; }
.context { font-size: 12.5px; line-height: 18px; color: #616061; margin: 4px 0; overflow-wrap: anywhere; }
.context span + span { margin-left: 8px; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0 10px 0; }
.button { display: inline-block; height: 30px; line-height: 28px; padding: 0 12px; font-size: 14px;
          font-weight: bold; white-space: nowrap; border: 1px solid rgba(29, 28, 29, 0.3); border-radius: 4px;
          background: #ffffff; color: #1d1c1d; }
.button.primary { background: #007a5a; border-color: #007a5a; color: #ffffff; }
.button.danger { background: #e01e5a; border-color: #e01e5a; color: #ffffff; }
.divider { border: 0; border-top: 1px solid #dddddd; margin: 8px 0; }
a { color: #1264a3; text-decoration: none; }
b a { font-weight: bold; }
"""


def page(blocks: list[dict[str, Any]], *, name: str = "Kræftplan V", time: str = "09:00") -> str:
    """A whole HTML page: the blocks as one message in a Slack-like frame (avatar, name, APP tag, time)."""
    rendered = "\n".join(block_html(block) for block in blocks)
    return f"""<!DOCTYPE html>
<html lang="da"><head><meta charset="utf-8"><title>{html.escape(name)}</title>
<style>{_STYLE % {"width": WIDTH}}</style></head>
<body><div class="message">
<div class="avatar" aria-hidden="true">K</div>
<div class="body">
<div class="meta"><span class="name">{html.escape(name)}</span><span class="app">APP</span>
<span class="time">{html.escape(time)}</span></div>
{rendered}
</div></div></body></html>
"""


# ---------------------------------------------------------------------------
# Screenshots


def _chrome(profile: str) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        sys.exit("Chromium and ChromeDriver are needed (Debian: apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={WIDTH},600"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)


def screenshot(chrome: Any, document: str, target: Path, work: Path) -> None:
    """``document`` as a PNG at ``target``, the viewport WIDTH wide and as tall as the page."""
    source = work / (target.stem + ".html")
    source.write_text(document, encoding="utf-8")
    chrome.get(source.as_uri())
    chrome.execute_script("return document.fonts.ready")
    # The content's height: the page's scrollHeight once the viewport is no taller than the content (the
    # scrollHeight is never less than the viewport), which the body's own box says beforehand.
    height = math.ceil(chrome.execute_script("return document.body.getBoundingClientRect().height"))
    # The window's size includes its frame: size it so that the viewport itself is WIDTH × height.
    chrome.set_window_size(WIDTH, height)
    inner_width, inner_height = chrome.execute_script("return [window.innerWidth, window.innerHeight]")
    chrome.set_window_size(2 * WIDTH - inner_width, 2 * height - inner_height)
    sizes = chrome.execute_script(
        "return [window.innerWidth, window.innerHeight, document.documentElement.scrollHeight]")
    if sizes != [WIDTH, height, height]:
        raise RuntimeError(f"could not size the window to the page ({WIDTH} × {height}, got {sizes}) for {target}")
    if not chrome.get_screenshot_as_file(str(target)):
        raise RuntimeError(f"Chromium did not save {target}")
    print(f"wrote {target} ({WIDTH} × {height})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Render tracker's Slack messages to PNGs for the README.")
    parser.add_argument("directory", type=Path, help="where to write slack-reminder.png and slack-answered.png")
    parser.add_argument("--html", action="store_true", help="also keep the HTML pages next to the PNGs")
    arguments = parser.parse_args(argv)
    directory: Path = arguments.directory
    directory.mkdir(parents=True, exist_ok=True)

    message = reminder()
    time = message.at.strftime("%H:%M")
    pages = {"slack-reminder.png": page(blocks_for(message), time=time),
             "slack-answered.png": page(answered(message), time=time)}
    with tempfile.TemporaryDirectory(prefix="tracker-render-") as temporary:
        work = Path(temporary)
        profile = work / "profile"
        profile.mkdir()
        chrome = _chrome(str(profile))
        try:
            for filename, document in pages.items():
                target = directory / filename
                screenshot(chrome, document, target, work)
                if arguments.html:
                    target.with_suffix(".html").write_text(document, encoding="utf-8")
        finally:
            chrome.quit()


if __name__ == "__main__":
    main()
