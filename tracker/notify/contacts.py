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
    teams = ["https://….logic.azure.com/workflows/…"]   # a Teams channel's Workflows webhook (a secret)
    prefer = ["teams", "email"]                         # which of its channels first; the rest are fallbacks
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
from collections.abc import Iterable
from typing import Any

from tracker.addresses import is_address
from tracker.errors import Problem, RegisterError
from tracker.i18n import _, ngettext
from tracker.notify.webhooks import teams_handle, webhook_problem
from tracker.toml_lines import MAX_NESTING, KeyLines, nesting_deeper_than

# The audiences that are not parties, as an outbox row names whom it reaches (its ``party``), so a message to
# them falls back to their e-mail as a party's does. Not slugs, so never a party key.
COORDINATORS = "@coordinators"
TASKFORCE = "@taskforce"

SLACK_CHANNEL = re.compile(r"^(#[a-z0-9][a-z0-9._-]{0,79}|[CG][A-Z0-9]{6,})$")
LANGUAGES = ("da", "en")
# The channels a party can be reached on, in the order tried when its contacts do not say (``prefer``).
CHANNEL_ORDER = ("slack", "teams", "email")


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
    teams: tuple[str, ...] = ()  # Teams channels' Workflows webhook addresses: secrets, named by their handles
    # Its channels in the order it wants them (CHANNEL_ORDER when the file does not say): the first one
    # configured that has an address carries its messages; e-mail is the fallback when that one fails.
    prefer: tuple[str, ...] = CHANNEL_ORDER
    language: str = "da"
    # Who may answer for it from a message (Slack's buttons): their e-mail addresses, as their Slack accounts
    # have them. The coordinators' members may answer for every party.
    members: tuple[str, ...] = ()
    # One message a week with everything (on the digest's day) instead of messages on the day; the reminder one
    # day before a deadline still comes on its day. The coordinators' escalations are not theirs to switch off.
    digest_only: bool = False

    @property
    def empty(self) -> bool:
        return not self.slack and not self.email and not self.teams

    def recipients(self, channel: str) -> tuple[str, ...]:
        """Whom it is reached by on ``channel``: Slack targets, e-mail addresses, or its Teams webhooks' handles
        (never their addresses)."""
        if channel == "teams":
            return tuple(dict.fromkeys(teams_handle(url) for url in self.teams))
        return {"slack": self.slack, "email": self.email}.get(channel, ())

    def route(self, configured: Iterable[str]) -> tuple[str, tuple[str, ...]] | None:
        """The channel its messages take among those ``configured``, and its recipients there: the first it
        prefers that is configured and has an address; None when none has."""
        configured = set(configured)
        for channel in (*self.prefer, *(name for name in CHANNEL_ORDER if name not in self.prefer)):
            if channel in configured and (recipients := self.recipients(channel)):
                return channel, recipients
        return None


@dataclass(frozen=True)
class Contacts:
    parties: dict[str, Reach] = field(default_factory=dict)
    coordinators: Reach = Reach()
    taskforce: Reach = Reach()
    language: str = "da"
    path: str | None = None

    def webhooks(self) -> dict[str, str]:
        """Every Teams webhook in the file, by its handle: what the Teams channel posts to."""
        return {teams_handle(url): url for reach in (self.coordinators, self.taskforce, *self.parties.values())
                for url in reach.teams}

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
            problem(path, _("[{table}] must be a table with email, slack, teams and language.").format(
                table=".".join(path)))
            return Reach(language=default_language)
        for key in table:
            if key not in ("email", "slack", "teams", "prefer", "language", "members", "digest_only"):
                problem(path + (key,), _("unknown key {key!r}. Accepted: email, slack, teams, prefer, language, "
                                         "members, digest_only.").format(key=key))
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
        teams = _strings(table.get("teams", []), path + ("teams",), problem)
        for number, url in enumerate(teams, 1):
            # The message never repeats the address: it is a secret, and the file's line says which one.
            if (wrong := webhook_problem(url)) is not None:
                problem(path + ("teams",), _("webhook {number}: {problem}").format(number=number, problem=wrong))
        prefer = _strings(table.get("prefer", list(CHANNEL_ORDER)), path + ("prefer",), problem)
        unknown = [name for name in prefer if name not in CHANNEL_ORDER]
        if unknown or len(set(prefer)) != len(prefer):
            problem(path + ("prefer",), _("prefer lists channels, each once, from {channels}; not {value!r}.")
                    .format(channels=", ".join(CHANNEL_ORDER), value=prefer))
            prefer = list(CHANNEL_ORDER)
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
        return Reach(slack=tuple(slack), email=tuple(emails), teams=tuple(teams), prefer=tuple(prefer),
                     language=language, members=tuple(members), digest_only=digest_only)

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
