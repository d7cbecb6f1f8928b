"""One notification sweep: plan what has come due, claim it, send it, and record how each send went.

``Sweeper.sweep(now)`` is what the service runs every few minutes and what
``tracker notify run`` runs once:

1. **Plan.** The days since the last planned day (meta
   ``notify_planned_through``) up to today, once today's send time has come,
   are planned from the plan as it is now; every notice becomes a pending
   outbox row, unless its key is there already. The first sweep on a database
   plans today only: the days before it had no service to miss them.
2. **Claim.** Pending rows whose time has come are claimed (see
   ``tracker.notify.outbox``) and triaged: what is no longer called for,
   superseded or expired is skipped; the rest is bundled into one message per
   recipient and channel and marked ``sending``.
3. **Send** each message outside any transaction, then **record** the
   outcome: ``sent``; a transient error back to ``pending`` with a backoff;
   ``failed`` or ``unknown`` with the provider's words.

When Slack fails for good (a permanent refusal, or a transient one that
outlasts every retry), the message's rows go by e-mail instead to whomever
they were for, when they have an address and e-mail is configured: a party,
the coordinators (escalations, and the reports below) or the task force (the
digest). Every failed or unknown message is reported to the coordinators in a
message of its own, by a route other than the one that failed (by e-mail when
the whole of Slack refused). A report that cannot be delivered either falls
back the same way; one that reaches nobody is logged at ERROR and counted
(``SweepReport.unreported``, and ``/healthz``): problems about problems
would never end.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from tracker.clock import plan_zone
from tracker.i18n import _, current_language, using_language
from tracker.notify import outbox
from tracker.notify.contacts import COORDINATORS, Contacts
from tracker.notify.message import (
    CalendarAttacher,
    Channel,
    Delivery,
    Message,
    PermanentSendError,
    SendError,
    TransientSendError,
    UnknownOutcomeError,
)
from tracker.model import Change, OccurrenceView, Status
from tracker.notify import requests as request_messages
from tracker.notify.planner import (CHANNELS, Notice, alone, bundle, plan_notices, request_number, routes_for,
                                    send_time)
from tracker.policy import PolicySet
from tracker.rounds import Round
from tracker.urls import answer_url
from tracker.notify.source import load_changes, load_subjects
from tracker.workdays import on_or_after
from tracker.store import answers, revision
from tracker.store import rounds as status_rounds
from tracker.store.db import read_session, this_process, write_session
from tracker.store.requests import PENDING
from tracker.store.tables import DeliverableRow, OccurrenceRow, OutboxRow, ReplanRequestRow

log = logging.getLogger(__name__)

# A sweep sends, then what its failures called for (e-mail fallbacks,
# reports to the coordinators), then those reports' own fallbacks: in the
# worst case (Slack refuses the token and every e-mail bounces) a party's
# message, its fallback, the report on that, and the report's fallback.
# A pass that claims nothing ends the sweep; the bound stops a loop that a
# bug could make endless.
_PASSES = 5


@dataclass
class SweepReport:
    """What one sweep did, counted in notices (rows) unless it says messages."""

    planned: int = 0  # new rows
    messages: int = 0  # messages sent
    sent: int = 0
    late: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason → rows
    retrying: int = 0
    fallbacks: int = 0  # rows re-sent by e-mail after a permanent Slack failure
    failed: list[str] = field(default_factory=list)  # one line per failed message
    unknown: list[str] = field(default_factory=list)  # one line per message that may have arrived
    unreported: list[str] = field(default_factory=list)  # failures nobody could be told of: reached nobody at all
    in_flight: int = 0  # rows another sweep is sending right now
    problems: list[str] = field(default_factory=list)  # the planner's (parties nobody can be reached at)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unknown


@dataclass(frozen=True)
class _Claimed:
    message: Message
    row_ids: tuple[int, ...]
    token: str


# What an owner is told about and can answer from the message itself.
_ANSWERABLE = frozenset({"reminder", "overdue", "confirm", "round"})


class _LostClaim(Exception):
    """Another sweep took this message's rows over (our lease ran out): roll back, do not send."""


@dataclass
class _Context:
    """The plan as this sweep read it."""

    today: date
    notices: dict[str, Notice]
    subjects: list[OccurrenceView]
    changes: list[Change]
    extra_rounds: list[Round]  # the status rounds coordinators opened


class Sweeper:
    def __init__(self, engine: Engine, policy: PolicySet, contacts: Contacts, channels: Mapping[str, Channel], *,
                 base_url: str, zone: tzinfo | None = None, holder: str | None = None,
                 calendar: CalendarAttacher | None = None, answers_on_slack: bool = False,
                 answers_by_email: bool = False):
        """``channels`` by name: ``slack``, ``teams`` and/or ``email``, or ``console`` alone (the embedded default).

        ``holder`` names this process in its claims (``host:pid:start`` by default; a clock sets its lease's).
        ``calendar`` makes the .ics an e-mail carries for its items (``tracker.calendar.attachments``, handed in
        by the service: the calendar is a sibling feature); without it e-mails carry none.
        ``answers_on_slack``: owners' Slack messages carry answer buttons (the web process takes the presses:
        only when the app's signing secret is set, or the buttons would lead nowhere). ``answers_by_email``:
        owners' e-mails and Teams cards link to the answer page (only when the web process has a public address).
        """
        self.calendar = calendar
        self.answers_on_slack = answers_on_slack
        self.answers_by_email = answers_by_email
        self.engine = engine
        self.holder = holder or this_process()
        self.policy = policy
        self.contacts = contacts
        self.channels = dict(channels)
        self.base_url = base_url
        self.zone = zone or plan_zone()
        # What the planner routes to: the configured providers; none means the console.
        self.routes = tuple(name for name in CHANNELS if name in self.channels)
        self.stopping = threading.Event()
        self._plan_cache: tuple[tuple[str, date], list[OccurrenceView]] | None = None

    def sweep(self, now: datetime) -> SweepReport:
        report = SweepReport()
        with write_session(self.engine) as session:  # requests for a new deadline made or decided since
            today = now.astimezone(self.zone).date()
            working = on_or_after(today)
            remind_at = send_time(working, self.policy, self.zone)
            if remind_at <= now:  # today's send time has passed: the next working day's
                remind_at = send_time(on_or_after(working + timedelta(days=1)), self.policy, self.zone)
            report.planned += request_messages.queue(session, self.contacts, self.routes, now, self.zone,
                                                     buttons=self.answers_on_slack, remind_at=remind_at)
        context = self._plan(now, report)
        for _pass in range(_PASSES):
            if context is None:
                break
            claimed = self._claim(now, context, report)
            if not claimed:
                break
            for index, item in enumerate(claimed):
                if self.stopping.is_set():  # SIGTERM: what is not yet sent goes back for the next sweep
                    self._release(claimed[index:], now)
                    break
                self._deliver(item, now, report)
            if self.stopping.is_set():
                break
        with read_session(self.engine) as session:
            report.in_flight = outbox.in_flight(session)
        return report

    def stop(self) -> None:
        """Finish the message being sent, give the rest back, and end the sweep (from any thread)."""
        self.stopping.set()

    def recover(self, holder: str, now: datetime) -> SweepReport:
        """Clean up at once after ``holder``, a process known to be dead (its clock lease ran out unreleased).

        Its claimed rows go back to pending, to be sent by the next sweep; its
        one message in flight is unknown and reported to the coordinators.
        """
        report = SweepReport()
        with write_session(self.engine) as session:
            rows = outbox.expire_leases(session, now, _("tracker stopped while sending this message, so it may "
                                                        "have arrived."), holder=holder)
            self._interrupted(session, rows, now, report)
        return report

    def _release(self, claimed: list[_Claimed], now: datetime) -> None:
        with write_session(self.engine) as session:
            for item in claimed:
                outbox.release(session, item.row_ids, item.token, now)

    # -- 1. plan ------------------------------------------------------------------------------------------------

    def _plan(self, now: datetime, report: SweepReport) -> _Context | None:
        """Plan the new days; None when there is nothing to plan, send or clean up (most sweeps)."""
        today = now.astimezone(self.zone).date()
        # Today's messages are planned once their send time has come.
        end = today if now >= send_time(today, self.policy, self.zone) else today - timedelta(days=1)
        with read_session(self.engine) as session:
            planned_through = outbox.read_planned_through(session)
            first_new = planned_through + timedelta(days=1) if planned_through else today
            if first_new > end and not outbox.has_work(session, now) and not outbox.restored_since(session) and \
                    not status_rounds.has_unplanned(session):
                return None
            waiting = outbox.earliest_waiting_day(session)
            restored = outbox.restored_since(session)
            # Back to the earliest retry too: whether it is still called for is judged against the plan. And back
            # to the day a deliverable now in the register again left it: what it missed while away.
            subjects = self._subjects(session, today)
            # An extra round a coordinator opened since: its days are planned now, though planned before.
            extras, unplanned = status_rounds.extra_rounds(session, self.policy, subjects, self.zone)
            opening = [r.opens for r in extras if r.extra in unplanned]
            start = min(day for day in (first_new, waiting, end, *restored.values(), *opening) if day is not None)
            changes = load_changes(session, datetime.combine(start - timedelta(days=7), datetime.min.time(),
                                                             self.zone))
        plan = plan_notices(subjects, self.policy, self.contacts, self.routes, start, end, extra_rounds=extras)
        report.problems = plan.problems
        with write_session(self.engine) as session:
            # Under the lock: another sweep may have planned these days since the read above.
            locked = outbox.read_planned_through(session, lock=True)
            first_new = locked + timedelta(days=1) if locked else today
            # Only what the plan above was made for: a deliverable restored since waits for the next sweep.
            restored = {key: day for key, day in outbox.restored_since(session, lock=True).items()
                        if restored.get(key) == day}

            def new(notice: Notice) -> bool:
                if first_new <= notice.day <= end:
                    return True
                if notice.round is not None and notice.round.extra in unplanned:
                    return notice.round.opens <= notice.day <= end
                away_from = restored.get(notice.subject.deliverable_id) if notice.subject else None
                return away_from is not None and away_from <= notice.day <= end

            def due_at(notice: Notice) -> datetime:
                at = send_time(notice.day, self.policy, self.zone)
                # An extra round's question goes out when it was opened, not "late" since this morning.
                opened = notice.round.opened_at if notice.round is not None else None
                return max(at, opened) if opened is not None else at

            rows = [outbox.row_values(notice, due_at(notice), now) for notice in plan.notices if new(notice)]
            report.planned += outbox.insert_new(session, rows)
            status_rounds.mark_planned(session, unplanned, now)
            if restored:
                outbox.replan_restored(session, restored, now)
            if locked is None or end > locked:
                outbox.write_planned_through(session, end, now)
        return _Context(today=today, notices={notice.key: notice for notice in plan.notices}, subjects=subjects,
                        changes=changes, extra_rounds=extras)

    def _subjects(self, session: Session, today: date) -> list[OccurrenceView]:
        """The plan's occurrences as of ``today``, read again only when the plan changed (its revision marker) or
        the day did."""
        marker = (revision.read(session.connection()).plan, today)
        if self._plan_cache is None or self._plan_cache[0] != marker:
            self._plan_cache = (marker, load_subjects(session, today))
        return self._plan_cache[1]

    # -- 2. claim -----------------------------------------------------------------------------------------------

    def _claim(self, now: datetime, context: _Context, report: SweepReport) -> list[_Claimed]:
        with write_session(self.engine) as session:
            expired = outbox.expire_leases(session, now, _("tracker stopped while sending this message, so it may "
                                                           "have arrived."))
            self._interrupted(session, expired, now, report)
            verdict = outbox.triage(outbox.claimable(session, now), context.notices, context.today)
            verdict = self._undecided_only(session, verdict)
            for row, reason in verdict.skip:
                row.state, row.error_code, row.error, row.updated_at = outbox.SKIPPED, reason, None, now
                session.add(row)
                report.skipped[reason] += 1
            groups: dict[tuple[str, str, str], list[tuple[OutboxRow, Notice]]] = defaultdict(list)
            for row, notice in verdict.send:
                groups[(row.channel, row.recipient, alone(row.kind, row.key))].append((row, notice))
            attach = self.calendar.for_claim(session, context.today, now) if self.calendar is not None and any(
                channel == "email" for channel, _recipient, _problem in groups) else None
            claimed = []
            token = uuid.uuid4().hex
            for pairs in groups.values():
                message = self._message(pairs, context, now, attach)
                for row, _notice in pairs:
                    row.state, row.claimed_at, row.claim_token = outbox.CLAIMED, now, token
                    row.claimed_by = self.holder
                    row.message_key, row.updated_at = message.key, now
                    row.attempts += 1
                    session.add(row)
                claimed.append(_Claimed(message=message, row_ids=tuple(row.id for row, _notice in pairs
                                                                         if row.id is not None),
                                        token=token))
            return claimed

    def _message(self, pairs: list[tuple[OutboxRow, Notice]], context: _Context, now: datetime,
                 attach: Callable[[Iterable[tuple[str, int | None]], str], bytes | None] | None) -> Message:
        # Written as of today: a late reminder says how many days are left now, not when it was due.
        notices = [replace(notice, day=context.today) for _row, notice in pairs]
        (message,) = bundle(notices, context.subjects, context.changes, self.policy, self.zone,
                            self.base_url, self.contacts.reply_to(), context.extra_rounds)
        due_at = min(row.due_at for row, _notice in pairs)
        if outbox.is_late(due_at, now):
            message = replace(message, at=due_at.astimezone(self.zone), late=True)
        if attach is not None and message.channel == "email" and message.items:
            message = replace(message, calendar=attach(
                [(item.deliverable_id, item.occurrence) for item in message.items], message.language))
        return message

    # -- 3. send and record -------------------------------------------------------------------------------------

    def _deliver(self, claimed: _Claimed, now: datetime, report: SweepReport) -> None:
        message = claimed.message
        try:
            with write_session(self.engine) as session:
                if not outbox.start_sending(session, claimed.row_ids, claimed.token, now):
                    raise _LostClaim
                message = self._answerable(session, claimed, message, now)
        except _LostClaim:
            log.warning("%s: another sweep took it over; not sending it here", message.key)
            return
        outcome: Delivery | SendError
        try:
            outcome = self.channels[message.channel].send(message)
        except SendError as error:
            outcome = error
        except Exception as error:  # a bug in a channel after the request may have gone out
            log.exception("sending %s failed unexpectedly", message.key)
            outcome = UnknownOutcomeError(_("Sending failed unexpectedly: {error}").format(
                error=f"{type(error).__name__}: {error}"))
        with write_session(self.engine) as session:
            rows = outbox.rows_by_ids(session, claimed.row_ids)
            if isinstance(outcome, SendError) and outcome.delivered:
                rows = self._partly_sent(session, rows, message, outcome, now, report)
                if not rows:
                    return
            if isinstance(outcome, Delivery):
                for row in rows:
                    row.state, row.sent_at, row.provider_id, row.late = outbox.SENT, now, outcome.provider_id, \
                        message.late
                    row.error = row.error_code = row.next_attempt_at = row.claim_token = row.claimed_by = None
                report.messages += 1
                report.sent += len(rows)
                report.late += len(rows) if message.late else 0
                for row in rows:
                    log.info("sent %s%s", row.key, " (late)" if message.late else "", extra=_event(row, message))
            elif isinstance(outcome, TransientSendError) and max(row.attempts for row in rows) < outbox.MAX_ATTEMPTS:
                wait = outbox.backoff(max(row.attempts for row in rows), outcome.retry_after)
                for row in rows:
                    row.state, row.next_attempt_at, row.error, row.error_code = outbox.PENDING, now + wait, \
                        str(outcome), "transient"
                    row.claim_token = row.claimed_by = None
                report.retrying += len(rows)
                log.warning("%s: %s; trying again in %s", message.key, outcome, wait)
            else:
                self._record_failure(session, rows, message, outcome, now, report)
            for row in rows:
                row.updated_at = now
                session.add(row)

    def _partly_sent(self, session: Session, rows: list[OutboxRow], message: Message, error: SendError,
                     now: datetime, report: SweepReport) -> list[OutboxRow]:
        """Records as sent the rows whose items arrived before ``error`` (a Teams bundle posted in parts, the
        later ones failing), and returns the rest: the failure is theirs alone, so neither a retry nor the
        e-mail fallback repeats what the recipient already has. A row about no one item (a digest) is not
        whole until every part is, and stays with the rest."""
        arrived = {(item.deliverable_id, item.occurrence, item.member)
                   for index, item in enumerate(message.items) if index in set(error.delivered)}
        rest = []
        for row in rows:
            if row.deliverable_id is not None and (row.deliverable_id, row.occurrence_year, row.member) in arrived:
                row.state, row.sent_at, row.late, row.updated_at = outbox.SENT, now, message.late, now
                row.error = row.error_code = row.next_attempt_at = row.claim_token = row.claimed_by = None
                session.add(row)
                report.sent += 1
                log.info("sent %s in part before the rest failed", row.key, extra=_event(row, message))
            else:
                rest.append(row)
        if len(rest) < len(rows):
            report.messages += 1
        return rest

    def _answerable(self, session: Session, claimed: _Claimed, message: Message, now: datetime) -> Message:
        """The message with the token its owner answers it with, where it tells one party about its own items
        (reminders, overdue alerts, "please confirm"): buttons on Slack, the answer page's address in an e-mail;
        as it is otherwise."""
        rows = outbox.rows_by_ids(session, claimed.row_ids)
        parties = {row.party for row in rows}
        if message.channel == "slack" and self.answers_on_slack and len(rows) == 1 and rows[0].kind == "request":
            return self._decidable(session, rows[0], message, now)
        # E-mail and Teams answer on the answer page: a Teams webhook cannot carry the presses of buttons back.
        answering = {"slack": self.answers_on_slack, "email": self.answers_by_email,
                     "teams": self.answers_by_email}.get(message.channel, False)
        if not answering or not message.items or len(parties) != 1 or \
                any(row.kind not in _ANSWERABLE for row in rows):
            return message
        (party,) = parties
        if party is None or party.startswith("@"):  # the coordinators' and the task force's messages
            return message
        token = answers.issue(session, message_key=message.key, channel=message.channel,
                              recipient=message.recipient, party=party, now=now, items=[
                                  answers.AnsweredItem(item.deliverable_id, item.occurrence, item.due,
                                                       Status(item.status_value), member=item.member)
                                  for item in message.items])
        if message.channel in ("email", "teams"):
            return replace(message, answer_url=answer_url(self.base_url, token))
        return replace(message, answer=token)

    def _undecided_only(self, session: Session, verdict: outbox.Triage) -> outbox.Triage:
        """The verdict with the coordinators' messages about requests decided since they were queued skipped: a
        reminder that a request "still waits" must not go out after its decision."""
        send, skip = [], list(verdict.skip)
        for row, notice in verdict.send:
            number = request_number(row.step) if row.kind == "request" else None
            request = session.get(ReplanRequestRow, number) if number is not None else None
            if request is not None and request.state != PENDING:
                skip.append((row, outbox.NOT_CALLED_FOR))
            else:
                send.append((row, notice))
        return outbox.Triage(send=send, skip=skip)

    def _decidable(self, session: Session, row: OutboxRow, message: Message, now: datetime) -> Message:
        """A coordinators' Slack message about a request, with the token behind its Godkend / Afvis."""
        number = request_number(row.step)
        request = session.get(ReplanRequestRow, number) if number is not None else None
        occurrence = None if request is None else session.exec(select(OccurrenceRow).where(
            col(OccurrenceRow.deliverable_id) == request.deliverable_id,
            col(OccurrenceRow.key) == ("" if request.year is None else str(request.year)))).first()
        if request is None or occurrence is None or request.state != PENDING:
            return message  # decided on the command line before the message went out: nothing left to press
        token = answers.issue(session, message_key=message.key, channel=message.channel, recipient=message.recipient,
                              party=COORDINATORS, now=now, items=[answers.AnsweredItem(
                                  request.deliverable_id, request.year, occurrence.due, Status(occurrence.status),
                                  request=request.id)])
        return replace(message, answer=token, decides=request.id, decides_deadline=request.deadline_text)

    def _record_failure(self, session, rows: list[OutboxRow], message: Message, error: SendError,
                        now: datetime, report: SweepReport) -> None:
        unknown = isinstance(error, UnknownOutcomeError)
        gave_up = isinstance(error, TransientSendError)
        text = str(error)
        if gave_up:
            text = _("gave up after {count} attempts: {error}").format(count=max(row.attempts for row in rows),
                                                                       error=error)
        for row in rows:
            row.state = outbox.UNKNOWN if unknown else outbox.FAILED
            row.error = text
            row.error_code = error.code if isinstance(error, PermanentSendError) else (
                "unknown" if unknown else "transient")
            row.provider_id = error.provider_id if isinstance(error, UnknownOutcomeError) else row.provider_id
            row.claim_token = row.claimed_by = None
        line = _describe(message.key, message.channel, message.recipient, text)
        (report.unknown if unknown else report.failed).append(line)
        for row in rows:
            log.error("%s %s: %s", row.state, row.key, text, extra=_event(row, message))
        # A message that may have arrived is never sent again by itself; one that certainly did not goes by
        # e-mail, whether Slack or a Teams webhook refused it or stayed down longer than every retry.
        fallback_to: list[str] = []
        if not unknown and message.channel in ("slack", "teams") and "email" in self.channels:
            fallback_to = self._fall_back_to_email(session, rows, now, report)
        # Nothing gets through the channel (its token refused, its outage outlasting the retries): report by
        # another one.
        whole_channel = gave_up or (isinstance(error, PermanentSendError) and error.whole_channel)
        if any(row.kind == "problem" for row in rows):
            if not fallback_to and not unknown:
                self._undeliverable(message, text, report)
            return  # a report is not reported again: it falls back, or is logged
        self._report_problem(session, message, text, unknown, fallback_to, whole_channel, now, report)

    def _undeliverable(self, message: Message, error: str, report: SweepReport) -> None:
        line = _describe(message.key, message.channel, message.recipient, error)
        report.unreported.append(line)
        log.error("undeliverable: %s reached nobody, and nobody can be told: %s. The coordinators' contacts need "
                  "a route that works (`tracker notify log --failed`; `tracker notify retry KEY` once it does).",
                  message.key, error)

    def _fall_back_to_email(self, session, rows: list[OutboxRow], now: datetime, report: SweepReport) -> list[str]:
        new, addresses = [], []
        for row in rows:
            reach = self.contacts.reach(row.party) if row.party else None
            if reach is None or not reach.email:
                continue
            prefix = row.key[: -len(f"/{row.channel}/{row.recipient}")]
            for address in reach.email:
                addresses.append(address)
                notice = Notice(key=f"{prefix}/email/{address}", kind=row.kind, step=row.step, day=row.day,
                                subject=None, channel="email", recipient=address, language=reach.language,
                                reason=f"e-mail instead of {_PROVIDER[row.channel]} {row.recipient}",
                                party=row.party,
                                detail=row.detail)
                new.append(outbox.row_values(notice, row.due_at, now, deliverable_id=row.deliverable_id,
                                             occurrence_year=row.occurrence_year, replaces=row.key))
        report.fallbacks += outbox.insert_new(session, new)
        return list(dict.fromkeys(addresses))

    def _report_problem(self, session, message: Message, error: str, unknown: bool, fallback_to: list[str],
                        whole_channel: bool, now: datetime, report: SweepReport) -> None:
        def text() -> str:
            what = (_("The message “{subject}” to {recipient} ({channel}) may not have arrived: {error}")
                    if unknown else
                    _("The message “{subject}” to {recipient} ({channel}) could not be delivered: {error}"))
            lines = [what.format(subject=message.subject, recipient=message.recipient, channel=message.channel,
                                 error=error)]
            if fallback_to:
                lines.append(_("It was sent by e-mail to {addresses} instead.").format(
                    addresses=", ".join(fallback_to)))
            elif unknown:
                lines.append(_("Check with the recipient; if it did not arrive, send it again with "
                               "`tracker notify retry {key}`.").format(key=message.key))
            else:
                lines.append(_("Fix the cause, then send it again with `tracker notify retry {key}`.").format(
                    key=message.key))
            if message.items:
                lines.append(_("It was about:"))
            lines.extend(f"• {item.title}: {item.line}" for item in message.items)
            return "\n".join(lines)

        self._report(session, message.key, (message.channel, message.recipient), text, unknown, whole_channel, now,
                     report)

    def _interrupted(self, session, rows: list[OutboxRow], now: datetime, report: SweepReport) -> None:
        """Report the messages a stopped sweep was sending (``rows``, now unknown): one report per message."""
        by_message: dict[str, list[OutboxRow]] = defaultdict(list)
        for row in rows:
            by_message[row.message_key or row.key].append(row)
        titles = _titles(session, {row.deliverable_id for row in rows if row.deliverable_id})
        for key, message_rows in by_message.items():
            first = message_rows[0]
            report.unknown.append(_describe(key, first.channel, first.recipient, first.error or ""))
            if any(row.kind == "problem" for row in message_rows):
                continue

            def text(key: str = key, first: OutboxRow = first, message_rows: list[OutboxRow] = message_rows) -> str:
                lines = [_("The message {key} to {recipient} ({channel}) was being sent when tracker stopped, so "
                           "it may have arrived. Check with the recipient; if it did not arrive, send it again with "
                           "`tracker notify retry {key}`.").format(key=key, recipient=first.recipient,
                                                                   channel=first.channel)]
                about = dict.fromkeys(_title_of(titles, row) for row in message_rows if row.deliverable_id)
                if about:
                    lines.append(_("It was about:"))
                    lines.extend(f"• {title}" for title in about)
                elif any(row.kind == "digest" for row in message_rows):
                    lines.append(_("It was the task force's weekly overview."))
                return "\n".join(lines)

            self._report(session, key, (first.channel, first.recipient), text, True, False, now, report)

    def _report(self, session, message_key: str, failed_route: tuple[str, str], text: Callable[[], str],
                unknown: bool, whole_channel: bool, now: datetime, report: SweepReport) -> None:
        """Tell the coordinators, each in their language, by a route other than the one that failed.

        Never the failed route itself, unless the message may have arrived
        and no other route is left. When nothing gets through that channel
        at all (``whole_channel``), not that channel either while another
        route is left: their e-mail, where they have one. One report per
        failed message and outcome (its key says which), however often that
        message fails.
        """
        step = ("unknown-" if unknown else "failed-") + hashlib.sha256(message_key.encode()).hexdigest()[:20]
        failed_channel = failed_route[0]
        coordinators = self.contacts.coordinators
        preferred = [route for route in routes_for(coordinators, self.routes, "coordinators")
                     if (route[0], route[1]) != failed_route]
        by_email = [("email", address, coordinators.language) for address in coordinators.email] \
            if "email" in self.channels and failed_channel != "email" else []
        elsewhere = [route for route in preferred if route[0] != failed_channel]
        if whole_channel:
            routes = elsewhere or by_email or preferred
        else:
            routes = preferred or by_email
        if not routes and unknown:
            # Only the answer was lost (a process killed mid-send, a timeout): the route itself may be fine.
            routes = list(routes_for(coordinators, self.routes, "coordinators"))
        if not routes:
            with using_language("en"):  # the log is the operator's, in English like every log line
                logged = text()
            self._undeliverable_report(message_key, text(), logged, report)
            return
        rows = []
        for channel, recipient, language in routes:
            with using_language(language):
                detail = text()
            notice = Notice(key=f"-/-/problem/{step}/{channel}/{recipient}", kind="problem", step=step,
                            day=now.astimezone(self.zone).date(), subject=None, channel=channel, recipient=recipient,
                            language=language, reason="coordinators", detail=detail, party=COORDINATORS)
            rows.append(outbox.row_values(notice, now, now))
        outbox.insert_new(session, rows)

    def _undeliverable_report(self, message_key: str, detail: str, logged: str, report: SweepReport) -> None:
        """``detail`` in the operator's language for the command's output, ``logged`` in English for the log."""
        report.unreported.append(f"{message_key}: {detail.splitlines()[0]}")
        log.error("undeliverable: the coordinators cannot be told about %s: no route of theirs is left (add an "
                  "e-mail address to [coordinators] in the contacts file). What they would have read: %s",
                  message_key, logged.replace("\n", " "))


def _titles(session, deliverable_ids: set[str]) -> dict[str, tuple[str, str]]:
    """Titles (Danish, English) of these deliverables, for reports that name what a message was about."""
    if not deliverable_ids:
        return {}
    rows = session.exec(select(DeliverableRow.id, DeliverableRow.title, DeliverableRow.title_en).where(
        col(DeliverableRow.id).in_(sorted(deliverable_ids))))
    return {deliverable_id: (title, title_en) for deliverable_id, title, title_en in rows}


def _title_of(titles: dict[str, tuple[str, str]], row: OutboxRow) -> str:
    title, title_en = titles.get(row.deliverable_id or "", (row.deliverable_id or "", row.deliverable_id or ""))
    title = title_en if current_language() == "en" else title
    return f"{title} ({row.occurrence_year})" if row.occurrence_year else title


def _event(row: OutboxRow, message: Message) -> dict[str, str]:
    """The fields of a log line about one notice (``tracker.logs`` puts them in JSON lines)."""
    occurrence = f"{row.deliverable_id}/{row.occurrence_year or '-'}" if row.deliverable_id else "-"
    return {"outbox_key": row.key, "occurrence": occurrence, "message_key": message.key}


# The providers a message falls back from, as its fallback's recorded reason names them (message.reason_words).
_PROVIDER = {"slack": "Slack", "teams": "Teams"}


def _describe(key: str, channel: str, recipient: str, error: str) -> str:
    return f"{key} ({channel} → {recipient}): {error}"
