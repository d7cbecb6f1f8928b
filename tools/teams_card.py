"""Render the Teams card of a real reminder with Microsoft's Adaptive Cards renderer: docs/teams-card.png.

    .venv/bin/python tools/teams_card.py NODE_MODULES [--day 2026-06-23] [--output docs/teams-card.png]

NODE_MODULES is a folder where ``npm install adaptivecards@3 markdown-it@14``
has run (the renderer and the Markdown it hands card text to). The shipped
register is synced into a temporary SQLite database, the messages of
``--day`` are planned for Region Nordjylland on Teams exactly as the sweep
plans them, and the first card of its first message is drawn by the
renderer in headless Chromium, Teams' light theme approximated by the
renderer's default host config. The answer link in it is an example: a real
one carries a token.

A documentation tool, not part of the service or its tests.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.clock import plan_zone  # noqa: E402
from tracker.notify.contacts import Contacts, Reach  # noqa: E402
from tracker.notify.planner import bundle, plan_notices  # noqa: E402
from tracker.notify.source import load_subjects  # noqa: E402
from tracker.notify.teams import card_for  # noqa: E402
from tracker.register import load_register  # noqa: E402
from tracker.store.db import open_engine, read_session, write_session  # noqa: E402
from tracker.store.migrate import upgrade  # noqa: E402
from tracker.store.sync import sync_register  # noqa: E402

BASE = "https://tracker.example.dk"
WEBHOOK = ("https://prod-00.westeurope.logic.azure.com:443/workflows/eksempel/triggers/manual/paths/invoke"
           "?api-version=2016-06-01&sig=eksempel")
PAGE = """<!doctype html><html lang="da"><head><meta charset="utf-8">
<link rel="stylesheet" href="adaptivecards/dist/adaptivecards.css">
<style>body { margin: 0; padding: 16px; background: #f5f5f5; font-family: "Segoe UI", system-ui, sans-serif; }
#card { width: 640px; background: #fff; border-radius: 4px; box-shadow: 0 1px 3px rgba(0,0,0,.2); }</style>
<script src="markdown-it/dist/markdown-it.min.js"></script>
<script src="adaptivecards/dist/adaptivecards.js"></script></head>
<body><div id="card"></div><script>
const md = window.markdownit();
AdaptiveCards.AdaptiveCard.onProcessMarkdown = (text, result) => {
  result.outputHtml = md.render(text); result.didProcess = true; };
const card = new AdaptiveCards.AdaptiveCard();
card.parse(CARD);
document.getElementById("card").appendChild(card.render());
</script></body></html>"""


def first_card(day: date) -> dict:
    from datetime import datetime, time

    work = Path(tempfile.mkdtemp(prefix="tracker-card-"))
    engine = open_engine(f"sqlite:///{work / 'tracker.db'}")
    upgrade(engine)
    register = load_register()
    zone = plan_zone()
    with write_session(engine) as session:
        sync_register(session, register, datetime.combine(day, time(8), zone))
    contacts = Contacts(parties={"region-nordjylland": Reach(teams=(WEBHOOK,), prefer=("teams",))})
    with read_session(engine) as session:
        subjects = load_subjects(session, day)
    notices = [notice for notice in plan_notices(subjects, register.policy, contacts, ("teams",), day, day).notices
               if notice.party == "region-nordjylland"]
    if not notices:
        raise SystemExit(f"Region Nordjylland gets nothing on {day}; choose another --day.")
    message = bundle(notices, subjects, [], register.policy, zone, BASE)[0]
    from dataclasses import replace

    message = replace(message, answer_url=f"{BASE}/answer/eksempel")
    return card_for(message)[0]["attachments"][0]["content"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("node_modules", type=Path)
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 6, 23))
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "teams-card.png")
    args = parser.parse_args()
    card = first_card(args.day)
    page = args.node_modules / "teams-card.html"
    page.write_text(PAGE.replace("CARD", json.dumps(card, ensure_ascii=False)), encoding="utf-8")

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in ("--headless=new", "--no-sandbox", "--window-size=700,1400", "--hide-scrollbars",
                 "--force-device-scale-factor=1", "--allow-file-access-from-files"):
        options.add_argument(flag)
    chrome = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "chromedriver"), options=options)
    try:
        chrome.get(page.resolve().as_uri())
        element = chrome.find_element("id", "card")
        if not element.find_elements("css selector", ".ac-adaptiveCard"):
            raise SystemExit("the renderer drew nothing: check NODE_MODULES")
        element.screenshot(str(args.output))
    finally:
        chrome.quit()
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
