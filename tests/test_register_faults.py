"""Registers as they arrive broken in practice: no input crashes the loader, every problem names its line.

What fault injection found (issue 13): deep nesting raised RecursionError, a
list where a string belongs a TypeError, a byte-order mark read as "Invalid
statement", a party without ``kind`` made four follow-on errors, and a
register with 750,000 problems printed 147 MB. The property test at the end
mutates a real register at random: nothing but a ``RegisterError`` may escape.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from tracker.errors import RegisterError
from tracker.register import MAX_NESTING, default_register_path, parse_register

pytestmark = pytest.mark.usefixtures("english")  # the problems are asserted in English, the source language

SMALL = (FIXTURES / "register_small.toml").read_text(encoding="utf-8")
SHIPPED = default_register_path().read_text(encoding="utf-8")


def problems_of(text: str | bytes) -> RegisterError:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    with pytest.raises(RegisterError) as caught:
        parse_register(raw, "deliverables.toml")
    return caught.value


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize("opening, closing", [("{a = ", "}"), ("[", "]")])
def test_values_nested_thousands_deep_are_a_problem_on_their_line(opening: str, closing: str) -> None:
    text = SMALL + "\nx = " + opening * 5000 + "1" + closing * 5000 + "\n"
    error = problems_of(text)
    (problem,) = error.problems
    assert problem.line == text.count("\n")  # the last line, where the nesting is
    assert f"more than {MAX_NESTING} levels" in problem.message


def test_nesting_inside_strings_and_comments_does_not_count() -> None:
    text = SMALL.replace('title = "Testplan"', 'title = "' + "[" * 200 + '" # ' + "{" * 200)
    with pytest.raises(RegisterError) as caught:  # the title is fine; the register then breaks elsewhere, not here
        parse_register((text + "\n[[deliverable]]\n").encode(), "deliverables.toml")
    assert not any("nested" in problem.message for problem in caught.value.problems)


def test_a_list_of_lists_where_ids_belong_is_a_problem_not_a_type_error() -> None:
    text = SMALL.replace('depends_on = ["senfoelgeklinikker"]', 'depends_on = [["a"], {x = 1}]')
    error = problems_of(text)
    (problem,) = error.problems
    assert problem.line == line_of(text, "depends_on = [[")
    assert "expected a list of str" in problem.message


@pytest.mark.parametrize("old, new, field", [
    ('id = "evaluering"', 'id = ["a"]', "id"),
    ('recipient = "ism"', 'recipient = ["ism"]', "recipient"),
    ('co_owners = ["sst"]', 'co_owners = [["sst"]]', "co_owners"),
    ('theme = "anbefaling-7"\ndepends_on', 'theme = { x = 1 }\ndepends_on', "theme"),
    ('id = "evaluering"', 'id = "evaluering"\nrenamed_from = [1]', "renamed_from"),
    ('key = "ism"', 'key = 7', "key"),
])
def test_any_field_of_the_wrong_shape_is_a_problem_with_its_line(old: str, new: str, field: str) -> None:
    assert old in SMALL
    text = SMALL.replace(old, new, 1)
    error = problems_of(text)
    assert error.problems and all(problem.line for problem in error.problems)
    assert any(problem.path.endswith(field) for problem in error.problems)


def test_a_dependency_chain_thousands_long_is_checked_without_recursion() -> None:
    count = 3000
    blocks = [SMALL]
    for index in range(count):
        depends = f'depends_on = ["chain-{index + 1}"]' if index + 1 < count else 'depends_on = ["chain-0"]'
        blocks.append(f'''
[[deliverable]]
id = "chain-{index}"
title = "Led {index}"
title_en = "Link {index}"
kind = "product"
owner = "sst"
deadline = "inden udgangen af 2027"
theme = "anbefaling-7"
{depends}
source = {{ file = "test", section = "Kæde", quote = "Det sker inden udgangen af 2027." }}
''')
    error = problems_of("".join(blocks))
    (problem,) = error.problems  # the one cycle, through all 3,000
    assert problem.message.startswith("dependency cycle: chain-0 → chain-1 → ")
    assert problem.line is not None


def test_a_byte_order_mark_is_named_with_how_to_save_without_it() -> None:
    error = problems_of(b"\xef\xbb\xbf" + SMALL.encode("utf-8"))
    (problem,) = error.problems
    assert problem.line == 1 and "byte-order mark" in problem.message and "UTF-8" in problem.message
    assert "Invalid statement" not in problem.message


def test_a_quoted_date_says_to_write_it_without_quotes() -> None:
    text = SMALL.replace('deadline = "inden udgangen af 2028"',
                         'deadline = "inden udgangen af 2028"\ndue = "2028-06-30"\nreading = "Aftalt."')
    (problem,) = problems_of(text).problems
    assert problem.line == line_of(text, 'due = "2028')
    assert problem.message.endswith("A date is written without quotes: due = 2028-06-30.")


def test_a_party_without_kind_is_reported_once_not_at_every_use() -> None:
    text = SMALL.replace('kind = "regions"\n', "", 1)
    error = problems_of(text)
    assert [problem.message for problem in error.problems] == ["missing required key 'kind'."]
    assert error.problems[0].line == line_of(text, 'key = "regionerne"') - 1  # its [[party]] header


def test_a_very_deep_table_header_has_its_line() -> None:
    text = SMALL + "\n[" + ".".join(["a"] * 5000) + "]\nx = 1\n"
    (problem,) = problems_of(text).problems
    assert problem.line == line_of(text, "[a.a.a")
    assert "unknown key 'a'" in problem.message


def test_renamed_from_must_name_an_id_the_register_no_longer_has() -> None:
    itself = problems_of(SMALL.replace('id = "evaluering"', 'id = "evaluering"\nrenamed_from = "evaluering"'))
    assert "own id" in itself.problems[0].message
    taken = problems_of(SMALL.replace('id = "evaluering"', 'id = "evaluering"\nrenamed_from = "regional-status"'))
    assert "still a deliverable in the register" in taken.problems[0].message
    twice = problems_of(SMALL.replace('id = "evaluering"', 'id = "evaluering"\nrenamed_from = "gammel"')
                        .replace('id = "regional-status"', 'id = "regional-status"\nrenamed_from = "gammel"'))
    assert "already renamed to another deliverable on line" in twice.problems[0].message
    slug = problems_of(SMALL.replace('id = "evaluering"', 'id = "evaluering"\nrenamed_from = "Gammel Id"'))
    assert "is not a slug" in slug.problems[0].message


def test_a_register_with_thousands_of_problems_prints_the_first_hundred_and_counts_the_rest() -> None:
    broken = SHIPPED.replace('owner = "', 'owner = "ukendt-')  # every deliverable's owner unknown
    # And 5,000 unknown top-level keys: first, as TOML's top-level keys come before its tables.
    broken = "".join(f"extra{index} = {index}\n" for index in range(5000)) + broken
    error = problems_of(broken)
    total = len(error.problems)
    assert total > 5000
    message = error.message
    assert len(message.splitlines()) == 1 + RegisterError.SHOWN + 1 + 1  # heading, problems, the rest, advice
    assert f"and {total - RegisterError.SHOWN} more problems" in message
    owners = SHIPPED.count('\nowner = "')
    assert f"(unknown key …: 4900, unknown party …: {owners})" in message  # counted by kind; the first 100 shown
    assert len(message) < 40_000


# -- whatever the mutation, only RegisterError ----------------------------------------------------------------------

# Values of every TOML type, and shapes the register never has, to put where any value stands.
_VALUES = st.sampled_from([
    '""', '" "', '"x"', "0", "-1", "1e400", "true", "1979-05-27", "1979-05-27T07:32:00Z", "07:32:00", "[]",
    '[""]', '[["a"]]', "[1, 2]", "{}", '{ file = 1 }', '{ a = { b = { c = 1 } } }', '"senfoelgeklinikker"',
    '"2026-06-30"', '"første halvår af 2026"', '"én gang årligt fra 2026 og til og med 2030"', '"\\u0000"',
    "[" * 70 + "]" * 70, '"' + "x" * 300 + '"', '"inden udgangen af 99999"', '"i 0. kvartal 2026"',
])
_LINE_EDITS = st.sampled_from(["delete", "duplicate", "swap", "value", "truncate", "garble"])


@st.composite
def mutated(draw: st.DrawFn, base: str = SMALL) -> bytes:
    lines = base.splitlines()
    for _edit in range(draw(st.integers(min_value=1, max_value=4))):
        if not lines:
            break
        edit = draw(_LINE_EDITS)
        index = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        if edit == "delete":
            del lines[index]
        elif edit == "duplicate":
            lines.insert(index, lines[index])
        elif edit == "swap":
            other = draw(st.integers(min_value=0, max_value=len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        elif edit == "value" and "=" in lines[index]:
            lines[index] = lines[index].split("=", 1)[0] + "= " + draw(_VALUES)
        elif edit == "truncate":
            lines = lines[:index]
        elif edit == "garble":
            line = lines[index]
            cut = draw(st.integers(min_value=0, max_value=len(line)))
            lines[index] = line[:cut] + draw(st.text(max_size=5)) + line[cut:]
    return "\n".join(lines).encode("utf-8", errors="surrogatepass")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_no_mutation_of_a_register_raises_anything_but_a_register_error(raw: bytes) -> None:
    try:
        parse_register(raw, "deliverables.toml")
    except RegisterError as error:
        assert error.problems
        assert error.message  # renders, whatever the problems
        assert all(problem.message for problem in error.problems)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(SHIPPED))
def test_no_mutation_of_the_shipped_register_raises_anything_but_a_register_error(raw: bytes) -> None:
    try:
        parse_register(raw, "deliverables.toml")
    except RegisterError as error:
        assert error.problems


def test_the_mutations_do_find_problems() -> None:
    """The property tests above must not pass by never breaking anything."""
    assert problems_of(SMALL.replace('kind = "milestone"', 'kind = ["milestone"]')).problems
    assert problems_of(Path(FIXTURES / "register_small.toml").read_text(encoding="utf-8")[:500]).problems


# -- the contacts file, read the same way ---------------------------------------------------------------------

CONTACTS = (Path(__file__).resolve().parents[1] / "contacts.example.toml").read_text(encoding="utf-8")


def test_the_contacts_file_too_reports_deep_nesting_and_a_bom_as_problems() -> None:
    from tracker.notify.contacts import ContactsError, parse_contacts

    with pytest.raises(ContactsError) as nested:
        parse_contacts(CONTACTS + "\nx = " + "[" * 3000 + "]" * 3000 + "\n")
    assert nested.value.problems[0].line == CONTACTS.count("\n") + 2
    with pytest.raises(ContactsError) as bom:
        parse_contacts("\ufeff" + CONTACTS)
    assert "byte-order mark" in bom.value.message


@settings(max_examples=200, deadline=None)
@given(mutated(CONTACTS))
def test_no_mutation_of_a_contacts_file_raises_anything_but_a_contacts_error(raw: bytes) -> None:
    from tracker.notify.contacts import ContactsError, parse_contacts

    try:
        parse_contacts(raw.decode("utf-8", errors="replace"))
    except ContactsError as error:
        assert error.problems and error.message


def test_the_register_states_the_plans_one_time_zone_and_no_other() -> None:
    # The plan's days are Danish days (tracker.clock.PLAN_TIMEZONE); a register meaning another zone would have its
    # deadlines read a day off, so it is refused with the line to write.
    text = SMALL.replace('timezone = "Europe/Copenhagen"', 'timezone = "America/Los_Angeles"')
    (problem,) = [p for p in problems_of(text).problems if "timezone" in p.path]
    assert problem.line == line_of(text, "timezone =")
    assert "America/Los_Angeles" in problem.message and "timezone = 'Europe/Copenhagen'" in problem.message
