"""Requests for a new deadline decided at the same moment by two coordinators (a Slack press and the command line):
one decision wins, the other is refused. Real SQLite and PostgreSQL, two connections."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from tests.conftest import Tracker
from tracker.errors import TrackerError
from tracker.i18n import using_language
from tracker.store import requests
from tracker.store.db import open_engine, write_session
from tracker.store.tables import HistoryRow, ReplanRequestRow

NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)


def test_an_approval_and_a_rejection_at_once_leave_one_decision(database_url: str, small_register: Path) -> None:
    Tracker(database_url, small_register).ok("sync")
    engine = open_engine(database_url)
    with write_session(engine) as session:
        session.add(ReplanRequestRow(deliverable_id="senfoelgeklinikker", deadline_text="2026-12-31", reason="Sent.",
                                     requested_by="mette via e-mail", requested_at=NOW))
    approving = threading.Event()
    outcome: dict[str, object] = {}

    def approve() -> None:
        with write_session(engine) as session:
            requests.approve(session, 1, actor="Karin", now=NOW)
            approving.set()
            time.sleep(0.5)  # still in the transaction when the rejection comes
        outcome["approved"] = True

    first = threading.Thread(target=approve)
    first.start()
    assert approving.wait(10)
    with pytest.raises(TrackerError, match="approved by Karin already"), using_language("en"):
        with write_session(engine) as session:
            requests.reject(session, 1, reason="Nej.", actor="Ole", now=NOW)
    first.join(10)
    assert outcome == {"approved": True}
    with Session(engine) as session:
        (row,) = session.exec(select(ReplanRequestRow)).all()
        actions = [history.action for history in session.exec(select(HistoryRow).where(
            HistoryRow.deliverable_id == "senfoelgeklinikker", HistoryRow.action.in_(("replan", "replan_rejected"))))]
    assert (row.state, row.decided_by, row.decision_reason) == ("approved", "Karin", None)
    assert "replan_rejected" not in actions and "replan" in actions
