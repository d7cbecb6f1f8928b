"""The register: the shipped one is valid and faithful; broken ones report every problem with its line."""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path

import pytest

from tracker.coverage import coverage
from tracker.deadlines import Recurrence
from tracker.errors import RegisterError
from tracker.model import Funded, Status
from tracker.register import default_register_path, load_register, parse_register
from tests.conftest import SEEDS, Tracker

pytestmark = pytest.mark.usefixtures("english")  # the problems are asserted in English, the source language


def _fold(text: str) -> str:
    return " ".join(text.split())


def _require_seeds() -> None:
    """The source documents sit beside the checkout (../shared/seeds); in CI they must."""
    if SEEDS.exists():
        return
    message = f"the source documents are not at {SEEDS}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def test_the_shipped_register_is_valid_and_covers_the_agreement() -> None:
    register = load_register()
    assert len(register.deliverables) >= 40
    assert sorted(theme.number for theme in register.themes.values()) == list(range(1, 12))
    assert register.timezone == "Europe/Copenhagen"
    # The yearly regional status (Implementering og opfølgning) is there with its five occurrences.
    recurring = [d for d in register.deliverables.values() if isinstance(d.schedule, Recurrence)]
    assert any(
        d.owner == "danske-regioner" and [o.key for o in d.occurrences()] == [2026, 2027, 2028, 2029, 2030]
        for d in recurring
    )


def test_every_quote_in_the_shipped_register_is_verbatim_in_its_source() -> None:
    _require_seeds()
    sources = {path.name: _fold(path.read_text(encoding="utf-8")) for path in SEEDS.glob("*.txt")}
    register = load_register()
    missing = []
    for deliverable in register.deliverables.values():
        source = sources[deliverable.source.file]
        if _fold(deliverable.source.quote) not in source:
            missing.append(deliverable.id)
        if deliverable.source.section not in source:
            missing.append(f"{deliverable.id} (section)")
    for theme in register.themes.values():
        if _fold(theme.source.quote) not in sources[theme.source.file]:
            missing.append(theme.key)
    for entry in register.funding:
        if _fold(entry.source.quote) not in sources[entry.source.file]:
            missing.append(f"funding of {entry.initiative} ({entry.table_row})")
    assert missing == []


def _tabel_1(text: str) -> dict[tuple[str, str], list[float]]:
    """Tabel 1 of the agreement as (group, row) → mio. kr. for 2026-2030 and "Varigt" (tags and footnote marks
    stripped, "-" as 0)."""
    def clean(cell: str) -> str:
        return re.sub(r"<[^>]+>", "", re.sub(r"<sup>.*?</sup>", "", cell)).strip()

    lines = text.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("Mio. kr. (2025-pl)"))
    rows, group = {}, ""
    for line in lines[start + 1:]:
        if not line.strip():
            break
        cells = line.split("\t")
        label = clean(cells[0])
        if cells[0].startswith("<b>"):
            group = label
        rows[(group, label)] = [0.0 if cell.strip() == "-" else float(clean(cell).replace(",", "."))
                                for cell in cells[1:]]
    return rows


def test_the_funding_facts_are_tabel_1s_numbers() -> None:
    """Every [[funding]] entry that names a Tabel 1 line has that line's money, year by year and "Varigt": the
    years the dashboard shows are the agreement's, not a transcription's."""
    _require_seeds()
    table = _tabel_1((SEEDS / "001_ef795b8afb91781f.txt").read_text(encoding="utf-8"))
    register = load_register()
    compared = 0
    for entry in register.funding:
        if not entry.table_row:
            assert entry.reading, f"{entry.initiative}: funding outside Tabel 1 needs a reading that says why"
            continue
        amounts = table[(entry.table_group, entry.table_row)]
        expected = {year: amount for year, amount in zip(range(2026, 2031), amounts[:5]) if amount}
        assert dict(entry.amounts) == expected, (entry.initiative, entry.table_row)
        assert entry.ongoing == amounts[5], (entry.initiative, entry.table_row)
        compared += 1
    assert compared >= 25
    # The money of Kræftplan V's own lines adds up to Tabel 1's total, less what was already allocated.
    total = [sum(dict(entry.amounts).get(year, 0) for entry in register.funding if entry.table_row)
             for year in range(2026, 2031)]
    allocated = table[("Allerede udmøntede midler", "Allerede udmøntede midler")][:5]
    skipped = [sum(table[key][index] for key in table if key[0] == "Mindre brug af tobaks- og nikotinprodukter"
                   and key[0] != key[1]) for index in range(5)]  # two rows no deliverable names
    assert [round(t + a + s, 1) for t, a, s in zip(total, allocated, skipped)] == \
        table[("I alt", "I alt")][:5]


def test_a_deliverable_shows_the_years_its_initiative_is_funded() -> None:
    register = load_register()
    cooling = register.deliverables["koelehaetter-evaluering"]
    assert [entry.table_row for entry in cooling.funding] == ["Heraf regioner"]
    assert Funded.of(entry.as_json() for entry in cooling.funding).text() == "funded 2026–2028"
    capacity = next(d for d in register.deliverables.values() if d.initiative == "Udrednings- og behandlingsskapacitet")
    assert Funded.of(entry.as_json() for entry in capacity.funding).text() == "funded from 2026, for good"
    assert Funded.of([{"amounts": {"2026": 10, "2028": 10}, "ongoing": 0}]).text() == "funded 2026 and 2028"
    assert Funded.of([{"amounts": {"2026": 1, "2027": 1, "2029": 2}, "ongoing": 0}]).text() == \
        "funded 2026–2027 and 2029"
    assert Funded.of([{"amounts": {}, "ongoing": 0}]) is None


def test_the_shipped_register_marks_done_only_what_the_text_states_as_done() -> None:
    _require_seeds()
    for deliverable in load_register().deliverables.values():
        if deliverable.status is Status.DONE:
            # The quote itself must say it happened: a past tense or "published"/"begun".
            assert re.search(r"offentliggjort|påbegyndt|indgået|har .* (udarbejdet|offentliggjort)",
                             deliverable.source.quote + (deliverable.reading or "")), deliverable.id


def test_every_deliverable_has_a_reading_when_its_deadline_is_interpreted() -> None:
    for deliverable in load_register().deliverables.values():
        if deliverable.interpreted_as:
            assert deliverable.reading and len(deliverable.reading) > 20, deliverable.id


def test_the_small_register_builds_domain_objects(small_register: Path) -> None:
    register = load_register(small_register)
    clinics = register.deliverables["senfoelgeklinikker"]
    assert clinics.co_owners == ("sst",)
    assert clinics.occurrences()[0].deadline.due.isoformat() == "2026-06-30"
    assert register.deliverables["evaluering"].depends_on == ("senfoelgeklinikker",)
    assert register.digest and register.path == str(small_register)


# ---------------------------------------------------------------------------
# Broken registers


def _problems(text: str) -> list[str]:
    with pytest.raises(RegisterError) as raised:
        parse_register(text.encode("utf-8"), "broken.toml")
    return [problem.describe("broken.toml") for problem in raised.value.problems]


def _line_of(text: str, fragment: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(fragment)


@pytest.fixture
def small_text(small_register: Path) -> str:
    return small_register.read_text(encoding="utf-8")


def test_a_toml_syntax_error_names_its_line(small_text: str) -> None:
    broken = small_text.replace('title_en = "Yearly regional status"', 'title_en = "Yearly regional status')
    (problem,) = _problems(broken)
    assert problem.startswith(f"broken.toml:{_line_of(broken, 'Yearly regional status')}:")
    assert "TOML syntax error" in problem


def test_every_problem_is_reported_at_once_with_line_path_value_and_what_is_accepted(small_text: str) -> None:
    broken = (
        small_text
        .replace('co_owners = ["sst"]', 'co_owners = ["sst"]\ndeadlien = "typo"')
        .replace('owner = "regionerne"\nrecipient = "ism"', 'owner = "regioner"\nrecipient = "ism"')
        .replace('deadline = "inden udgangen af 2028"', 'deadline = "inden udgangen af tyvetyveotte"')
        .replace("Regionerne laver en evaluering inden udgangen af 2028",
                 "Regionerne laver en evaluering inden udgangen af tyvetyveotte")
        .replace('title = "Årlig regional status"\n', "")
        .replace('kind = "milestone"', 'kind = "milepæl"')
    )
    problems = _problems(broken)
    text = "\n".join(problems)
    assert len(problems) == 5, text
    assert f"broken.toml:{_line_of(broken, 'deadlien')} [deliverable[0].deadlien]: unknown key 'deadlien'. " \
           "Did you mean 'deadline'?" in text
    owner_line = _line_of(broken, 'owner = "regioner"')
    assert f"broken.toml:{owner_line} [deliverable[2].owner]: unknown party " \
           "'regioner'. Did you mean 'regionerne'?" in text
    assert "cannot read the deadline 'inden udgangen af tyvetyveotte'. Accepted forms:" in text
    assert "[deliverable[1]]: missing required key 'title'" in text
    assert "'milepæl' is not one of: product, milestone, start, report, decision" in text


def test_duplicate_ids_name_both_lines(small_text: str) -> None:
    broken = small_text.replace('id = "evaluering"', 'id = "senfoelgeklinikker"')
    (problem,) = [p for p in _problems(broken) if "duplicate" in p]
    first = _line_of(broken, "[[deliverable]]")
    assert f"already used on line {first}" in problem
    assert problem.startswith(f"broken.toml:{_line_of(broken, 'Evaluering af') - 1} ")


def test_a_due_day_before_the_window_is_refused(small_text: str) -> None:
    broken = small_text.replace(
        'depends_on = ["senfoelgeklinikker"]',
        'depends_on = ["senfoelgeklinikker"]\nwindow_start = 2028-06-01\ndue = 2028-03-31\n'
        'reading = "moved by hand"',
    )
    (problem,) = _problems(broken)
    assert "the due day 2028-03-31 is before the window's first day 2028-06-01" in problem
    assert problem.startswith(f"broken.toml:{_line_of(broken, 'due = 2028-03-31')} ")


def test_a_recurrence_without_an_end_is_refused(small_text: str) -> None:
    broken = small_text.replace(" og til og med 2028", "")
    (problem,) = _problems(broken)
    assert "has no end" in problem


def test_dependency_cycles_are_reported_once(small_text: str) -> None:
    broken = small_text.replace(
        'deadline = "senest i første halvår af 2026"',
        'deadline = "senest i første halvår af 2026"\ndepends_on = ["evaluering"]',
    )
    (problem,) = _problems(broken)
    assert "dependency cycle" in problem
    assert "senfoelgeklinikker" in problem and "evaluering" in problem


def test_a_deadline_must_be_words_from_the_quote(small_text: str) -> None:
    shorter = small_text.replace('deadline = "inden udgangen af 2028"', 'deadline = "2028"')
    assert parse_register(shorter.encode()).deliverables["evaluering"].deadline_text == "2028"  # in the quote
    broken = small_text.replace('deadline = "inden udgangen af 2028"', 'deadline = "ultimo 2028"')
    (problem,) = _problems(broken)
    assert "does not occur in source.quote" in problem


def test_interpreted_as_needs_a_reading(small_text: str) -> None:
    broken = small_text.replace('deadline = "inden udgangen af 2028"',
                                'deadline = "inden udgangen af 2028"\ninterpreted_as = "H2 2028"')
    (problem,) = _problems(broken)
    assert "needs a reading" in problem


def test_wrong_types_and_bad_slugs(small_text: str) -> None:
    broken = small_text.replace("number = 7", 'number = "7"').replace('key = "sst"', 'key = "Sundhedsstyrelsen"')
    problems = "\n".join(_problems(broken))
    assert "expected an int, found str '7'" in problems
    assert "'Sundhedsstyrelsen' is not a slug" in problems


def test_a_missing_file_is_one_clear_problem(tmp_path: Path) -> None:
    with pytest.raises(RegisterError) as raised:
        load_register(tmp_path / "nope.toml")
    assert "cannot read the file" in raised.value.message


def test_invalid_utf8_is_reported_with_its_line() -> None:
    with pytest.raises(RegisterError) as raised:
        parse_register(b'[register]\ntitle = "\xff"\n', "bad.toml")
    assert raised.value.problems[0].line == 2


def test_the_shipped_register_parses_with_plain_tomllib_too() -> None:
    data = tomllib.loads(default_register_path().read_text(encoding="utf-8"))
    assert len(data["deliverable"]) == len(load_register().deliverables)


def test_every_dated_sentence_of_the_agreement_is_tracked_or_skipped_with_a_reason() -> None:
    _require_seeds()
    register = load_register()
    agreement = register.sources["agreement"]["file"]
    covered = coverage(register, agreement, (SEEDS / agreement).read_text(encoding="utf-8"))
    assert len(covered) > 80
    gaps = [f"l. {item.sentence.line}: {item.sentence.text[:120]}" for item in covered if not item.covered]
    assert gaps == [], "dated sentences neither tracked nor skipped:\n" + "\n".join(gaps)
    # Every deliverable quoting the agreement is found as a sentence of it, and every skip is one too.
    found = {identifier for item in covered for identifier in item.tracked_by}
    for skip in register.skipped:
        assert _fold(skip.quote.replace("*", "")) in _fold((SEEDS / skip.file).read_text(encoding="utf-8").replace(
            "*", "")), skip.quote[:80]
        assert skip.reason.strip(), skip.quote[:80]
    dated_quotes = {d.id for d in register.deliverables.values()
                    if d.source.file == agreement and re.search(r"(19|20)\d\d", " ".join(
                        [d.source.quote, *(entry.source.quote for entry in d.funding)]))}
    assert dated_quotes <= found, dated_quotes - found


def test_a_gap_in_the_coverage_is_named_with_its_line_and_the_fix(tmp_path: Path, small_register: Path,
                                                                 sqlite_url: str) -> None:
    source = tmp_path / "001_test.txt"
    source.write_text("# Senfølger\n\nRegionerne laver en evaluering inden udgangen af 2028, som afleveres.\n"
                      "Parterne er enige om at samarbejde. Midlerne udmøntes i 2026 og frem.\n"
                      "Heraf regioner\t1\t2\n", encoding="utf-8")
    register = tmp_path / "register.toml"
    text = small_register.read_text(encoding="utf-8").replace('file = "test"', 'file = "001_test.txt"').replace(
        'file = "001_ef795b8afb91781f.txt"', 'file = "001_test.txt"')  # every deliverable quotes the one source
    register.write_text(text, encoding="utf-8")
    tracker = Tracker(sqlite_url, register)
    result = tracker.fails("validate", str(register), "--coverage", "--sources", str(tmp_path))
    assert "001_test.txt: 2 dated sentences, 1 tracked, 0 skipped, 1 not tracked." in result.output
    assert "l. 3 [Senfølger] Regionerne laver en evaluering inden udgangen af 2028" in result.output
    assert "tracked by evaluering" in result.output
    assert "l. 4 [Senfølger] Midlerne udmøntes i 2026 og frem." in result.output
    assert "NOT TRACKED" in result.output and "1 dated sentence is neither tracked nor skipped." in result.output
    register.write_text(text + """
[[skipped]]
source = { file = "001_test.txt", section = "Senfølger", quote = "Midlerne udmøntes i 2026 og frem." }
reason = "Funding: when money flows, not what is due."
""", encoding="utf-8")
    covered = json.loads(tracker.ok("validate", str(register), "--coverage", "--sources", str(tmp_path),
                                    "--json").output)
    assert [(item["line"], item["tracked_by"], item["skipped"]) for item in covered] == [
        (3, ["evaluering"], None), (4, [], "Funding: when money flows, not what is due.")]
    missing = tracker.fails("validate", str(register), "--coverage", "--sources", str(tmp_path / "nowhere"))
    assert "Cannot read the source document" in missing.output and "--sources" in missing.output
    assert "Traceback" not in missing.output
    twice = text + 2 * """
[[skipped]]
source = { file = "001_test.txt", section = "Senfølger", quote = "Midlerne udmøntes i 2026 og frem." }
reason = "Funding."
"""
    register.write_text(twice, encoding="utf-8")
    assert "the same sentence is skipped twice" in tracker.fails("validate", str(register)).output
