"""The register file → validated domain objects, with every problem and its line.

``load_register`` reads ``deliverables.toml`` and either returns a ``Register``
in which every reference resolves, or raises one ``RegisterError`` that lists
every problem at once (as vdirsyncer does with configuration): the line, the
key path, the bad value quoted and what would be accepted. The format is
described in ``docs/register.md``.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Callable

from tracker.deadlines import (Deadline, Period, Precision, Recurrence, Schedule, Undated, is_undated,
                               parse_deadline, parse_follows, resolve_follows)
from tracker.errors import DeadlineError, Problem, RegisterError
from tracker.i18n import N_, _, ngettext
from tracker.model import Deliverable, Funding, Initiative, Party, Register, Skipped, Source, Status, Theme
from tracker.policy import PolicySet, parse_policy
from tracker.text import siblings, suggestions
from tracker.toml_lines import MAX_NESTING, KeyLines, nesting_deeper_than

PARTY_KINDS = ("government", "ministry", "agency", "regions", "region", "municipalities",
               "association", "organisation", "forum")
DELIVERABLE_KINDS = ("product", "milestone", "start", "report", "decision")
HORIZONS = ("short", "medium", "long")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def default_register_path() -> Path:
    """The register shipped inside the package."""
    # Next to this module (not importlib.resources: that import alone costs a
    # coordinator's `tracker validate` more than the check itself).
    return Path(__file__).with_name("deliverables.toml")


@dataclass(frozen=True)
class _Field:
    kind: type | tuple[type, ...]
    required: bool = False
    choices: tuple[str, ...] = ()
    slug: bool = False
    list_of: type | None = None


def _fields(**fields: _Field) -> dict[str, _Field]:
    return fields


_TEXT = _Field(str, required=True)
_OPTIONAL_TEXT = _Field(str)
_SOURCE_FIELDS = _fields(file=_TEXT, section=_TEXT, quote=_TEXT)

_REGISTER_FIELDS = _fields(title=_TEXT, title_en=_TEXT, timezone=_TEXT, sources=_Field(dict))
_PARTY_FIELDS = _fields(
    key=_Field(str, required=True, slug=True), name=_TEXT, name_en=_TEXT,
    kind=_Field(str, required=True, choices=PARTY_KINDS), members=_Field(list, list_of=str),
)
_THEME_FIELDS = _fields(
    key=_Field(str, required=True, slug=True), number=_Field(int, required=True), title=_TEXT,
    title_en=_TEXT, topic=_TEXT, topic_en=_TEXT, chapter=_TEXT, source=_Field(dict, required=True),
    initiative=_Field(list, list_of=dict),
)
_INITIATIVE_FIELDS = _fields(
    letter=_TEXT, horizon=_Field(str, required=True, choices=HORIZONS), text=_TEXT, text_en=_OPTIONAL_TEXT,
)
_DELIVERABLE_FIELDS = _fields(
    id=_Field(str, required=True, slug=True), title=_TEXT, title_en=_TEXT,
    kind=_Field(str, required=True, choices=DELIVERABLE_KINDS), owner=_TEXT,
    co_owners=_Field(list, list_of=str), recipient=_OPTIONAL_TEXT, deadline=_TEXT,
    interpreted_as=_OPTIONAL_TEXT, reading=_OPTIONAL_TEXT, window_start=_Field(date), due=_Field(date),
    theme=_TEXT, initiative=_OPTIONAL_TEXT,
    status=_Field(str, choices=tuple(s.value for s in Status)), depends_on=_Field(list, list_of=str),
    renamed_from=_Field(str, slug=True), source=_Field(dict, required=True),
    per_member=_Field(bool), per_member_quote=_OPTIONAL_TEXT, per_member_reading=_OPTIONAL_TEXT,
)
_SKIPPED_FIELDS = _fields(source=_Field(dict, required=True), reason=_TEXT)
_FUNDING_FIELDS = _fields(
    initiative=_TEXT, table_row=_OPTIONAL_TEXT, table_group=_OPTIONAL_TEXT, recipient=_OPTIONAL_TEXT,
    amounts=_Field(dict, required=True), ongoing=_Field((int, float)), source=_Field(dict, required=True),
    reading=_OPTIONAL_TEXT,
)
_TOP_LEVEL = _fields(
    register=_Field(dict, required=True), party=_Field(list, list_of=dict), theme=_Field(list, list_of=dict),
    deliverable=_Field(list, list_of=dict), policy=_Field(dict), skipped=_Field(list, list_of=dict),
    funding=_Field(list, list_of=dict),
)

_BOM = "\ufeff"
_TOML_ERROR_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)|\(at end of document\)")


class _Collector:
    """Collects problems with their lines while the register is checked."""

    def __init__(self, text: str):
        self._text = text
        self._lines: KeyLines | None = None
        self.problems: list[Problem] = []

    @property
    def lines(self) -> KeyLines:
        """Built on the first problem only: a valid register never pays for the scan."""
        if self._lines is None:
            self._lines = KeyLines(self._text)
        return self._lines

    def add(self, path: tuple[str | int, ...], message: str) -> None:
        self.problems.append(Problem(line=self.lines.line_of(path), path=_format_path(path), message=message))


def _format_path(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def load_register(path: Path | str | None = None) -> Register:
    """Read and validate the register at ``path`` (the shipped one by default)."""
    register_path, raw = read_register_bytes(path)
    return parse_register(raw, str(register_path))


def read_register_bytes(path: Path | str | None = None) -> tuple[Path, bytes]:
    """The register file at ``path`` (the shipped one by default) and its bytes, unparsed: a sync that finds
    them as last synced need not parse them. RegisterError when the file cannot be read."""
    register_path = Path(path) if path is not None else default_register_path()
    try:
        return register_path, register_path.read_bytes()
    except OSError as error:
        raise RegisterError(str(register_path), [Problem(None, "", _(
            "cannot read the file ({reason}). Check the path, or leave it out "
            "to use the register shipped with tracker.").format(reason=error.strerror or error))]) from None


# A table header at the start of a line, and one of the policy's ([policy], [policy.party.X], [[policy.round]]).
_HEADER = re.compile(r"\[")
_POLICY_HEADER = re.compile(r"\[\[?\s*policy\s*[.\]]")
_TOP_POLICY_KEY = re.compile(r"\s*policy\s*[.=]")


def policy_text(text: str) -> str | None:
    """The register's policy tables alone, as TOML text; None where the policy may be elsewhere (dotted keys at
    the top). A sweep reads the policy of a register already synced from this, not the whole file: see
    ``tracker.store.sync.policy_of``, which holds the result to the digest of the policy the sync parsed."""
    kept, inside, headed = [], False, False
    for line in text.splitlines(keepends=True):
        if _HEADER.match(line):
            headed, inside = True, bool(_POLICY_HEADER.match(line))
        elif not headed and _TOP_POLICY_KEY.match(line):
            return None
        if inside:
            kept.append(line)
    return "".join(kept)


def parse_policy_alone(raw: bytes, parties: set[str], deliverable_ids: set[str]) -> PolicySet | None:
    """The policy of register bytes without the rest of the register, checked against these parties and
    deliverables; None when it cannot be read so (the caller parses the whole register instead)."""
    try:
        text = policy_text(raw.decode("utf-8"))
        data = tomllib.loads(text) if text is not None else None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return None
    if data is None:
        return None
    problems: list[str] = []
    policy = parse_policy(data.get("policy"), parties, deliverable_ids, lambda _path, message: problems.append(message))
    return None if problems else policy


def policy_digest(policy: PolicySet) -> str:
    """What a policy says, as a digest: the one parsed alone must say what the sync's parse of the file said."""
    return hashlib.sha256(repr(policy).encode("utf-8")).hexdigest()


def parse_register(raw: bytes, filename: str = "deliverables.toml") -> Register:
    """Validate register bytes; ``filename`` only names the file in messages."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise RegisterError(filename, [Problem(line, "", _("the file is not valid UTF-8; save it as UTF-8."))]) \
            from None
    if text.startswith(_BOM):
        raise RegisterError(filename, [Problem(1, "", _(
            "the file starts with a byte-order mark (BOM, the bytes EF BB BF), which TOML does not allow. Save it "
            "as UTF-8 without a BOM: in VS Code click 'UTF-8 with BOM' in the status bar and choose 'Save with "
            "Encoding' → 'UTF-8'; in Notepad choose 'Save as' with the encoding 'UTF-8', not 'UTF-8 with BOM'."))])
    try:
        data = tomllib.loads(text)
    except RecursionError:
        # tomllib recurses once per level of nesting; find the line only now (a valid register never pays for it).
        raise RegisterError(filename, [Problem(nesting_deeper_than(text, MAX_NESTING), "", ngettext(
            "values are nested more than {count} level deep ([ ] and {{ }} inside each other). The "
            "register needs at most three: check this line for brackets that are opened and never closed.",
            "values are nested more than {count} levels deep ([ ] and {{ }} inside each other). The "
            "register needs at most three: check this line for brackets that are opened and never closed.",
            MAX_NESTING).format(count=MAX_NESTING))]) from None
    except tomllib.TOMLDecodeError as error:
        position = _TOML_ERROR_POSITION.search(str(error))
        line = int(position.group(1)) if position and position.group(1) else text.count("\n") + 1
        reason = _TOML_ERROR_POSITION.sub("", str(error)).strip()
        raise RegisterError(filename, [Problem(line, "", _(
            "TOML syntax error: {reason}. Check quotes, brackets and '=' on this line (strings need double "
            "quotes; a value cannot span lines unless it is a \"\"\"multi-line string\"\"\").").format(
            reason=reason))]) from None

    collector = _Collector(text)
    register = _build(data, collector)
    if collector.problems or register is None:
        raise RegisterError(filename, collector.problems)
    return replace(register, path=filename, digest=hashlib.sha256(raw).hexdigest())


def _check_table(table: Any, fields: dict[str, _Field], path: tuple[str | int, ...], collector: _Collector) -> bool:
    """Check keys and value types of one table; True when it is usable."""
    if not isinstance(table, dict):
        collector.add(path, _("expected a table, found {found}.").format(found=_describe(table)))
        return False
    usable = True
    for key, value in table.items():
        spec = fields.get(key)
        if spec is None:
            close = _closest(key, fields)
            hint = " " + _did_you_mean(close) if close else ""
            # Translators: {hint} is empty, or a space and "Did you mean {close!r}?" (translated on its own).
            collector.add(path + (key,), _("unknown key {key!r}.{hint} Accepted keys: {keys}.").format(
                key=key, hint=hint, keys=", ".join(fields)))
            continue
        if not _value_fits(value, spec):
            message = _("expected {expected}, found {found}.").format(expected=_expected(spec), found=_describe(value))
            if spec.kind is date and isinstance(value, str) and _is_iso_date(value):
                message += " " + _("A date is written without quotes: {key} = {value}.").format(
                    key=key, value=value.strip())
            collector.add(path + (key,), message)
            usable = False
            continue
        if spec.choices and value not in spec.choices:
            collector.add(path + (key,), _("{value!r} is not one of: {choices}.").format(
                value=value, choices=", ".join(spec.choices)))
            usable = False
        if spec.slug and not SLUG.match(value):
            collector.add(path + (key,), _(
                "{value!r} is not a slug: use lower-case ASCII letters, digits and single hyphens "
                "(æ→ae, ø→oe, å→aa).").format(value=value))
            usable = False
        if spec.kind is str and not value.strip():
            collector.add(path + (key,), _("the value is empty."))
            usable = False
    for key, spec in fields.items():
        if spec.required and key not in table:
            collector.add(path, _("missing required key {key!r}.").format(key=key))
            usable = False
    return usable


def _value_fits(value: Any, spec: _Field) -> bool:
    if spec.kind is int and isinstance(value, bool):
        return False
    if spec.kind is date and not (isinstance(value, date) and type(value) is date):
        return False
    if not isinstance(value, spec.kind):
        return False
    if spec.list_of is not None:
        return isinstance(value, list) and all(isinstance(item, spec.list_of) for item in value)
    return True


def _is_iso_date(text: str) -> bool:
    try:
        date.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


def _did_you_mean(close: str) -> str:
    return _("Did you mean {close!r}?").format(close=close)


# Translators: what a key must hold, for "expected {expected}, found {found}."; str, int and dict are the names of
# TOML's types (text, whole number, table).
_EXPECTED: dict[tuple[object, object], str] = {
    (list, dict): N_("a list of dict"), (list, str): N_("a list of str"), (str, None): N_("a str"),
    (int, None): N_("an int"), (dict, None): N_("a dict"), (list, None): N_("a list"), (date, None): N_("a date")}
# Translators: the value found, for "expected {expected}, found {found}.": its type, then the value itself.
_FOUND = {str: N_("str {value!r}"), bool: N_("bool {value!r}"), int: N_("int {value!r}"),
          float: N_("float {value!r}"), datetime: N_("datetime {value!r}"), date: N_("date {value!r}"),
          time: N_("time {value!r}")}


def _expected(spec: _Field) -> str:
    """What a field holds, as a problem names it: "a str", "a list of dict"."""
    kind = list if spec.list_of else spec.kind
    return _(_EXPECTED.get((kind, spec.list_of), N_("a value")))


def _describe(value: Any) -> str:
    """What a value is, as a problem names it: "a table", "int 5"."""
    if isinstance(value, dict):
        return _("a table")
    if isinstance(value, list):
        return _("a list")
    template = _FOUND.get(type(value))
    return _(template).format(value=value) if template else f"{type(value).__name__} {value!r}"


def _closest(word: str, candidates: Any) -> str | None:
    matches = suggestions(word, candidates, limit=1)
    return matches[0] if matches else None


def _folded(text: str) -> str:
    return " ".join(text.split())


def _build(data: dict[str, Any], collector: _Collector) -> Register | None:
    _check_table(data, _TOP_LEVEL, (), collector)
    meta = data.get("register", {})
    meta_ok = _check_table(meta, _REGISTER_FIELDS, ("register",), collector)
    if meta_ok:
        _check_timezone(meta["timezone"], collector)

    for index, table in enumerate(_tables(data, "deliverable")):
        if isinstance(table, dict) and "funding" in table:
            # The format before funding became facts on the initiative: say where it goes now.
            collector.add(("deliverable", index, "funding"), _(
                "funding is a fact about the initiative, not the deliverable: remove it here and give the "
                "initiative a [[funding]] entry with its years, amounts and sentence (docs/register.md, \"Funding\")."))
            del table["funding"]
    parties = _collect_unique(data, "party", "key", _PARTY_FIELDS, collector, _build_party)
    themes = _collect_unique(data, "theme", "key", _THEME_FIELDS, collector,
                             lambda table, path: _build_theme(table, path, collector))
    deliverables = _collect_unique(data, "deliverable", "id", _DELIVERABLE_FIELDS, collector,
                                   lambda table, path: _build_deliverable(table, path, collector))
    if not deliverables and not collector.problems:
        collector.add(("register",), _("the register has no [[deliverable]] entries."))

    tables = _tables(data, "deliverable")
    known_ids = _declared(tables, "id")
    # A party or theme that is declared but broken has its own problem; what refers to it is not wrong too.
    declared_parties = _declared(_tables(data, "party"), "key")
    declared_themes = _declared(_tables(data, "theme"), "key")
    for index, table in enumerate(tables):
        _check_references(table, ("deliverable", index), declared_parties, declared_themes, known_ids, collector)
    _check_renames(tables, known_ids, collector)
    _check_members(_tables(data, "party"), tables, declared_parties, collector)
    _check_cycles(tables, collector)
    deliverables = _resolve_follows(deliverables, tables, collector)
    policy = parse_policy(data.get("policy"), declared_parties, known_ids, collector.add)
    skipped = _build_skipped(data, collector)
    funding = _build_funding(data, declared_parties, tables, collector)

    if not meta_ok or collector.problems:
        return None
    deliverables = {identifier: replace(deliverable, funding=tuple(
        entry for entry in funding if entry.initiative == deliverable.initiative))
        for identifier, deliverable in deliverables.items()}
    return Register(
        title=meta["title"], title_en=meta["title_en"], timezone=meta["timezone"],
        parties=parties, themes=themes, deliverables=deliverables,
        sources={key: dict(value) for key, value in meta.get("sources", {}).items()},
        policy=policy, skipped=skipped, funding=funding,
    )


def _build_skipped(data: dict[str, Any], collector: _Collector) -> tuple[Skipped, ...]:
    """The [[skipped]] entries: a source's dated sentences that are not deliverables, each with its reason."""
    skipped = []
    seen: dict[tuple[str, str], int] = {}
    for index, table in enumerate(_tables(data, "skipped")):
        path = ("skipped", index)
        if not _check_table(table, _SKIPPED_FIELDS, path, collector):
            continue
        source = _build_source(table["source"], path + ("source",), collector)
        if source is None:
            continue
        key = (source.file, _folded(source.quote))
        if key in seen:
            collector.add(path + ("source", "quote"), _("the same sentence is skipped twice; remove one of the "
                                                       "entries."))
            continue
        seen[key] = index
        skipped.append(Skipped(file=source.file, section=source.section, quote=source.quote,
                               reason=table["reason"]))
    return tuple(skipped)


def _tables(data: dict[str, Any], array: str) -> list[dict[str, Any]]:
    """The tables of an array of tables, at their indexes (anything else in the array counts as empty)."""
    items = data.get(array)
    if not isinstance(items, list):
        return []
    return [item if isinstance(item, dict) else {} for item in items]


def _declared(tables: list[dict[str, Any]], id_key: str) -> set[str]:
    return {table[id_key] for table in tables if isinstance(table.get(id_key), str)}


def _check_timezone(name: str, collector: _Collector) -> None:
    # The register states the plan's zone, and tracker has one (tracker.clock.PLAN_TIMEZONE): a register naming
    # another would have its days read in a zone it did not mean.
    from tracker.clock import PLAN_TIMEZONE

    if name != PLAN_TIMEZONE:
        collector.add(("register", "timezone"), _(
            "the time zone is {name!r}, but the plan's days are Danish days: write timezone = {zone!r}.").format(
            name=name, zone=PLAN_TIMEZONE))


def _collect_unique(data: dict[str, Any], array: str, id_key: str, fields: dict[str, _Field],
                    collector: _Collector, build: Callable[[dict[str, Any], tuple], Any]) -> dict[str, Any]:
    built: dict[str, Any] = {}
    first_seen: dict[str, int] = {}
    items = data.get(array, [])
    if not isinstance(items, list):
        return built
    for index, table in enumerate(items):
        path = (array, index)
        if not _check_table(table, fields, path, collector):
            continue
        identifier = table[id_key]
        if identifier in first_seen:
            first_line = collector.lines.line_of((array, first_seen[identifier]))
            collector.add(path + (id_key,), _duplicate(array, identifier, first_line))
            continue
        first_seen[identifier] = index
        item = build(table, path)
        if item is not None:
            built[identifier] = item
    return built


def _duplicate(array: str, identifier: str, line: int | None) -> str:
    if array == "party":
        message = _("duplicate key {identifier!r}: already used on line {line}. Every party needs its own key.")
    elif array == "theme":
        message = _("duplicate key {identifier!r}: already used on line {line}. Every theme needs its own key.")
    else:
        message = _("duplicate id {identifier!r}: already used on line {line}. Every deliverable needs its own id.")
    return message.format(identifier=identifier, line=line)


def _build_funding(data: dict[str, Any], parties: set[str], deliverables: list[Any],
                   collector: _Collector) -> tuple[Funding, ...]:
    """The [[funding]] entries: when money flows to an initiative, as facts. An initiative no deliverable names
    is refused (a misspelt name would show no funding anywhere), and so is a deadline read from a funding
    sentence without a reading that says why."""
    initiatives = sorted({table["initiative"] for table in deliverables
                          if isinstance(table, dict) and isinstance(table.get("initiative"), str)})
    funding = []
    for index, table in enumerate(_tables(data, "funding")):
        path = ("funding", index)
        if not _check_table(table, _FUNDING_FIELDS, path, collector):
            continue
        source = _build_source(table["source"], path + ("source",), collector)
        amounts = _funding_amounts(table["amounts"], path + ("amounts",), collector)
        ongoing = table.get("ongoing", 0)
        if ongoing < 0:
            collector.add(path + ("ongoing",), _("an amount cannot be negative."))
        if table["initiative"] not in initiatives:
            close = _closest(table["initiative"], initiatives)
            hint = " " + _did_you_mean(close) if close else ""
            collector.add(path + ("initiative",), _(
                "no deliverable names the initiative {name!r}: write it as the deliverables' initiative does.").format(
                name=table["initiative"]) + hint)
        recipient = table.get("recipient")
        if recipient is not None and recipient not in parties:
            close = _closest(recipient, sorted(parties))
            collector.add(path + ("recipient",), _("unknown party {key!r}.").format(key=recipient)
                          + (" " + _did_you_mean(close) if close else ""))
        if source is None or amounts is None or (not amounts and not ongoing):
            if amounts == ():
                collector.add(path + ("amounts",), _("no year has money: give at least one, e.g. amounts = "
                                                     "{{ 2026 = 9 }}."))
            continue
        funding.append(Funding(initiative=table["initiative"], amounts=amounts, ongoing=float(ongoing),
                               source=source, table_row=table.get("table_row", ""),
                               table_group=table.get("table_group", ""), recipient=recipient,
                               reading=table.get("reading")))
    quotes = {_folded(entry.source.quote) for entry in funding}
    for index, table in enumerate(deliverables):
        quote = table.get("source", {}).get("quote") if isinstance(table, dict) and \
            isinstance(table.get("source"), dict) else None
        if isinstance(quote, str) and _folded(quote) in quotes and not table.get("reading"):
            collector.add(("deliverable", index, "source", "quote"), _(
                "the deadline is read from a funding sentence, which says when money flows, not when something "
                "is due: add a reading that says why this year is a deadline."))
    return tuple(funding)


def _funding_amounts(table: dict[str, Any], path: tuple, collector: _Collector) -> tuple[tuple[int, float], ...] | None:
    """``{ 2026 = 9, 2027 = 1.5 }`` as ((2026, 9.0), (2027, 1.5)), or None after saying what is wrong."""
    amounts = []
    for key, value in table.items():
        if not (isinstance(key, str) and key.isdigit() and len(key) == 4):
            collector.add(path + (key,), _("{key!r} is not a year: write amounts = {{ 2026 = 9 }}.").format(key=key))
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            collector.add(path + (key,), _("expected an amount in mio. kr. (a number, 0 or more), found "
                                           "{found}.").format(found=_describe(value)))
            return None
        amounts.append((int(key), float(value)))
    return tuple(sorted(amounts))


def _build_party(table: dict[str, Any], path: tuple) -> Party:
    return Party(key=table["key"], name=table["name"], name_en=table["name_en"], kind=table["kind"],
                 members=tuple(dict.fromkeys(table.get("members", ()))))


def _build_source(table: Any, path: tuple, collector: _Collector) -> Source | None:
    if not _check_table(table, _SOURCE_FIELDS, path, collector):
        return None
    return Source(file=table["file"], section=table["section"], quote=table["quote"])


def _build_theme(table: dict[str, Any], path: tuple, collector: _Collector) -> Theme | None:
    source = _build_source(table["source"], path + ("source",), collector)
    initiatives = []
    letters: set[str] = set()
    for index, item in enumerate(table.get("initiative", [])):
        item_path = path + ("initiative", index)
        if not _check_table(item, _INITIATIVE_FIELDS, item_path, collector):
            continue
        if item["letter"] in letters:
            collector.add(item_path + ("letter",), _("duplicate initiative letter {letter!r} in this theme.").format(
                letter=item["letter"]))
        letters.add(item["letter"])
        initiatives.append(Initiative(letter=item["letter"], horizon=item["horizon"], text=item["text"],
                                      text_en=item.get("text_en", "")))
    if source is None:
        return None
    return Theme(key=table["key"], number=table["number"], title=table["title"], title_en=table["title_en"],
                 topic=table["topic"], topic_en=table["topic_en"], chapter=table["chapter"], source=source,
                 initiatives=tuple(initiatives))


def _build_deliverable(table: dict[str, Any], path: tuple, collector: _Collector) -> Deliverable | None:
    source = _build_source(table["source"], path + ("source",), collector)
    if is_undated(table["deadline"]):
        # The source has no words for a date it does not give: the reading says why it is undated instead.
        if "reading" not in table:
            collector.add(path + ("deadline",), _("an undated commitment needs a reading that says why the text "
                                                  "gives it no date, and what would date it."))
    elif source is not None and _folded(table["deadline"]) not in _folded(source.quote):
        collector.add(path + ("deadline",), _(
            "the deadline {deadline!r} does not occur in source.quote. Copy the deadline's words "
            "verbatim from the quoted sentence; put any other reading in interpreted_as, with a reading.").format(
            deadline=table["deadline"]))
    if "interpreted_as" in table and "reading" not in table:
        collector.add(path + ("interpreted_as",),
                      _("interpreted_as needs a reading that says why the text is read so."))
    if "window_start" in table and "reading" not in table:
        collector.add(path + ("window_start",),
                      _("window_start overrides the deadline's window and needs a reading that says why."))
    if "due" in table and "reading" not in table:
        collector.add(path + ("due",), _("due overrides the deadline's window and needs a reading that says why."))
    schedule = _read_schedule(table, path, collector)
    if source is None or schedule is None:
        return None
    follows = parse_follows(table.get("interpreted_as", table["deadline"]))
    return Deliverable(
        id=table["id"], title=table["title"], title_en=table["title_en"], kind=table["kind"],
        owner=table["owner"], deadline_text=table["deadline"], schedule=schedule, theme=table["theme"],
        source=source, co_owners=tuple(table.get("co_owners", ())), recipient=table.get("recipient"),
        interpreted_as=table.get("interpreted_as"), reading=table.get("reading"),
        initiative=table.get("initiative"),
        status=Status(table.get("status", Status.NOT_STARTED.value)),
        depends_on=tuple(table.get("depends_on", ())), renamed_from=table.get("renamed_from"), follows=follows,
        per_member=bool(table.get("per_member", False)), per_member_quote=table.get("per_member_quote"),
        per_member_reading=table.get("per_member_reading"),
    )


# What a deliverable whose deadline follows another carries until ``_resolve_follows`` gives it its days; a register
# with one left unresolved has a problem and is never returned.
_UNRESOLVED = Deadline(text="", window_start=date.min, due=date.min, precision=Precision.DAY,
                       period=Period(Precision.DAY, 1900, index=1, day=1))


def _read_schedule(table: dict[str, Any], path: tuple, collector: _Collector) -> Schedule | None:
    key = "interpreted_as" if "interpreted_as" in table else "deadline"
    try:
        follows = parse_follows(table[key])
        schedule = _UNRESOLVED if follows is not None else parse_deadline(table[key])
    except DeadlineError as error:
        collector.add(path + (key,), error.message)
        return None
    if follows is not None and ("window_start" in table or "due" in table):
        collector.add(path + ("due",), _("a deadline that follows another deliverable takes its days from it; "
                                         "remove window_start and due."))
        return None
    if "window_start" not in table and "due" not in table:
        return schedule
    if isinstance(schedule, Recurrence):
        collector.add(path + ("due",), _("window_start and due cannot override a recurring deadline."))
        return None
    if isinstance(schedule, Undated):
        collector.add(path + ("due",), _("an undated commitment has no days: remove window_start and due, or give "
                                         "the deadline a date."))
        return None
    window_start = table.get("window_start", schedule.window_start)
    due = table.get("due", schedule.due)
    if due < window_start:
        collector.add(path + ("due",), _(
            "the due day {due} is before the window's first day {window_start}. "
            "The due day is the last day of the window.").format(due=due.isoformat(),
                                                                 window_start=window_start.isoformat()))
        return None
    return Deadline(text=schedule.text, window_start=window_start, due=due, precision=schedule.precision,
                    period=schedule.period)


def _check_references(table: dict[str, Any], path: tuple, parties: set[str], themes: set[str], known_ids: set[str],
                      collector: _Collector) -> None:
    """Check what a deliverable refers to, even when other fields of it are broken."""
    def check_party(key: Any, where: tuple) -> None:
        if isinstance(key, str) and key not in parties:
            close = _closest(key, sorted(parties))
            family = siblings(key, parties)
            if close:
                hint = _did_you_mean(close)
            elif family:
                hint = _("It is not a party of this register; those of its kind are: {parties}.").format(
                    parties=", ".join(family))
            else:
                hint = _("Add it as a [[party]].")
            collector.add(where, _("unknown party {key!r}.").format(key=key) + " " + hint)

    check_party(table.get("owner"), path + ("owner",))
    co_owners = table.get("co_owners", [])
    for index, key in enumerate(co_owners if isinstance(co_owners, list) else []):
        check_party(key, path + ("co_owners", index))
    check_party(table.get("recipient"), path + ("recipient",))
    theme = table.get("theme")
    if isinstance(theme, str) and theme not in themes:
        close = _closest(theme, sorted(themes))
        if close:
            hint = _did_you_mean(close)
        elif themes:
            hint = _("Known themes: {themes}.").format(themes=", ".join(sorted(themes)))
        else:
            hint = _("Known themes: none.")
        collector.add(path + ("theme",), _("unknown theme {theme!r}.").format(theme=theme) + " " + hint)
    depends_on = table.get("depends_on", [])
    for key in depends_on if isinstance(depends_on, list) else []:
        if not isinstance(key, str):
            continue  # the list's type is reported with the table
        if key == table.get("id"):
            collector.add(path + ("depends_on",), _("a deliverable cannot depend on itself."))
        elif key not in known_ids:
            close = _closest(key, sorted(known_ids))
            hint = " " + _did_you_mean(close) if close else ""
            collector.add(path + ("depends_on",), _("depends on unknown deliverable {key!r}.").format(key=key) + hint)


def _check_members(party_tables: list[dict[str, Any]], tables: list[dict[str, Any]], parties: set[str],
                   collector: _Collector) -> None:
    """A collective party's members, and the deliverables every member of one delivers its own part of."""
    members_of: dict[str, list[str]] = {}
    for index, table in enumerate(party_tables):
        members = table.get("members") if isinstance(table, dict) else None
        if not isinstance(members, list) or not isinstance(table.get("key"), str):
            continue
        members_of[table["key"]] = [key for key in members if isinstance(key, str)]
        seen: set[str] = set()
        for position, key in enumerate(members):
            where = ("party", index, "members", position)
            if not isinstance(key, str):
                continue  # the list's type is reported with the table
            if key == table["key"]:
                collector.add(where, _("a party cannot be a member of itself."))
            elif key not in parties:
                close = _closest(key, sorted(parties))
                hint = _did_you_mean(close) if close else _("Add it as a [[party]] of its own first.")
                collector.add(where, _("unknown party {key!r}.").format(key=key) + " " + hint)
            elif key in seen:
                collector.add(where, _("{key!r} is listed twice.").format(key=key))
            seen.add(key)
    for key, members in members_of.items():
        for member in members:
            if members_of.get(member):
                collector.add(("party", [t.get("key") for t in party_tables].index(key), "members"), _(
                    "{member!r} has members of its own: a member is one party that delivers its part, not another "
                    "collective.").format(member=member))
    for index, table in enumerate(tables):
        path = ("deliverable", index)
        if table.get("per_member") is True:
            owner = table.get("owner")
            if isinstance(owner, str) and owner in parties and not members_of.get(owner):
                collector.add(path + ("per_member",), _(
                    "per_member needs an owner with members, and {owner!r} has none: list them in its [[party]] "
                    "as members = [...], or remove per_member.").format(owner=owner))
            if "per_member_quote" not in table:
                collector.add(path + ("per_member",), _(
                    "per_member needs per_member_quote: the sentence, verbatim, that commits every member "
                    "(\"i alle regioner\")."))
        elif "per_member_quote" in table or "per_member_reading" in table:
            collector.add(path + ("per_member_quote",), _(
                "per_member_quote and per_member_reading say why every member delivers its own part: add "
                "per_member = true, or remove them."))
        quote = table.get("per_member_quote")
        says_every = isinstance(quote, str) and re.search(r"\balle\b", quote.casefold())
        if isinstance(quote, str) and not says_every and "per_member_reading" not in table:
            collector.add(path + ("per_member_quote",), _(
                "the quote does not say \"alle\": add per_member_reading saying why it commits every member."))


def _check_renames(tables: list[dict[str, Any]], known_ids: set[str], collector: _Collector) -> None:
    """``renamed_from`` names an id the register no longer has, and no two deliverables claim the same one."""
    claimed: dict[str, int] = {}
    for index, table in enumerate(tables):
        old = table.get("renamed_from")
        if not isinstance(old, str):
            continue
        where = ("deliverable", index, "renamed_from")
        if old == table.get("id"):
            collector.add(where, _("renamed_from is this deliverable's own id; remove it."))
        elif old in known_ids:
            collector.add(where, _(
                "{old!r} is still a deliverable in the register: renamed_from names the id a deliverable had "
                "before, which the register no longer has.").format(old=old))
        elif old in claimed:
            line = collector.lines.line_of(("deliverable", claimed[old]))
            collector.add(where, _("{old!r} is already renamed to another deliverable on line {line}.").format(
                old=old, line=line))
        else:
            claimed[old] = index


def _resolve_follows(deliverables: dict[str, Deliverable], tables: list[dict[str, Any]],
                     collector: _Collector) -> dict[str, Deliverable]:
    """Give each deliverable whose deadline follows another its days, from the one it follows (in turn resolved
    first: chains are allowed; a circle, an unknown or the own deliverable is a problem)."""
    index_of = {table["id"]: index for index, table in enumerate(tables) if isinstance(table.get("id"), str)}
    resolved: dict[str, Deliverable] = {}
    failed: set[str] = set()  # each problem once: what follows a broken one is not wrong too

    def resolve(identifier: str, trail: tuple[str, ...]) -> Deliverable | None:
        if identifier in resolved:
            return resolved[identifier]
        if identifier in failed:
            return None
        found = _resolve_one(identifier, trail)
        if found is None:
            failed.add(identifier)
        return found

    def _resolve_one(identifier: str, trail: tuple[str, ...]) -> Deliverable | None:
        deliverable = deliverables.get(identifier)
        if deliverable is None or deliverable.follows is None:
            return deliverable
        key = "interpreted_as" if deliverable.interpreted_as else "deadline"
        path = ("deliverable", index_of.get(identifier, 0), key)
        target_id = deliverable.follows.target
        if target_id == identifier:
            collector.add(path, _("a deadline cannot follow its own deliverable."))
            return None
        if target_id in trail:
            # The days come from each other in a circle: reported once, where the circle closes. (A "før ID" may
            # well be in ID's depends_on: the dates and the order of the work are two graphs.)
            cycle = [*trail[trail.index(target_id):], identifier, target_id]
            collector.add(path, _("the deadlines follow each other in a circle: {cycle}. Give one of them a date "
                                  "of its own.").format(cycle=" → ".join(cycle)))
            return None
        if target_id not in deliverables:
            if target_id not in index_of:  # one declared but broken has its own problem
                close = _closest(target_id, sorted(index_of))
                hint = " " + _did_you_mean(close) if close else ""
                collector.add(path, _("the deadline follows unknown deliverable {key!r}.").format(key=target_id) + hint)
            return None
        target = resolve(target_id, (*trail, identifier))
        if target is None:
            return None
        first = target.occurrences()[0].deadline
        if first is None:
            collector.add(path, _("the deadline follows {key!r}, which is undated: there is no day to count from. "
                                  "Make this one undated too, or date {key!r} first.").format(key=target_id))
            return None
        resolved[identifier] = replace(deliverable, schedule=resolve_follows(deliverable.follows, first))
        return resolved[identifier]

    for identifier in deliverables:
        resolve(identifier, ())
    return {identifier: resolved.get(identifier, deliverable) for identifier, deliverable in deliverables.items()}


def _check_cycles(tables: list[dict[str, Any]], collector: _Collector) -> None:
    """Report each dependency cycle once, at the deliverable where it is first met.

    Iterative (a depth-first search with its own stack): a hostile register
    with a chain of thousands of dependencies must not exhaust Python's stack.
    """
    graph: dict[str, list[str]] = {}
    index_of: dict[str, int] = {}
    for index, table in enumerate(tables):
        identifier = table.get("id")
        depends_on = table.get("depends_on", [])
        if isinstance(identifier, str) and identifier not in graph:
            graph[identifier] = [d for d in depends_on if isinstance(d, str)] if isinstance(depends_on, list) else []
            index_of[identifier] = index
    state: dict[str, str] = {}
    reported: set[frozenset[str]] = set()
    for root in graph:
        if root in state:
            continue
        trail = [root]
        state[root] = "open"
        stack = [iter(graph[root])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[trail.pop()] = "done"
                stack.pop()
                continue
            if nxt not in graph or nxt == trail[-1]:
                continue
            if state.get(nxt) == "open":
                cycle = trail[trail.index(nxt):] + [nxt]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    collector.add(("deliverable", index_of[nxt], "depends_on"),
                                  _("dependency cycle: {cycle}. Remove one of these depends_on entries.").format(
                                      cycle=" → ".join(cycle)))
            elif nxt not in state:
                state[nxt] = "open"
                trail.append(nxt)
                stack.append(iter(graph[nxt]))
