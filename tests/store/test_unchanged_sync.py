"""A sync of the file as last synced returns at once, and a sweep reads the policy without the rest of the file.

On SQLite and PostgreSQL, with the shipped register copied to a file the test may change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import col

from tracker.errors import RegisterError
from tracker.register import default_register_path, load_register
from tracker.store.db import write_session
from tracker.store.sync import POLICY, SYNCED, policy_of, sync_file
from tracker.store.tables import MetaRow

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def register(tmp_path: Path) -> Path:
    path = tmp_path / "deliverables.toml"
    path.write_bytes(default_register_path().read_bytes())
    return path


def test_the_same_file_is_not_parsed_or_synced_again(database_url: str, register: Path) -> None:
    parsed, engine, first = sync_file(str(register), database_url, NOW)
    assert parsed is not None and first.changed

    again, _engine, report = sync_file(str(register), database_url, NOW, need_register=False)
    assert again is None and not report.changed  # not even parsed
    kept, _engine, report = sync_file(str(register), database_url, NOW)
    assert kept == parsed and not report.changed  # parsed for a caller that needs it, and still not synced

    # One byte more (a comment) is another file: synced again, which finds nothing to change.
    register.write_bytes(register.read_bytes() + b"\n# a comment\n")
    changed, _engine, report = sync_file(str(register), database_url, NOW, need_register=False)
    assert changed is not None and not report.changed
    assert sync_file(str(register), database_url, NOW, need_register=False)[0] is None

    # A mark from another version of tracker or schema: synced again.
    with write_session(engine) as session:
        session.execute(update(MetaRow).where(col(MetaRow.key) == SYNCED).values(value="something else"))
    assert sync_file(str(register), database_url, NOW, need_register=False)[0] is not None


def test_a_broken_file_is_refused_even_after_a_sync_of_its_former_self(database_url: str, register: Path) -> None:
    sync_file(str(register), database_url, NOW)
    register.write_bytes(register.read_bytes().replace(b'owner = "sst"', b'owner = "sts"', 1))
    with pytest.raises(RegisterError) as refused:
        sync_file(str(register), database_url, NOW, need_register=False)
    assert "sts" in refused.value.message


def test_a_sweep_reads_the_synced_policy_alone_and_the_whole_file_once_it_changed(database_url: str,
                                                                                  register: Path) -> None:
    _parsed, engine, _report = sync_file(str(register), database_url, NOW)
    assert policy_of(str(register), engine) == load_register(register).policy

    # A stored digest that does not match what the policy tables say: the whole file is read instead.
    with write_session(engine) as session:
        session.execute(update(MetaRow).where(col(MetaRow.key) == POLICY).values(value="0" * 64))
    assert policy_of(str(register), engine) == load_register(register).policy

    # A policy changed in the file and not synced yet: the file's, read whole (and its problems reported).
    text = register.read_text(encoding="utf-8")
    assert "opens_working_days_before = 15" in text
    register.write_text(text.replace("opens_working_days_before = 15", "opens_working_days_before = 11", 1),
                        encoding="utf-8")
    assert policy_of(str(register), engine).rounds[0].opens_working_days_before == 11
    register.write_text(text.replace("opens_working_days_before = 15", "opens_working_days_before = -1", 1),
                        encoding="utf-8")
    with pytest.raises(RegisterError) as refused:
        policy_of(str(register), engine)
    assert "opens_working_days_before" in refused.value.message
