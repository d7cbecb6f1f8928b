"""How the notification sweep scales with the plan and fans out under Slack's rate limit, as ratios measured in one run.

    .venv/bin/python bench/notify.py [--quick] [--repeats N] [--deliverables N]
                                     [--channels K] [--per-channel N] [--rate R] [--burst B]

Every figure is set against a reference measured on the same machine in the
same run, so that noise from a shared machine hits both alike:

1. Planning one sweep day: ``plan_notices`` + ``bundle`` (tracker.notify.planner)
   with start = end = Monday 2028-09-04, a working day and the digest's day,
   so the weekly overdue alerts and the task force's digest are in it. A
   synthetic plan of 10,000 deliverables with 50,000 occurrences, and one ten
   times that, printed side by side. Each deliverable falls due once a year
   for five years (first in 2026 or 2027, last in 2030 or 2031), mostly on the
   first or last of a month, owned by one of 50 parties, some with co-owners;
   every party has a Slack channel and an e-mail address (the planner routes
   to Slack first), as have the coordinators and the task force. Nine in ten
   past deadlines were met (six in ten of the last two months'); the open rest
   are overdue, half of them not updated since (asked to confirm). About 8% of
   the occurrences get a notice on the day, of every kind. Reported: CPU time
   (the planner is pure computation; CPU time leaves out the time a busy
   neighbour holds the CPU) per occurrence at each size, and the scaling ratio
   (10x time / 1x time) / 10. Target: <= 1.3 (linear). The small plan is swept
   ten times in a row for each sweep of the large one, so both sides take as
   long; best of --repeats rounds. ``outbox.triage`` of the day's outbox rows
   (built from the plan, untimed, as the database would hand them over) is
   timed alike and reported per row, with no target: its per-row cost rises
   as the rows outgrow the CPU's caches (a plain pass over the rows' fields
   does the same), which says nothing about triage. --quick divides both
   sizes by 10.

2. Fan-out of 1,000 messages (10 channels x 100, three items each) through
   ``SlackChannel.send`` (slack-sdk's WebClient, one message at a time, as the
   sweep sends) to the tests' Slack stand-in with its per-channel token bucket
   on, against the lower bound that limit sets: the most loaded channel's
   (messages - burst) / rate. Round-robin across the channels is the sweep's
   order (one bundled message per recipient, recipient after recipient);
   target <= 2.0x the bound. Grouped, all of one channel before the next, a
   sender that waits out each 429 cannot finish before the sum of the
   channels' bounds: reported against both bounds, no target. The round-robin
   order with the limit off gives the sender's own floor. Every message must
   arrive exactly once, in the channel it was addressed to. --quick sends 240
   (4 channels x 60).

   Slack allows about one message per second per channel and says how long to
   wait in whole seconds (Retry-After), as the stand-in does: at 1/s a wait
   refills the one message it waited for. To keep the run to tens of seconds
   the buckets here run 20 times faster (20 messages/s per channel), where a
   one-second wait refills 20; the burst is 20 so that the bucket can hold
   them. With a burst smaller than the rate, the bucket overflows during every
   wait and the sender idles for a reason production does not have: with the
   stand-in's default burst of 3, round-robin takes about five times the bound.
   The target leaves room for the whole-second waits (the last one is rarely
   used up: 1.05-1.3x measured) and for a slower sender.

It prints the figures, the ratios and PASS/FAIL against the targets. Like
bench/feeds.py it exits 0 when a target is missed (the machine is shared and
noisy: the figures are reported, not asserted) and 2 when the benchmark
itself fails (a message lost or duplicated, a send refused, a plan
that does not exercise every kind of notice). --quick (for CI) takes about
25 s; the full run about three minutes.
"""

from __future__ import annotations

import argparse
import calendar
import gc
import logging
import os
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the Slack stand-in lives in the repository's tests package

from tests.notify.slack_standin import SlackStandIn  # noqa: E402
from tracker.i18n import set_language  # noqa: E402
from tracker.model import Status  # noqa: E402
from tracker.notify.contacts import Contacts, Reach  # noqa: E402
from tracker.notify.message import Item, Message, SendError  # noqa: E402
from tracker.notify.outbox import row_values, triage  # noqa: E402
from tracker.model import Change, OccurrenceView  # noqa: E402
from tracker.notify.planner import Notice, bundle, plan_notices, send_time  # noqa: E402
from tracker.policy import PolicySet  # noqa: E402
from tracker.notify.slack import SlackChannel  # noqa: E402
from tracker.store.tables import OutboxRow  # noqa: E402

ZONE = ZoneInfo("Europe/Copenhagen")
BASE_URL = "https://kraeftplan.example/"
DAY = date(2028, 9, 4)  # the swept day: a Monday and a working day
NOW = datetime(2028, 9, 4, 9, 30, tzinfo=ZONE)  # just after the day's send time
ROUTES = ("slack", "email")  # both configured: parties are reached on Slack, their first choice
PARTIES = 50
OCCURRENCES = 5  # per deliverable, one a year
KINDS = ("reminder", "overdue", "escalation", "confirm", "digest")  # every kind the planner plans
LINEAR_TARGET = 1.3
FAN_OUT_TARGET = 2.0
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
MARKER = re.compile(r"\[bench (\d+)\]")

T = TypeVar("T")


class BenchError(Exception):
    """The benchmark could not measure what it set out to (a message lost, a send refused, ...)."""


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def cpu_timed(function: Callable[[], T]) -> tuple[float, T]:
    """``function()``'s CPU time, started from a clean heap.

    For pure computation, CPU time is the cost, and unlike wall time it does
    not count the time a busy neighbour holds the CPU.
    """
    gc.collect()
    started = time.process_time()
    result = function()
    return time.process_time() - started, result


# --------------------------------------------------------------------------- 1: planning one sweep day

_TOPICS = [
    ("Nationale kliniske retningslinjer for lungekræft", "National clinical guidelines for lung cancer"),
    ("Forløbsprogram for rehabilitering og palliation", "Care programme for rehabilitation and palliation"),
    ("Kvalitetsindikatorer for brystkræft", "Quality indicators for breast cancer"),
    ("Ventetider til udredning for tyk- og endetarmskræft", "Waiting times for diagnosing colorectal cancer"),
    ("Senfølgeklinikker i alle fem regioner", "Late-effects clinics in all five regions"),
    ("Tidlig opsporing hos ældre kræftpatienter", "Early detection in older cancer patients"),
    ("Afrapportering om pakkeforløb til ministeriet", "Report on cancer pathways to the ministry"),
]
_DEADLINES = ["én gang årligt inden udgangen af første kvartal", "årligt, senest 1. juli", "hvert år i efteråret"]
_QUOTES = [
    "Sundhedsstyrelsen vil i samarbejde med de faglige miljøer, Danske Regioner og KL udarbejde en beskrivelse af "
    "den faglige ramme; arbejdet forventes afsluttet i løbet af aftaleperioden.",
    "Indsatsen evalueres af en uafhængig part, og resultaterne afrapporteres årligt til Indenrigs- og "
    "Sundhedsministeriet med henblik på en vurdering af, om ordningen skal gøres permanent.",
]
_NOTES = [None, None, "Udkast sendt i høring; afventer svar fra Danske Regioner og KL.",
          "Forsinket: styregruppen mødes først igen i marts."]
_OPEN = (Status.NOT_STARTED, Status.IN_PROGRESS, Status.IN_PROGRESS, Status.AT_RISK)
_CLOSED = (Status.DONE, Status.DONE, Status.DONE, Status.CANCELLED)


@dataclass(frozen=True)
class SweepInput:
    """What the sweep hands the planner: the plan's occurrences and the deployment's contacts."""

    subjects: list[OccurrenceView]
    changes: list[Change]
    contacts: Contacts
    policy: PolicySet


def _moment(day: date) -> datetime:
    """An update on ``day`` (never after the swept day), in the afternoon."""
    return datetime.combine(min(day, DAY - timedelta(days=1)), datetime.min.time(), ZONE) + timedelta(hours=14)


def _progress(rng: random.Random, due: date) -> tuple[Status, datetime | None]:
    """An occurrence's status and last update, as they stand on the swept day."""
    if due < DAY:
        # Most deadlines were met; of those just past, many are not marked done yet.
        if rng.random() < (0.6 if DAY - due <= timedelta(days=60) else 0.9):
            return rng.choice(_CLOSED), _moment(due - timedelta(days=rng.randrange(60)))
        # Overdue: half were updated after the due day, half not since (the planner asks them to confirm).
        return rng.choice(_OPEN), None if rng.random() < 0.5 else _moment(due + timedelta(days=rng.randrange(1, 60)))
    if rng.random() < 0.05:  # done early
        return Status.DONE, _moment(DAY - timedelta(days=rng.randrange(1, 200)))
    return rng.choice(_OPEN), None if rng.random() < 0.6 else _moment(DAY - timedelta(days=rng.randrange(1, 400)))


def synthetic_sweep(deliverables: int, seed: int = 7) -> SweepInput:
    """``deliverables`` yearly deliverables (five occurrences each, 2026-2031) and 50 parties, each on Slack."""
    rng = random.Random(seed)
    parties = [f"part-{number:02d}" for number in range(PARTIES)]
    names = {key: (f"Myndighed {number}", f"Authority {number}") for number, key in enumerate(parties)}
    contacts = Contacts(
        parties={key: Reach(slack=(f"#kraeftplan-{key}",), email=(f"{key}@example.org",),
                            language="en" if number % 10 == 9 else "da")  # a few read English
                 for number, key in enumerate(parties)},
        coordinators=Reach(slack=("#kraeftplan-koordinering",), email=("koordinator@example.org",)),
        taskforce=Reach(slack=("#kraeftplan-taskforce",), email=("taskforce@example.org",)),
    )
    subjects: list[OccurrenceView] = []
    for index in range(deliverables):
        owner = rng.choice(parties)
        co_owners = tuple(party for party in rng.sample(parties, rng.choice((0, 0, 0, 1, 2))) if party != owner)
        title, title_en = rng.choice(_TOPICS)
        deadline_text, quote = rng.choice(_DEADLINES), rng.choice(_QUOTES)
        # Deadlines cluster on the first and the last of a month ("senest 1. juli", "inden udgangen af marts").
        month, day_of_month = rng.randrange(1, 13), rng.choice((1, 1, 1, 31, 31, 31, 15, rng.randrange(2, 29)))
        first = rng.choice((2026, 2027))
        deliverable_id = f"syntetisk-{index:06d}"
        for year in range(first, first + OCCURRENCES):
            due = date(year, month, min(day_of_month, calendar.monthrange(year, month)[1]))
            status, updated_at = _progress(rng, due)
            withdrawn = rng.random() < 0.01
            subjects.append(OccurrenceView(
                deliverable_id=deliverable_id, year=year, title=f"{title} ({index})", title_en=f"{title_en} ({index})",
                kind="report", owner=owner, co_owners=co_owners, recipient=None, theme="anbefaling-4",
                deadline_text=deadline_text, window_start=due, due=due, baseline_due=due, precision="day",
                status=status, overdue=not withdrawn and not status.is_closed and due < DAY, withdrawn=withdrawn,
                note=rng.choice(_NOTES), updated_at=updated_at, source_file="001_ef795b8afb91781f.txt",
                source_section="Anbefaling 4: Bedre forløb", source_quote=quote, owner_name=names[owner][0],
                owner_name_en=names[owner][1],
            ))
    # One occurrence in 200 changed in the week before (the digest's "changed in the last week").
    changes = [Change(at=NOW - timedelta(hours=rng.randrange(24, 7 * 24)), deliverable_id=subject.deliverable_id,
                      year=subject.year, action="status")
               for subject in rng.sample(subjects, len(subjects) // 200)]
    return SweepInput(subjects, changes, contacts, PolicySet())


@dataclass
class SizeResult:
    """The best repetition of one plan size."""

    occurrences: int
    notices: Counter[str]
    messages: int
    items: int
    rows: list[OutboxRow]
    plan: float = float("inf")
    bundle: float = float("inf")
    triage: float = float("inf")

    @property
    def total(self) -> float:
        return self.plan + self.bundle


def plan_day(sweep: SweepInput) -> tuple[float, float, list[Message], dict[str, Notice]]:
    """Plan and bundle the swept day; (plan seconds, bundle seconds, messages, notices by key)."""
    planning, plan = cpu_timed(lambda: plan_notices(sweep.subjects, sweep.policy, sweep.contacts, ROUTES, DAY, DAY))
    bundling, messages = cpu_timed(lambda: bundle(plan.notices, sweep.subjects, sweep.changes, sweep.policy,
                                                  ZONE, BASE_URL))
    return planning, bundling, messages, {notice.key: notice for notice in plan.notices}


def triage_day(rows: list[OutboxRow], by_key: dict[str, Notice]) -> float:
    """Triage the day's rows (every one still called for, none superseded); CPU seconds."""
    seconds, outcome = cpu_timed(lambda: triage(rows, by_key, DAY))
    if outcome.skip or len(outcome.send) != len(rows):
        raise BenchError(f"triage skipped {len(outcome.skip)} of the {len(rows)} rows planned for the day")
    return seconds


def mean_of(batch: int, measure: Callable[[], tuple[float, ...]]) -> tuple[float, ...]:
    """Each of ``measure()``'s figures averaged over ``batch`` runs in a row."""
    samples = [measure() for _run in range(batch)]
    return tuple(sum(column) / batch for column in zip(*samples))


def bench_planning(sizes: list[int], repeats: int) -> bool:
    print(f"1. Planning one sweep day ({DAY:%A} {DAY.isoformat()}): plan_notices + bundle, and outbox.triage of the "
          f"day's rows; CPU time per sweep, best of {repeats} rounds")
    inputs = [synthetic_sweep(deliverables) for deliverables in sizes]
    results: list[SizeResult] = []
    plans: list[dict[str, Notice]] = []
    for sweep in inputs:
        _plan, _bundle, messages, by_key = plan_day(sweep)  # also warms the holiday cache and the translations
        notices = Counter(notice.kind for notice in by_key.values())
        # The rows the sweep inserted for these notices, as the claim reads them back (ids as the database gives).
        rows = [OutboxRow(id=number, **row_values(notice, send_time(DAY, sweep.policy, ZONE), NOW))
                for number, notice in enumerate(by_key.values(), 1)]
        results.append(SizeResult(len(sweep.subjects), notices, len(messages),
                                  sum(len(message.items) for message in messages), rows))
        plans.append(by_key)
    missing = [kind for kind in KINDS if not results[-1].notices[kind]]
    if missing:
        raise BenchError(f"the larger plan has no {', '.join(missing)} notice on {DAY}: it does not exercise every "
                         "kind; make it larger")
    # Everything built so far lives as long as the benchmark: keep the collector from walking it on every
    # collection, so the small plan is not timed with the large one's heap (a sweep holds one plan at a time).
    gc.collect()
    gc.freeze()
    # The small plan is swept ten times in a row for each sweep of the large one: both sides of the ratio then
    # take as long, so a busy spell on the machine cannot favour the short one.
    batches = [sizes[-1] // size for size in sizes]
    for _round in range(repeats):
        for sweep, result, batch in zip(inputs, results, batches):
            planning, bundling = mean_of(batch, lambda: plan_day(sweep)[:2])
            if planning + bundling < result.total:
                result.plan, result.bundle = planning, bundling
    # Triage in rounds of its own: after a sweep of the large plan the rows are out of the CPU's caches, after
    # one of the small plan they are not, which would count the cache's size against the large plan.
    for _round in range(repeats):
        for result, by_key, batch in zip(results, plans, batches):
            (triaging,) = mean_of(batch, lambda: (triage_day(result.rows, by_key),))
            result.triage = min(result.triage, triaging)
    gc.unfreeze()

    print(f"  {'occurrences':>11} {'deliverables':>12} {'notices':>8} {'messages':>8} {'items':>7} {'plan':>9} "
          f"{'bundle':>9} {'total':>9} {'per occ.':>9}   {'triage':>9} {'per row':>8}")
    for deliverables, result in zip(sizes, results):
        notices = sum(result.notices.values())
        print(f"  {result.occurrences:>11,} {deliverables:>12,} {notices:>8,} {result.messages:>8,} {result.items:>7,} "
              f"{result.plan * 1000:>6.0f} ms {result.bundle * 1000:>6.0f} ms {result.total * 1000:>6.0f} ms "
              f"{result.total / result.occurrences * 1e6:>6.2f} µs   {result.triage * 1000:>6.1f} ms "
              f"{result.triage / len(result.rows) * 1e6:>5.2f} µs")
    small, large = results
    share = sum(large.notices.values()) / large.occurrences
    print(f"  notices on the day: {share * 100:.1f}% of the occurrences ("
          + ", ".join(f"{kind} {large.notices[kind]:,}" for kind in KINDS) + f" at {sizes[1]:,} deliverables)")
    planning = (large.total / large.occurrences) / (small.total / small.occurrences)
    triaging = (large.triage / len(large.rows)) / (small.triage / len(small.rows))
    print(f"  Ratio: (10x time / 1x time) / 10, per occurrence: plan + bundle {planning:.2f}  "
          f"target <= {LINEAR_TARGET}: {verdict(planning <= LINEAR_TARGET)}")
    print(f"         per outbox row: triage {triaging:.2f}  (no target: the cost per row rises as the rows "
          "outgrow the CPU's caches)")
    return planning <= LINEAR_TARGET


# --------------------------------------------------------------------------- 2: fan-out under Slack's rate limit


def fan_out_messages(channels: list[str], per_channel: int) -> dict[str, list[Message]]:
    """``per_channel`` distinct messages for each channel, numbered across all; three items each."""
    messages: dict[str, list[Message]] = {channel: [] for channel in channels}
    at = datetime.combine(DAY, PolicySet().default.send_at, ZONE)
    number = 0
    for position in range(per_channel):
        for channel in channels:
            items = tuple(Item(
                deliverable_id=f"syntetisk-{number:04d}-{index}", occurrence=2028, title=f"{title} (2028)",
                owner="Sundhedsstyrelsen", due=DAY + timedelta(days=7 * (index + 1)), deadline_text=_DEADLINES[index],
                status="i gang", note=_NOTES[index + 1], source_section="Anbefaling 4: Bedre forløb",
                source_quote=_QUOTES[index % 2], url=f"{BASE_URL}deliverables/syntetisk-{number:04d}-{index}",
                line=f"forfalder om {7 * (index + 1)} dage",
            ) for index, (title, _title_en) in enumerate(_TOPICS[:3]))
            subject = f"Kræftplan V: {len(items)} frister [bench {number}]"
            text = "\n".join([subject, "", "Det her kræver jeres opmærksomhed i Kræftplan V:", ""]
                             + [f"• {item.title}: {item.line}" for item in items])
            messages[channel].append(Message(
                key=f"slack/{channel}/{DAY.isoformat()}/{position}", kind="overdue", channel="slack",
                recipient=channel, language="da", at=at, subject=subject,
                intro="Det her kræver jeres opmærksomhed i Kræftplan V:", items=items, text=text))
            number += 1
    return messages


def marker(text: str | None) -> int:
    """The number a fan-out message carries in its text, or -1."""
    match = MARKER.search(text or "")
    return int(match.group(1)) if match else -1


@dataclass(frozen=True)
class Sent:
    elapsed: float
    rate_limited: int  # 429s the stand-in answered
    arrived: int  # messages the stand-in accepted (each checked: exactly once, in its channel)


def send_all(order: list[Message], expected: dict[str, list[Message]], rate_limit: bool, rate: float,
             burst: int) -> Sent:
    """Send ``order`` one at a time through a fresh stand-in (full buckets); check each arrived exactly once."""
    with SlackStandIn(rate_limit=rate_limit, rate=rate, burst=burst) as slack:
        for channel in expected:
            slack.add_channel(channel)
        slack.add_channel("kraeftplan-bench-warmup")
        sender = SlackChannel(slack.token, slack.base_url)
        # The first send pays slack-sdk's and the server's set-up; in a channel of its own, it uses no bucket.
        warm_up = expected[next(iter(expected))][0]
        sender.send(replace(warm_up, recipient="#kraeftplan-bench-warmup"))
        started = time.perf_counter()
        try:
            for message in order:
                sender.send(message)
        except SendError as error:
            raise BenchError(f"a send failed: {error}") from error
        elapsed = time.perf_counter() - started
        arrived = 0
        for channel, messages in expected.items():
            numbers = sorted(marker(posted.text) for posted in slack.messages_in(channel))
            wanted = sorted(marker(message.text) for message in messages)
            if numbers != wanted:
                raise BenchError(f"{channel}: {len(numbers)} messages arrived, {len(set(numbers))} distinct; expected "
                                 f"{len(wanted)}, each exactly once")
            arrived += len(numbers)
        return Sent(elapsed, slack.rate_limited, arrived)


def bench_fan_out(channel_count: int, per_channel: int, rate: float, burst: int) -> bool:
    for name in PROXY_VARIABLES:
        os.environ.pop(name, None)  # slack-sdk would send even loopback requests through a proxy
    # SlackChannel logs a warning for every 429 it waits out; the stand-in counts them for the table instead.
    logging.getLogger("tracker.notify.slack").setLevel(logging.ERROR)
    channels = [f"#kraeftplan-bench-{number:02d}" for number in range(1, channel_count + 1)]
    expected = fan_out_messages(channels, per_channel)
    total = channel_count * per_channel
    round_robin = [messages[position] for position in range(per_channel) for messages in expected.values()]
    grouped = [message for messages in expected.values() for message in messages]
    # The limit's lower bound: every channel drains its burst at once and the rest at ``rate``, all in parallel.
    waits = [max(0, len(messages) - burst) / rate for messages in expected.values()]
    bound, one_at_a_time = max(waits), sum(waits)

    print(f"2. Fan-out of {total:,} messages ({channel_count} channels x {per_channel}) through SlackChannel to the "
          f"Slack stand-in, {rate:g} messages/s per channel, burst {burst}")
    print(f"  lower bound set by the limit: {bound:.2f} s (one channel's (messages - burst) / rate); "
          f"{one_at_a_time:.2f} s for the channels one after another")
    floor = send_all(round_robin, expected, False, rate, burst)
    interleaved = send_all(round_robin, expected, True, rate, burst)
    in_turn = send_all(grouped, expected, True, rate, burst)
    print(f"  {'order':<26} {'elapsed':>9} {'429s':>5} {'arrived':>8}   ratio to the bound")
    for label, sent, note in [
        ("round-robin, no limit", floor, " (the sender's own floor)"),
        ("round-robin (the sweep's)", interleaved, ""),
        ("grouped by channel", in_turn, f" ({in_turn.elapsed / one_at_a_time:.2f}x the channels' bounds summed)"),
    ]:
        print(f"  {label:<26} {sent.elapsed:>7.2f} s {sent.rate_limited:>5} {sent.arrived:>8,}   "
              f"{sent.elapsed / bound:.2f}x{note}")
    if floor.elapsed > bound:
        print("  (the sender alone is slower than the limit here: the ratios measure the sender, not the waits)")
    ratio = interleaved.elapsed / bound
    print(f"  Ratio: round-robin / lower bound {ratio:.2f}x  target <= {FAN_OUT_TARGET}: "
          f"{verdict(ratio <= FAN_OUT_TARGET)}; every message arrived exactly once in its channel")
    return ratio <= FAN_OUT_TARGET


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for CI: about 25 s, proves it works")
    parser.add_argument("--repeats", type=int, default=3, help="planning repetitions, best taken (default 3)")
    parser.add_argument("--deliverables", type=int,
                        help="the smaller plan's deliverables; the larger has 10x (default 10,000, quick 1,000)")
    parser.add_argument("--channels", type=int, help="Slack channels in the fan-out (default 10, quick 4)")
    parser.add_argument("--per-channel", type=int, help="messages per channel (default 100, quick 60)")
    parser.add_argument("--rate", type=float, default=20.0, help="messages/s per channel the stand-in allows (20)")
    parser.add_argument("--burst", type=int, default=20, help="the stand-in's bucket depth (default 20: the rate)")
    args = parser.parse_args()
    quick = args.quick
    deliverables = args.deliverables or (1_000 if quick else 10_000)
    channels = args.channels or (4 if quick else 10)
    per_channel = args.per_channel or (60 if quick else 100)
    if min(args.repeats, deliverables, channels, per_channel) < 1 or args.rate <= 0 or args.burst < 1:
        parser.error("sizes, repeats, rate and burst must be positive")
    if per_channel <= args.burst:
        parser.error("--per-channel must exceed --burst, or the rate limit sets no bound")

    set_language("en")  # the operator's language, for any error a send reports
    started = time.perf_counter()
    print(f"Notification sweep, ratios measured in one run (Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs{', quick' if quick else ''})")
    planning_ok = bench_planning([deliverables, 10 * deliverables], args.repeats)
    fan_out_ok = bench_fan_out(channels, per_channel, args.rate, args.burst)
    print(f"({time.perf_counter() - started:.0f} s)")
    if not (planning_ok and fan_out_ok):
        print("A target was missed (see FAIL above); on a shared machine, run it again before reading much into it.")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
