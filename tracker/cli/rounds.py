"""`tracker round`: the status rounds before each report's cut-off: list, status, and an extra one opened now."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Any

import click

from tracker.cli.app import cli
from tracker.cli.options import DATE, actor_name, by_option, database_option, open_existing, register_option
from tracker.clock import plan_today, plan_zone
from tracker.i18n import _, format_day


def _state_words(state: str) -> str:
    return {"upcoming": _("upcoming"), "open": _("open"), "closed": _("closed")}[state]


def _statuses(session: Any, register_path: str | None, today: date) -> tuple[Any, list[Any], list[Any]]:
    """The register's policy, the plan's occurrences and every round, scheduled and extra."""
    from tracker.register import load_register
    from tracker.store.queries import load_plan
    from tracker.store.rounds import all_rounds

    policy = load_register(register_path).policy
    subjects = load_plan(session, today, include_archived=False).views
    return policy, subjects, all_rounds(session, policy, subjects, plan_zone())


def _round_status(session: Any, round_: Any, subjects: list[Any]) -> Any:
    from tracker.rounds import status
    from tracker.store.rounds import answers_between

    zone = plan_zone()
    return status(round_, subjects, answers_between(session, round_.starts_at(zone), round_.ends_at(zone)), zone)


@cli.group("round")
def round_group() -> None:
    """Status rounds: before each report's cut-off, every party asked about its items ([[policy.round]]).

    A round opens by itself, the working days before its cut-off the register
    says; `tracker round open NAME --now` opens an extra one.
    """


@round_group.command("list")
@register_option
@database_option
def list_command(register_path: str | None, database_url: str | None) -> None:
    """Every round, scheduled and extra: when it opens and closes, and how many items are answered."""
    from tracker.store.db import read_session

    today = plan_today()
    with read_session(open_existing(database_url)) as session:
        policy, subjects, rounds = _statuses(session, register_path, today)
        if not policy.rounds:
            click.echo(_("The register has no status rounds: add [[policy.round]] to it (docs/register.md)."))
            return
        for round_ in rounds:
            state = round_.state(today)
            line = _("{key}: {state}, {opens} to {closes}, for “{report}”").format(
                key=round_.key, state=_state_words(state), opens=format_day(round_.opens),
                closes=format_day(round_.closes), report=round_.report_title)
            if state != "upcoming":
                result = _round_status(session, round_, subjects)
                line += "; " + _("{answered} of {count} answered").format(answered=result.answered,
                                                                           count=len(result.items))
            if round_.extra is not None:
                line += "; " + _("extra, opened by {who}").format(who=round_.opened_by)
            click.echo(line)


@round_group.command("status")
@click.argument("name", metavar="NAME")
@click.option("--cutoff", type=DATE, metavar="DATE", help="The round with this cut-off (default: the open one, "
              "else the last closed, else the next).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: the round, and per party what is answered "
              "and what is not.")
@register_option
@database_option
def status_command(name: str, cutoff: date | None, as_json: bool, register_path: str | None,
                   database_url: str | None) -> None:
    """Who has answered what in round NAME (a round's name, or a key as `round list` prints it), who has not."""
    from tracker.errors import UnknownIdError
    from tracker.rounds import current
    from tracker.store.db import read_session
    from tracker.store.rounds import rule_named

    today = plan_today()
    with read_session(open_existing(database_url)) as session:
        policy, subjects, rounds = _statuses(session, register_path, today)
        by_key = {round_.key: round_ for round_ in rounds}
        if name in by_key and cutoff is None:
            chosen = by_key[name]
        else:
            rule_named(policy, name)
            if cutoff is not None:
                chosen = next((r for r in rounds if r.name == name and r.closes == cutoff), None)
                if chosen is None:
                    raise UnknownIdError(_("Round {name} has no cut-off on {day}. Its cut-offs: {days}.").format(
                        name=name, day=cutoff.isoformat(),
                        days=", ".join(r.closes.isoformat() for r in rounds if r.name == name) or "–"))
            else:
                chosen = current(rounds, name, today)
                if chosen is None:
                    raise UnknownIdError(_("Round {name} has no cut-off in the plan: its cut-off deliverable has no "
                                           "occurrences.").format(name=name))
        result = _round_status(session, chosen, subjects)
    if as_json:
        click.echo(json.dumps(_as_json(result, today), ensure_ascii=False, indent=2))
        return
    _print(result, today)


def _answer_json(standing: Any) -> dict[str, Any]:
    subject, answer = standing.asked.subject, standing.answer
    item: dict[str, Any] = {"id": subject.deliverable_id, "occurrence": subject.year,
                            "due": subject.due.isoformat() if subject.due else None, "status": subject.status.value}
    if answer is not None:
        item["answer"] = {"at": answer.at.astimezone(plan_zone()).isoformat(), "by": answer.actor,
                          "action": answer.action, "old": answer.old, "new": answer.new, "note": answer.note}
    return item


def _as_json(result: Any, today: date) -> dict[str, Any]:
    round_ = result.round
    return {
        "round": round_.key, "name": round_.name, "state": round_.state(today), "opens": round_.opens.isoformat(),
        "closes": round_.closes.isoformat(), "report": round_.rule.report, "cutoff": round_.rule.cutoff,
        "extra": round_.extra is not None, "opened_by": round_.opened_by,
        "items": len(result.items), "answered": result.answered,
        "parties": [{"party": party,
                     "answered": [_answer_json(s) for s in result.for_party(party) if s.answer is not None],
                     "unanswered": [_answer_json(s) for s in result.for_party(party) if s.answer is None]}
                    for party in result.parties],
    }


def _print(result: Any, today: date) -> None:
    from tracker.model import change_text

    round_ = result.round
    click.echo(_("Round {key} for “{report}”: {state}, {opens} to {closes}. {answered} of {count} answered.").format(
        key=round_.key, report=round_.report_title, state=_state_words(round_.state(today)),
        opens=format_day(round_.opens), closes=format_day(round_.closes), answered=result.answered,
        count=len(result.items)))
    if not result.items:
        click.echo(_("Nothing is in scope: the parties have no open items."))
    for party in result.parties:
        items = result.for_party(party)
        answered = sum(1 for s in items if s.answer is not None)
        click.echo("")
        click.echo(_("{party}: {answered} of {count} answered").format(party=party, answered=answered,
                                                                       count=len(items)))
        for standing in items:
            subject, answer = standing.asked.subject, standing.answer
            label = subject.deliverable_id + (f" ({subject.year})" if subject.year else "")
            if answer is None:
                click.echo("  ✗ " + _("{item}: no update received").format(item=label))
            else:
                when = answer.at.astimezone(plan_zone()).strftime("%Y-%m-%d %H:%M")
                click.echo("  ✓ " + _("{item}: {what}, by {who}, {when}").format(
                    item=label, what=change_text(answer.action, answer.old, answer.new), who=answer.actor,
                    when=when))


@round_group.command("open")
@click.argument("name", metavar="NAME")
@click.option("--now", "now_flag", is_flag=True, help="Open it now: required, as the scheduled rounds open by "
              "themselves.")
@click.option("--closes", type=DATE, metavar="DATE", help="Its cut-off (default: as many working days from today as "
              "a scheduled round of NAME is open).")
@by_option
@register_option
@database_option
def open_command(name: str, now_flag: bool, closes: date | None, actor: str | None, register_path: str | None,
                 database_url: str | None) -> None:
    """Open an extra round of NAME now: every party it names is asked at the service's next sweep."""
    from tracker.register import load_register
    from tracker.store.db import write_session
    from tracker.store.queries import load_plan
    from tracker.store.rounds import open_extra, rule_named

    if not now_flag:
        raise click.ClickException(_("Say --now to open an extra round at once: the scheduled rounds open by "
                                     "themselves (tracker round list)."))
    policy = load_register(register_path).policy
    rule_named(policy, name)
    now = datetime.now(timezone.utc)
    engine = open_existing(database_url)
    with write_session(engine) as session:
        subjects = load_plan(session, plan_today(), include_archived=False).views
        opened = open_extra(session, policy, name, subjects, actor=actor_name(actor), now=now, zone=plan_zone(),
                            closes=closes)
        key, closes_on = opened.key, opened.closes
    click.echo(_("Opened round {key}: it closes at the end of {day}. The service asks every party at its next "
                 "sweep.").format(key=key, day=format_day(closes_on)))
