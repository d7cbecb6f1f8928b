"""The database layer on real SQLite and PostgreSQL: migrations, time zones, append-only history."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from tracker.errors import SchemaError, StoreError
from tracker.store.db import SCHEMA_REVISION, check_schema, display_url, open_engine, resolve_url
from tracker.store.migrate import head_revision, upgrade
from tracker.store.tables import HistoryRow, MetaRow, ReplanRequestRow, SQLModel

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def test_the_schema_revision_constant_is_alembics_head() -> None:
    assert SCHEMA_REVISION == head_revision()


def test_migrations_create_exactly_the_tables_the_models_describe(database_url: str) -> None:
    engine = open_engine(database_url)
    upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_requests_made_before_their_messages_existed_are_announced_if_pending_and_never_told_late(database_url: str) -> None:
    engine = open_engine(database_url)
    upgrade(engine, "0006_replan_requests")
    asked, decided = datetime(2026, 11, 2, 9, tzinfo=timezone.utc), datetime(2026, 11, 3, 9, tzinfo=timezone.utc)
    with engine.begin() as connection:
        for state, decided_at in (("pending", None), ("approved", decided)):
            connection.execute(text(
                "INSERT INTO replan_request (deliverable_id, deadline_text, reason, requested_by, requested_at, "
                "state, decided_at) VALUES ('senfoelgeklinikker', '2026-12-31', 'Forsinket.', 'mette via e-mail', "
                ":asked, :state, :decided)"), {"asked": asked, "state": state, "decided": decided_at})
        connection.execute(text("INSERT INTO interaction (key, at) VALUES (:key, :at)"),
                           {"key": "slack:U1:1.1:status_done:the-raw-answer-token:0", "at": asked})
    upgrade(engine)
    with engine.connect() as connection:  # a click's id held the token: now only its hash is kept
        assert connection.execute(text("SELECT key FROM interaction")).scalar_one() == hashlib.sha256(
            b"slack:U1:1.1:status_done:the-raw-answer-token:0").hexdigest()
    with Session(engine) as session:
        rows = session.exec(select(ReplanRequestRow).order_by(ReplanRequestRow.id)).all()
    # Still pending: the coordinators hear of it at the next sweep. Decided: told already, nobody hears it late.
    assert [(row.state, row.announced_at, row.told_at) for row in rows] == [
        ("pending", None, None), ("approved", asked, decided)]
    assert [(row.party, row.requester_email, row.requested_via) for row in rows] == [(None, "mette", "email")] * 2


def test_upgrade_is_safe_to_repeat_and_check_schema_passes(database_url: str) -> None:
    engine = open_engine(database_url)
    with pytest.raises(SchemaError, match="tracker sync"):
        check_schema(engine)
    upgrade(engine)
    upgrade(engine)
    check_schema(engine)


@pytest.mark.parametrize(
    "moment",
    [
        # Around the switch to summer time (02:00 CET → 03:00 CEST, 29 March 2026) ...
        datetime(2026, 3, 29, 1, 59, 59, tzinfo=timezone.utc),
        datetime(2026, 3, 29, 2, 30, tzinfo=COPENHAGEN),
        # ... the ambiguous hour when it ends (25 October 2026, 02:30 happens twice) ...
        datetime(2026, 10, 25, 2, 30, fold=0, tzinfo=COPENHAGEN),
        datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=COPENHAGEN),
        # ... a leap day, a year end, and an odd offset.
        datetime(2028, 2, 29, 23, 59, 59, 999999, tzinfo=COPENHAGEN),
        datetime(2026, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_time_zone_aware_datetimes_survive_a_round_trip(database_url: str, moment: datetime) -> None:
    engine = open_engine(database_url)
    upgrade(engine)
    with Session(engine) as session:
        session.add(MetaRow(key="probe", value="x", updated_at=moment))
        session.commit()
    with Session(engine) as session:
        stored = session.get(MetaRow, "probe").updated_at
    assert stored.tzinfo is not None
    # The same instant. (Compared as timestamps: Python never calls an aware datetime in a
    # repeated or skipped local hour equal to one in another zone, even at the same instant.)
    assert stored.timestamp() == moment.timestamp()
    assert stored.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(sqlite_url: str) -> None:
    engine = open_engine(sqlite_url)
    upgrade(engine)
    with Session(engine) as session:
        session.add(MetaRow(key="probe", value="x", updated_at=datetime(2026, 1, 1)))
        with pytest.raises(Exception, match="naive datetime"):
            session.commit()


def test_the_history_is_append_only_in_the_database_itself(database_url: str) -> None:
    engine = open_engine(database_url)
    upgrade(engine)
    with Session(engine) as session:
        session.add(HistoryRow(at=datetime.now(timezone.utc), actor="test", action="note", note="kept"))
        session.commit()
    for statement in ("UPDATE history SET note = 'changed'", "DELETE FROM history"):
        with engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text(statement))
            connection.commit()
    with Session(engine) as session:
        assert [row.note for row in session.exec(select(HistoryRow))] == ["kept"]


def test_urls_are_normalised_and_passwords_never_displayed() -> None:
    assert resolve_url("postgres://u:secret@db/x") == "postgresql+psycopg://u:secret@db/x"
    assert resolve_url("postgresql://u@db/x") == "postgresql+psycopg://u@db/x"
    assert "secret" not in display_url("postgresql+psycopg://u:secret@db/x")
    assert resolve_url(None).startswith("sqlite:///")


def test_an_unreachable_postgresql_server_is_a_store_error() -> None:
    engine = open_engine("postgresql://nobody:secret@127.0.0.1:9/none?connect_timeout=2")
    with pytest.raises(StoreError) as raised:
        check_schema(engine)
    assert "DATABASE_URL" in raised.value.message
    assert "secret" not in raised.value.message
