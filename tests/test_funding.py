"""Funding as facts on the initiative: the shipped register's [[funding]] entries reach every deliverable of the
initiative in the database, `tracker show`, `--json` and the dashboard ("finansieret 2026–2028"), on SQLite and
PostgreSQL; a register that still puts funding on a deliverable, or reads a deadline from a funding sentence
without a reading, is refused with the fix. (That the amounts are Tabel 1's is tests/test_register.py's.)"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from tests.conftest import Tracker
from tests.webserver import serving
from tracker.errors import RegisterError
from tracker.i18n import using_language
from tracker.register import parse_register

FUNDING = '''

[[funding]]
initiative = "Senfølger"
table_row = "Heraf regioner"
amounts = { 2026 = 60, 2027 = 60 }
source = { file = "test", section = "Senfølger", quote = "Der er afsat 60 mio. kr. årligt i 2026-2027." }
'''


def test_every_deliverable_of_an_initiative_shows_the_years_it_is_funded(database_url: str) -> None:
    tracker = Tracker(database_url)  # the shipped register
    tracker.ok("sync")
    shown = tracker.ok("show", "koelehaetter-evaluering").output
    assert "Funded:          2026–2028" in shown, shown
    assert "Der er afsat 9 mio. kr. i 2026, 1 mio. kr. i 2027 og 1 mio. kr. i 2028" in shown
    record = json.loads(tracker.ok("show", "koelehaetter-forsoegsordning-start", "--json").output)
    (line,) = record["funded"]
    assert (line["row"], line["amounts"], line["ongoing"]) == ("Heraf regioner",
                                                               {"2026": 9.0, "2027": 1.0, "2028": 1.0}, 0.0)
    assert record["occurrences"][0]["funded"] == {"years": [2026, 2027, 2028], "ongoing": False}
    # Two Tabel 1 lines for one initiative (the municipalities' and the regions' basal palliation): one span.
    danish = Tracker(database_url, lang="da").ok("show", "kvalitetsstandarder-kommunal-sygepleje").output
    assert "Finansieret:     fra 2026, varigt" in danish, danish
    with serving(database_url, datetime(2026, 12, 2, 10, tzinfo=timezone.utc)) as base:
        board = httpx.get(f"{base}/", timeout=10).text
        page = httpx.get(f"{base}/deliverables/koelehaetter-evaluering", timeout=10).text
    row = re.search(r'<tr[^>]*data-id="koelehaetter-evaluering".*?</tr>', board, re.S)
    assert row is not None and '<small class="funded">(finansieret 2026–2028)</small>' in row.group(0)
    assert '<dt>Finansieret</dt><dd class="funded">2026–2028</dd>' in page


@pytest.fixture()
def english() -> object:
    with using_language("en"):
        yield


def _messages(text: str) -> list[str]:
    with pytest.raises(RegisterError) as raised:
        parse_register(text.encode())
    return [problem.message for problem in raised.value.problems]


def test_funding_in_the_wrong_place_or_read_as_a_deadline_is_refused_with_the_fix(small_register: Path,
                                                                                english: object) -> None:
    text = small_register.read_text(encoding="utf-8").replace(
        'deadline = "senest i første halvår af 2026"\n', 'deadline = "senest i første halvår af 2026"\n'
        'initiative = "Senfølger"\n', 1)
    assert 'initiative = "Senfølger"' in text
    old_format = text.replace('initiative = "Senfølger"', 'initiative = "Senfølger"\nfunding = "Der er afsat …"', 1)
    assert any("funding is a fact about the initiative, not the deliverable" in message
               for message in _messages(old_format))
    assert any("no deliverable names the initiative 'Senfoelger'" in message and "Did you mean 'Senfølger'?"
               in message for message in _messages(text + FUNDING.replace('"Senfølger"', '"Senfoelger"', 1)))
    assert any("'20x6' is not a year" in message for message in _messages(text + FUNDING.replace("2026 = 60",
                                                                                                 '"20x6" = 60')))
    # A deliverable whose deadline comes from the funding sentence needs a reading that says why.
    funded_deadline = text + FUNDING + FUNDING_DEADLINE
    assert any("the deadline is read from a funding sentence" in message for message in _messages(funded_deadline))
    accepted = parse_register((funded_deadline.replace('kind = "start"\n', 'kind = "start"\nreading = "The '
                                                       'money starts in 2026, and so does the work."\n')).encode())
    assert [entry.initiative for entry in accepted.deliverables["penge-start"].funding] == ["Senfølger"]


FUNDING_DEADLINE = '''

[[deliverable]]
id = "penge-start"
title = "Indsatsen starter"
title_en = "The effort starts"
kind = "start"
owner = "regionerne"
deadline = "i 2026-2027"
theme = "anbefaling-7"
initiative = "Senfølger"
source = { file = "test", section = "Senfølger", quote = "Der er afsat 60 mio. kr. årligt i 2026-2027." }
'''
