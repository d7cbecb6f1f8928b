"""Creating and revoking calendar feeds. A feed's token is shown once and stored only hashed."""

from __future__ import annotations

import secrets
from datetime import datetime

from typing import Any

from sqlmodel import Session, col, select

from tracker.feed_rules import FEED_NAME, hash_token, parse_alarm
from tracker.errors import FeedError, UnknownIdError
from tracker.i18n import LANGUAGES, _
from tracker.store import revision
from tracker.store.queries import closest_ids, require_key
from tracker.store.tables import FeedRow, PartyRow, ThemeRow


def new_token() -> str:
    """256 random bits from the operating system, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def _check_keys(session: Session, model: Any, wanted: list[str], kind: str) -> None:  # PartyRow or ThemeRow
    known = [row.key for row in session.exec(select(model).where(model.archived_at.is_(None)))]
    for key in wanted:
        require_key(kind, key, known)


def create_feed(session: Session, name: str, *, parties: list[str], themes: list[str], overdue_only: bool,
                alarm: str | None, language: str, actor: str, now: datetime) -> tuple[FeedRow, str]:
    """A new feed and its token, which exists only in the return value from here on."""
    if not FEED_NAME.fullmatch(name):
        raise FeedError(_(
            "The feed name {name!r} cannot be used: use 1–64 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (it becomes part of a file name)."
        ).format(name=name))
    if language not in LANGUAGES:
        raise FeedError(_("The feed language must be one of {languages}.").format(languages=", ".join(LANGUAGES)))
    if alarm is not None:
        try:
            parse_alarm(alarm)
        except ValueError:
            raise FeedError(_(
                "The alarm {alarm!r} cannot be read: write a number and a unit, e.g. 7d (days), 2w (weeks) "
                "or 12h (hours)."
            ).format(alarm=alarm)) from None
        value = alarm.strip().lower()
        alarm = f"{int(value[:-1])}{value[-1]}"  # "007D" is stored as "7d"
    _check_keys(session, PartyRow, parties, "party")
    _check_keys(session, ThemeRow, themes, "theme")
    existing = session.exec(select(FeedRow).where(col(FeedRow.name) == name)).first()
    if existing is not None:
        if existing.revoked_at is None:
            raise FeedError(_("A feed named {name!r} exists already. Choose another name, or revoke it first "
                              "with `tracker feed revoke {name}`.").format(name=name))
        raise FeedError(_("The name {name!r} belongs to a revoked feed and is kept for the record. Choose "
                          "another name.").format(name=name))
    token = new_token()
    row = FeedRow(name=name, token_hash=hash_token(token), parties=sorted(set(parties)), themes=sorted(set(themes)),
                  overdue_only=overdue_only, alarm=alarm, language=language, created_by=actor, created_at=now)
    session.add(row)
    revision.bump(session, revision.FEEDS, now)
    session.flush()
    return row, token


def revoke_feed(session: Session, name: str, *, now: datetime) -> FeedRow:
    """Stop the feed's token working; the row stays, so the name is never reused for another audience."""
    row = session.exec(select(FeedRow).where(col(FeedRow.name) == name)).first()
    if row is None:
        names = list(session.exec(select(FeedRow.name)))
        suggestions = closest_ids(name, names)
        hint = (_(" Did you mean: {ids}?").format(ids=", ".join(suggestions)) if suggestions
                else _(" See `tracker feed list`."))
        raise UnknownIdError(_("No feed is named {name!r}.").format(name=name) + hint, suggestions)
    if row.revoked_at is not None:
        raise FeedError(_("The feed {name!r} was already revoked.").format(name=name))
    row.revoked_at = now
    revision.bump(session, revision.FEEDS, now)
    return row


def feed_as_json(row: FeedRow) -> dict[str, Any]:
    """One feed as `tracker feed list --json` prints it: what it shows, never its address."""
    return {
        "name": row.name, "parties": list(row.parties), "themes": list(row.themes), "overdue_only": row.overdue_only,
        "alarm": row.alarm, "language": row.language, "created_by": row.created_by,
        "created_at": row.created_at.isoformat(), "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }
