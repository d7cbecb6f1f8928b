"""Who is reached where: the contacts file (deployment data, never in the register).

``TRACKER_CONTACTS`` points at a TOML file (``contacts.example.toml`` in the
repository shows the format with placeholder addresses)::

    language = "da"                         # the default for everyone below

    [coordinators]                          # hear escalations and undeliverable messages
    email = ["koordinator@example.org"]
    slack = ["#kraeftplan-koordinering"]

    [taskforce]                             # gets the weekly digest
    slack = ["#kraeftplan-taskforce"]

    [party.sst]
    email = ["kraeftplan@example.org"]
    slack = ["#kraeftplan-sst", "person@example.org"]   # a channel, or a person by e-mail (DM)
    language = "en"

A missing file is not an error: with no contacts every message is printed to
the console, addressed to its party. A broken file is: every problem is
reported at once, with its line and the fix.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracker.addresses import is_address
from tracker.errors import Problem, RegisterError
from tracker.i18n import _, ngettext
from tracker.toml_lines import MAX_NESTING, KeyLines, nesting_deeper_than

# The audiences that are not parties, as an outbox row names whom it reaches (its ``party``), so a message to
# them falls back to their e-mail as a party's does. Not slugs, so never a party key.
COORDINATORS = "@coordinators"
TASKFORCE = "@taskforce"

SLACK_CHANNEL = re.compile(r"^(#[a-z0-9][a-z0-9._-]{0,79}|[CG][A-Z0-9]{6,})$")
LANGUAGES = ("da", "en")


class ContactsError(RegisterError):
    """The contacts file has problems; every one is listed with its line."""

    def heading(self) -> str:
        return ngettext(
            "{count} problem in the contacts file {filename}:",
            "{count} problems in the contacts file {filename}:",
            len(self.problems),
        ).format(count=len(self.problems), filename=self.filename)

    def advice(self) -> str:
        return ngettext("Fix it (contacts.example.toml shows the format) and run the command again.",
                        "Fix them (contacts.example.toml shows the format) and run the command again.",
                        len(self.problems))


@dataclass(frozen=True)
class Reach:
    """Where one party (or the coordinators, or the task force) is reached."""

    slack: tuple[str, ...] = ()  # channels ("#name" or an id) and people (their e-mail: a DM)
    email: tuple[str, ...] = ()
    language: str = "da"
    # Who may answer for it from a message (Slack's buttons): their e-mail addresses, as their Slack accounts
    # have them. The coordinators' members may answer for every party.
    members: tuple[str, ...] = ()
    # One message a week with everything (on the digest's day) instead of messages on the day; the reminder one
    # day before a deadline still comes on its day. The coordinators' escalations are not theirs to switch off.
    digest_only: bool = False

    @property
    def empty(self) -> bool:
        return not self.slack and not self.email


@dataclass(frozen=True)
class Contacts:
    parties: dict[str, Reach] = field(default_factory=dict)
    coordinators: Reach = Reach()
    taskforce: Reach = Reach()
    language: str = "da"
    path: str | None = None

    def reply_to(self) -> str:
        """Where an owner answers "is it done?": the coordinators' e-mail addresses, else their Slack."""
        return ", ".join(self.coordinators.email or self.coordinators.slack)

    def reach(self, party: str) -> Reach:
        """Where ``party`` is reached; ``COORDINATORS`` and ``TASKFORCE`` name those two audiences."""
        if party == COORDINATORS:
            return self.coordinators
        if party == TASKFORCE:
            return self.taskforce
        return self.parties.get(party, Reach(language=self.language))

    def may_answer(self, email: str, party: str) -> bool:
        """Whether the person with this address may answer for ``party``: one of its members, or a
        coordinator."""
        wanted = email.strip().casefold()
        members = (*self.reach(party).members, *self.coordinators.members) if party != COORDINATORS \
            else self.coordinators.members
        return bool(wanted) and any(member.casefold() == wanted for member in members)


def load_contacts(path: str | Path | None = None, known_parties: set[str] | None = None) -> Contacts:
    """The contacts at ``path``, else $TRACKER_CONTACTS, else none (console only)."""
    chosen = path or os.environ.get("TRACKER_CONTACTS") or None
    if chosen is None:
        return Contacts()
    file = Path(chosen)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ContactsError(str(file), [Problem(None, "", _(
            "cannot read the contacts file ({reason}). Check "
            "TRACKER_CONTACTS; copy contacts.example.toml to start one.").format(
            reason=getattr(error, "strerror", None) or error))]) from None
    return parse_contacts(text, str(file), known_parties)


def parse_contacts(text: str, filename: str = "contacts.toml", known_parties: set[str] | None = None) -> Contacts:
    if text.startswith("\ufeff"):
        raise ContactsError(filename, [Problem(1, "", _(
            "the file starts with a byte-order mark (BOM), which TOML does not allow; save it as UTF-8 without "
            "a BOM."))])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ContactsError(filename, [Problem(None, "", _("TOML syntax error: {reason}.").format(reason=error))]) \
            from None
    except RecursionError:
        raise ContactsError(filename, [Problem(nesting_deeper_than(text, MAX_NESTING), "", ngettext(
            "values are nested more than {count} level deep; the contacts file needs two at most.",
            "values are nested more than {count} levels deep; the contacts file needs two at most.",
            MAX_NESTING).format(count=MAX_NESTING))]) from None
    lines = KeyLines(text)
    problems: list[Problem] = []

    def problem(path: tuple[str, ...], message: str) -> None:
        problems.append(Problem(lines.line_of(path), ".".join(path), message))

    default_language = data.get("language", "da")
    if default_language not in LANGUAGES:
        problem(("language",), _("language must be one of {languages}, not {value!r}.").format(
            languages=", ".join(LANGUAGES), value=default_language))
        default_language = "da"
    for key in data:
        if key not in ("language", "coordinators", "taskforce", "party"):
            problem((key,), _("unknown key {key!r}. Accepted: language, [coordinators], [taskforce], [party.KEY].")
                    .format(key=key))

    def reach(table: Any, path: tuple[str, ...]) -> Reach:
        if not isinstance(table, dict):
            problem(path, _("[{table}] must be a table with email, slack and language.").format(table=".".join(path)))
            return Reach(language=default_language)
        for key in table:
            if key not in ("email", "slack", "language", "members", "digest_only"):
                problem(path + (key,), _("unknown key {key!r}. Accepted: email, slack, language, members, "
                                         "digest_only.").format(key=key))
        emails = _strings(table.get("email", []), path + ("email",), problem)
        for address in emails:
            if not is_address(address):
                problem(path + ("email",), _("{address!r} is not an e-mail address (name@example.org).").format(
                    address=address))
        slack = _strings(table.get("slack", []), path + ("slack",), problem)
        for target in slack:
            if not (SLACK_CHANNEL.match(target) or is_address(target, smtp=False)):
                problem(path + ("slack",), _("{target!r} is neither a Slack channel (#name, or an id like "
                                             "C0123ABCD) nor a person's e-mail address (for a direct message).")
                        .format(target=target))
        members = _strings(table.get("members", []), path + ("members",), problem)
        for address in members:
            if not is_address(address, smtp=False):
                problem(path + ("members",), _("{address!r} is not an e-mail address (name@example.org): members "
                                               "are named by the address of their Slack account.").format(
                    address=address))
        language = table.get("language", default_language)
        if language not in LANGUAGES:
            problem(path + ("language",), _("language must be one of {languages}, not {value!r}.").format(
                languages=", ".join(LANGUAGES), value=language))
            language = default_language
        digest_only = table.get("digest_only", False)
        if not isinstance(digest_only, bool):
            problem(path + ("digest_only",), _("digest_only must be true or false, not {value!r}.").format(
                value=digest_only))
            digest_only = False
        return Reach(slack=tuple(slack), email=tuple(emails), language=language, members=tuple(members),
                     digest_only=digest_only)

    parties_table = data.get("party", {})
    parties: dict[str, Reach] = {}
    if not isinstance(parties_table, dict):
        problem(("party",), _("party must be tables: [party.KEY]."))
    else:
        for key, table in parties_table.items():
            if known_parties is not None and key not in known_parties:
                problem(("party", key), _("unknown party {key!r}; the register's parties are: {parties}.").format(
                    key=key, parties=", ".join(sorted(known_parties))))
                continue
            parties[key] = reach(table, ("party", key))
    contacts = Contacts(
        parties=parties,
        coordinators=reach(data.get("coordinators", {}), ("coordinators",)),
        taskforce=reach(data.get("taskforce", {}), ("taskforce",)),
        language=default_language,
        path=filename,
    )
    if problems:
        raise ContactsError(filename, problems)
    return contacts


def _strings(value: Any, path: tuple[str, ...], problem: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problem(path, _('{key} must be a list of strings, e.g. ["name@example.org"].').format(key=path[-1]))
        return []
    return [item.strip() for item in value]
