"""How fast the calendar feeds are served and rendered, as ratios measured in one run.

    .venv/bin/python bench/feeds.py [--quick] [--seconds S] [--rounds N] [--connections C] [--no-pin]
                                    [--large DELIVERABLES] [--large-db OCCURRENCES]

Every figure is set against a floor measured on the same machine in the same
run, interleaved or repeated so that noise from a shared machine hits both
alike (issue 3):

1. HTTP: requests/s for a cached feed, ``GET /feeds/<token>.ics`` from
   ``tracker.web.create_app`` under uvicorn (SQLite synced with the shipped
   register, one whole-plan feed), against the same bytes served as a static
   file by uvicorn + ``starlette.staticfiles.StaticFiles`` (same server stack,
   so the ratio is the app's own per-request work: one change-marker read and
   the token check). Python's ``http.server`` (threading, HTTP/1.1 keep-alive)
   is a second reference. Target: app >= 0.5x StaticFiles.
2. The 304 path (If-None-Match = the current ETag) against the 200 path and
   against StaticFiles: its 200, and its own 304, which isolates the
   per-request overhead (StaticFiles' 200 also pays for reading the file
   through the thread pool in 64 KiB chunks, which the app does not).
3. Render time of a 50- and a 5,000-deliverable synthetic plan through
   ``FeedRenderer`` (update + render, fresh renderer): cost per event,
   5,000 vs 50 (linear scaling is 1.0x).
4. After one status change in the 5,000-deliverable plan: ``update()`` with
   that event replaced, then ``render()`` of the whole-plan feed, against a
   fresh renderer's update + render of the same plan (target: < 5%). Then,
   separately, the whole path through the database in
   ``FeedService.refresh`` (load_plan + reconcile + update, and the render
   that the next request pays) after one ``change_status`` against a cold
   refresh (a restarted service), for the shipped register and a synthetic
   ~5,000-occurrence database (2,000 with --quick).

All servers run as subprocesses of this script with the same uvicorn settings
(access log off; uvicorn picks the same HTTP and loop implementation for
both), pinned to the same CPU while the load generator (threads of keep-alive
HTTP/1.1 ``http.client`` connections) runs on the others. Besides requests/s
it reports the server's CPU time per request (from /proc), which a busy
neighbour disturbs much less than throughput, and times the app's own work
(``FeedService.feed_for_token``, the marker read, the token check) in-process.

It prints medians and ratios and PASS/FAIL against the targets; it exits 0
when a target is missed (the machine is shared and noisy) and non-zero only
when the benchmark itself fails. ``--quick`` (for CI) finishes in about a
minute; the full run takes a few minutes.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import http.client
import importlib.util
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

BASE_URL = "http://127.0.0.1:8000"
FEED_NAME = "hele-planen"
TODAY = date(2026, 11, 23)  # the synthetic plans' day: some events overdue, most ahead


class BenchError(Exception):
    """The benchmark could not measure what it set out to (a server failed, bytes differ, ...)."""


# --------------------------------------------------------------------------- servers (run as subprocesses)


def _serve(config: dict[str, Any]) -> None:
    """Run one server until killed; the parent waits until it answers."""
    if config.get("cpus"):
        os.sched_setaffinity(0, set(config["cpus"]))
    host, port = "127.0.0.1", config["port"]
    if config["kind"] == "http.server":
        import functools
        import http.server

        class Handler(http.server.SimpleHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the load generator and uvicorn use

            def log_message(self, format: str, *args: Any) -> None:  # no access log, as with uvicorn
                pass

        server = http.server.ThreadingHTTPServer((host, port), functools.partial(Handler, directory=config["root"]))
        server.serve_forever()
        return

    import uvicorn
    from starlette.applications import Starlette

    if config["kind"] == "app":
        from tracker.calendar.service import FeedService
        from tracker.clock import utc_now
        from tracker.store.db import open_engine
        from tracker.web import create_app

        service = FeedService(open_engine(config["database_url"]), config["base_url"])
        service.refresh(utc_now())  # as `tracker serve` does before it listens
        app = create_app(service)
    else:
        from starlette.routing import Mount
        from starlette.staticfiles import StaticFiles

        app = Starlette(routes=[Mount("/feeds", app=StaticFiles(directory=Path(config["root"]) / "feeds"))])
    # `tracker serve`'s settings, except the access log (off for every server here).
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False,
                proxy_headers=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, kind: str, log_dir: Path, cpus: set[int] | None, **config: Any):
        self.kind = kind
        self.port = _free_port()
        self.log = log_dir / f"{kind}.log"
        config.update(kind=kind, port=self.port, cpus=sorted(cpus) if cpus else None)
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen([sys.executable, __file__, "--serve", json.dumps(config)],
                                            stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, path: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"the {self.kind} server exited ({self.process.returncode}):\n{self.tail()}")
            try:
                status, _headers, _body = fetch(self.port, path)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise BenchError(f"the {self.kind} server did not answer within {timeout:.0f} s:\n{self.tail()}")

    def tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return ""

    def cpu_seconds(self) -> float | None:
        """User + system CPU of the server process, all threads (Linux)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def fetch(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


# --------------------------------------------------------------------------- load generator


@dataclasses.dataclass(frozen=True)
class Target:
    name: str
    server: Server
    path: str
    headers: dict[str, str]
    status: int
    length: int


@dataclasses.dataclass(frozen=True)
class Load:
    rate: float  # responses per second
    server_cpu_us: float | None  # server CPU per response
    client_cpu: float  # load generator's CPU as a share of one core


def hammer(target: Target, seconds: float, connections: int) -> Load:
    """``connections`` threads, each a keep-alive connection sending requests back to back."""
    stop = threading.Event()
    barrier = threading.Barrier(connections + 1)
    counts = [0] * connections
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", target.server.port, timeout=30)
        try:
            connection.connect()
            barrier.wait()
            done = 0
            while not stop.is_set():
                connection.request("GET", target.path, headers=target.headers)
                response = connection.getresponse()
                body = response.read()
                if response.status != target.status or len(body) != target.length:
                    raise BenchError(f"{target.name}: got {response.status} with {len(body)} bytes, expected "
                                     f"{target.status} with {target.length}")
                done += 1
            counts[index] = done
        except Exception as error:  # reported by the caller
            errors.append(error)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    for thread in threads:
        thread.start()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass
    cpu_before, client_before = target.server.cpu_seconds(), time.process_time()
    started = time.perf_counter()
    if not errors:
        time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(60)
    elapsed = time.perf_counter() - started
    cpu_after, client_after = target.server.cpu_seconds(), time.process_time()
    if errors:
        raise BenchError(f"{target.name}: {errors[0]!r}") from errors[0]
    total = sum(counts)
    if total == 0:
        raise BenchError(f"{target.name}: no response in {elapsed:.1f} s")
    server_cpu = None if cpu_before is None or cpu_after is None else (cpu_after - cpu_before) / total * 1e6
    return Load(total / elapsed, server_cpu, (client_after - client_before) / elapsed)


# --------------------------------------------------------------------------- synthetic plans

_SUBJECTS = [
    ("nationale kliniske retningslinjer for", "national clinical guidelines for"),
    ("et samlet forløbsprogram for", "a joint care programme for"),
    ("en national handleplan for", "a national action plan for"),
    ("kvalitetsindikatorer for", "quality indicators for"),
    ("ventetider til udredning for", "waiting times for diagnosis of"),
    ("rehabilitering og palliation ved", "rehabilitation and palliation in"),
    ("senfølgeklinikker for patienter med", "late-effects clinics for patients with"),
    ("en tidlig opsporingsindsats for", "an early-detection effort for"),
    ("pakkeforløb, der omfatter", "cancer pathways covering"),
]
_VERBS = [
    ("udarbejder", "drafts"), ("evaluerer", "evaluates"), ("implementerer", "implements"),
    ("afrapporterer om", "reports on"), ("fastlægger", "sets out"), ("opdaterer", "updates"),
    ("igangsætter", "starts"), ("følger op på", "follows up on"),
]
_TOPICS = [
    ("lungekræft", "lung cancer"), ("tyk- og endetarmskræft", "colorectal cancer"), ("brystkræft", "breast cancer"),
    ("kræft i æggestokkene", "ovarian cancer"), ("hjernetumorer hos børn og unge", "brain tumours in children"),
    ("modermærkekræft", "melanoma"), ("prostatakræft", "prostate cancer"),
    ("kræft i bugspytkirtlen", "pancreatic cancer"), ("lymfeknudekræft", "lymphoma"),
    ("ældre kræftpatienter med flere sygdomme", "older cancer patients with several diseases"),
    ("pårørende til kræftramte", "relatives of people with cancer"), ("hoved-halskræft", "head and neck cancer"),
]
_QUALIFIERS = [
    ("", ""), (" i alle fem regioner", " in all five regions"),
    (" med særligt fokus på ulighed", " with a focus on inequality"),
    (" på tværs af sektorer", " across sectors"), (" i samarbejde med kommunerne", " with the municipalities"),
    (" for sårbare og socialt udsatte patienter", " for vulnerable patients"),
]
_DEADLINES = [
    "inden udgangen af 2026", "i første halvår 2027", "i løbet af 2028", "senest 1. juli 2026", "primo 2027",
    "i 2029", "inden for aftaleperioden", "hurtigst muligt og senest ved udgangen af 2027",
]
_QUOTE_SENTENCES = [
    ("Regeringen og Danske Regioner er enige om, at der skal sikres et sammenhængende forløb for alle patienter, "
     "uanset hvor i landet de bor."),
    ("Sundhedsstyrelsen vil i samarbejde med de faglige miljøer, Danske Regioner og KL udarbejde en beskrivelse af "
     "den faglige ramme; arbejdet forventes afsluttet i løbet af aftaleperioden."),
    ("Initiativet skal bidrage til at nedbringe ventetiden til udredning og behandling, så flere patienter får "
     "“den rette behandling på det rette tidspunkt”."),
    ("Der er afsat 25,4 mio. kr. i 2026 og 18,7 mio. kr. årligt i 2027-2030 til initiativet, som overføres til "
     "regionerne via bloktilskud."),
    ("Indsatsen evalueres af en uafhængig part, og resultaterne afrapporteres til Indenrigs- og Sundhedsministeriet "
     "med henblik på en vurdering af, om ordningen skal gøres permanent."),
    ("Målet er, at færre dør af kræft, at flere lever længere og med bedre livskvalitet, og at uligheden i "
     "overlevelse mindskes – også for ældre og socialt udsatte."),
    ("Den nationale styregruppe følger fremdriften løbende og gør status én gang årligt på baggrund af senest "
     "tilgængelige data fra Sundhedsdatastyrelsen og Dansk Kræftregister."),
]
_NOTES = [
    None, None, None, "Udkast sendt i høring; afventer svar fra Danske Regioner og KL.",
    "Forsinket: styregruppen mødes først igen i marts.", "Afleveret til ministeriet, kvittering modtaget.",
    "Projektbeskrivelse godkendt; rekruttering af projektleder i gang (Region Midtjylland, Aarhus).",
]
_STATUS_WEIGHTS = [("not_started", 45), ("in_progress", 30), ("at_risk", 10), ("done", 10), ("cancelled", 5)]


@dataclasses.dataclass(frozen=True)
class SyntheticDeliverable:
    id: str
    title: str
    title_en: str
    owner: str
    co_owners: tuple[str, ...]
    theme: str
    deadline_text: str
    source_section: str
    source_quote: str
    occurrences: tuple[tuple[int | None, date, date, str, str | None], ...]  # year, window start, due, status, note


def synthetic_deliverables(count: int, parties: list[str], themes: list[str], seed: int = 3,
                           recurring_share: float = 0.1) -> list[SyntheticDeliverable]:
    """Deliverables like the register's: Danish titles, long quotes, mixed statuses, some yearly (2026-2030)."""
    rng = random.Random(seed)
    statuses = [status for status, _ in _STATUS_WEIGHTS]
    weights = [weight for _, weight in _STATUS_WEIGHTS]
    deliverables = []
    for index in range(count):
        subject, verb, topic, qualifier = (rng.choice(_SUBJECTS), rng.choice(_VERBS), rng.choice(_TOPICS),
                                           rng.choice(_QUALIFIERS))
        owner = rng.choice(parties)
        co_owners = tuple(rng.sample([p for p in parties if p != owner], rng.choice([0, 0, 1, 2, 3])))
        if rng.random() < recurring_share:
            years: list[int | None] = list(range(2026, 2031))
            deadline_text = "én gang årligt fra første kvartal 2026 og til og med 2030"
        else:
            years = [None]
            deadline_text = rng.choice(_DEADLINES)
        occurrences = []
        for year in years:
            if year is None:
                due = date(2025, 1, 1) + timedelta(days=rng.randrange(6 * 365))
                start = due - timedelta(days=rng.choice([0, 0, 90, 180, 364]))
            else:
                due, start = date(year, 3, 31), date(year, 1, 1)
            occurrences.append((year, start, due, rng.choices(statuses, weights)[0], rng.choice(_NOTES)))
        deliverables.append(SyntheticDeliverable(
            id=f"syntetisk-{index:05d}",
            title=f"{verb[0].capitalize()} {subject[0]} {topic[0]}{qualifier[0]}",
            title_en=f"{verb[1].capitalize()} {subject[1]} {topic[1]}{qualifier[1]}",
            owner=owner, co_owners=co_owners, theme=rng.choice(themes), deadline_text=deadline_text,
            source_section=f"Anbefaling {rng.randrange(1, 12)}: {topic[0].capitalize()}",
            source_quote=" ".join(rng.sample(_QUOTE_SENTENCES, rng.randrange(2, 6))),
            occurrences=tuple(occurrences),
        ))
    return deliverables


@dataclasses.dataclass
class Plan:
    events: list[Any]  # OccurrenceView
    states: dict[str, Any]  # uid -> EventState
    names: Any  # PlanNames


def synthetic_plan(count: int, register: Any) -> Plan:
    """``count`` deliverables as ``OccurrenceView`` and ``EventState`` values, without a database."""
    from tracker.calendar.events import EventState, event_uid
    from tracker.model import OccurrenceView, PlanNames, Status, is_overdue

    parties = {key: (p.name, p.name_en) for key, p in register.parties.items()}
    themes = {key: (t.number, t.topic, t.topic_en) for key, t in register.themes.items()}
    rng = random.Random(count)
    events, states = [], {}
    for d in synthetic_deliverables(count, sorted(parties), sorted(themes)):
        for year, start, due, status_value, note in d.occurrences:
            status = Status(status_value)
            uid = event_uid(d.id, year)
            withdrawn = rng.random() < 0.02
            events.append(OccurrenceView(
                deliverable_id=d.id, year=year, title=d.title, title_en=d.title_en, kind="product", owner=d.owner,
                co_owners=tuple(d.co_owners), recipient=None, theme=d.theme, deadline_text=d.deadline_text,
                window_start=start, due=due, baseline_due=due, precision="day", status=status,
                overdue=not withdrawn and is_overdue(due, status, TODAY), withdrawn=withdrawn, note=note,
                updated_at=None, source_file="001_ef795b8afb91781f.txt", source_section=d.source_section,
                source_quote=d.source_quote, owner_name=parties[d.owner][0], owner_name_en=parties[d.owner][1],
                co_owner_names=tuple(parties[k][0] for k in d.co_owners),
                co_owner_names_en=tuple(parties[k][1] for k in d.co_owners),
            ))
            states[uid] = EventState(sequence=rng.randrange(4),
                                     changed_at=datetime(2025, 6, 1, tzinfo=timezone.utc)
                                     + timedelta(minutes=rng.randrange(500_000)))
    return Plan(events, states, PlanNames(parties=parties, themes=themes))


def next_status(current: str) -> str:
    """A transition ``check_transition`` allows, alternating in_progress and at_risk from the second on."""
    return "at_risk" if current == "in_progress" else "in_progress"


# --------------------------------------------------------------------------- helpers


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}" if len(values) > 1 else "one sample"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


@contextmanager
def collected() -> Iterator[None]:
    """Start timed code from a clean heap, as a long-running process usually is."""
    gc.collect()
    yield


def timed(function: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    with collected():
        started = time.perf_counter()
        result = function(*args)
        return time.perf_counter() - started, result


@contextmanager
def stage_timers(names: list[tuple[Any, str]]) -> Iterator[dict[str, float]]:
    """Wrap module attributes (functions) with timers for the duration of the block; missing ones are skipped."""
    totals: dict[str, float] = {}
    saved = []
    for owner, attribute in names:
        original = getattr(owner, attribute, None)
        if original is None:
            continue

        def wrapper(*args: Any, _original: Any = original, _name: str = attribute, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                totals[_name] = totals.get(_name, 0.0) + time.perf_counter() - started

        saved.append((owner, attribute, original))
        setattr(owner, attribute, wrapper)
    try:
        yield totals
    finally:
        for owner, attribute, original in saved:
            setattr(owner, attribute, original)


# --------------------------------------------------------------------------- 1-2: HTTP


def create_database(url: str, now: datetime) -> str:
    """Migrate, sync the shipped register, create the whole-plan feed; returns its token."""
    from tracker.register import load_register
    from tracker.store.db import open_engine, write_session
    from tracker.store.feeds import create_feed
    from tracker.store.migrate import upgrade
    from tracker.store.sync import sync_register

    engine = open_engine(url)
    upgrade(engine)
    with write_session(engine) as session:
        sync_register(session, load_register(), now)
    with write_session(engine) as session:
        _row, token = create_feed(session, FEED_NAME, parties=[], themes=[], overdue_only=False, alarm=None,
                                  language="da", actor="bench", now=now)
    engine.dispose()
    return token


def bench_http(args: argparse.Namespace, work: Path, database_url: str, token: str) -> None:
    available = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    pin = not args.no_pin and len(available) >= 2
    server_cpus = {available[-1]} if pin else None
    client_cpus = set(available[:-1]) if pin else None
    path = f"/feeds/{token}.ics"
    root = work / "static"
    (root / "feeds").mkdir(parents=True)

    servers: list[Server] = []
    try:
        app = Server("app", work, server_cpus, database_url=database_url, base_url=BASE_URL)
        servers.append(app)
        app.wait_ready(path)
        _status, headers, body = fetch(app.port, path)
        etag = headers["etag"]
        (root / "feeds" / f"{token}.ics").write_bytes(body)
        static = Server("static", work, server_cpus, root=str(root))
        plain = Server("http.server", work, server_cpus, root=str(root))
        servers += [static, plain]
        for server in (static, plain):
            server.wait_ready(path)
            their_body = fetch(server.port, path)[2]
            if their_body != body:
                raise BenchError(f"the {server.kind} server does not serve the app's bytes")
        static_etag = fetch(static.port, path)[1]["etag"]
        if fetch(app.port, path, {"If-None-Match": etag})[0] != 304:
            raise BenchError("the app does not answer If-None-Match with 304")

        targets = [
            Target("StaticFiles 200", static, path, {}, 200, len(body)),
            Target("app 200", app, path, {}, 200, len(body)),
            Target("app 304", app, path, {"If-None-Match": etag}, 304, 0),
            Target("StaticFiles 304", static, path, {"If-None-Match": static_etag}, 304, 0),
            Target("http.server 200", plain, path, {}, 200, len(body)),
        ]
        if client_cpus:
            os.sched_setaffinity(0, client_cpus)
        for target in targets:
            hammer(target, args.warmup, args.connections)
        samples: dict[str, list[Load]] = {target.name: [] for target in targets}
        for round_number in range(args.rounds):
            shift = round_number % len(targets)
            for target in targets[shift:] + targets[:shift]:
                samples[target.name].append(hammer(target, args.seconds, args.connections))
    finally:
        if available:
            os.sched_setaffinity(0, set(available))
        for server in servers:
            server.stop()

    def per_round(numerator: str, denominator: str, field: str = "rate") -> list[float]:
        return [getattr(a, field) / getattr(b, field) for a, b in zip(samples[numerator], samples[denominator])]

    import uvicorn

    implementation = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    print(f"1-2. HTTP: {len(body):,} bytes, {args.connections} keep-alive connections, {args.rounds} interleaved "
          f"rounds of {args.seconds:g} s (uvicorn {uvicorn.__version__}, {implementation}, {loop}; "
          + (f"servers on CPU {sorted(server_cpus)}, load on {sorted(client_cpus)})" if pin else "not pinned)"))
    print(f"  {'':<18} {'req/s':>8} {'server CPU/req':>15} {'load gen CPU':>13}")
    for name, loads in samples.items():
        cpu = [load.server_cpu_us for load in loads if load.server_cpu_us is not None]
        cpu_text = f"{median(cpu):11.0f} µs" if cpu else f"{'n/a':>14}"
        print(f"  {name:<18} {median([load.rate for load in loads]):8.0f} {cpu_text:>15} "
              f"{median([load.client_cpu for load in loads]) * 100:11.0f} %")
    if max(load.client_cpu for loads in samples.values() for load in loads) > 0.9:
        print("  (the load generator used ~a whole core: the fastest rates are its limit, not the server's; "
              "compare server CPU/req)")

    print("  Ratios (median of per-round ratios; range over rounds):")
    app_vs_static = per_round("app 200", "StaticFiles 200")
    rows = [
        ("app 200 / StaticFiles 200", app_vs_static, ">= 0.5x", median(app_vs_static) >= 0.5),
        ("app 200 / http.server 200", per_round("app 200", "http.server 200"), "", None),
        ("app 304 / app 200", per_round("app 304", "app 200"), "", None),
        ("app 304 / StaticFiles 200", per_round("app 304", "StaticFiles 200"), "", None),
        ("app 304 / StaticFiles 304", per_round("app 304", "StaticFiles 304"), "", None),
    ]
    for label, ratios, target_text, ok in rows:
        suffix = f"  target {target_text}: {verdict(ok)}" if ok is not None else ""
        print(f"    {label:<27} {median(ratios):5.2f}x  ({spread(ratios)}){suffix}")
    print("    (StaticFiles reads the file in 64 KiB chunks through the thread pool, which makes its 200 slow;\n"
          "     the 304 rows compare the per-request overhead alone)")
    if all(load.server_cpu_us is not None for loads in samples.values() for load in loads):
        print("  Server CPU per request, app / StaticFiles (lower is cheaper):")
        for label, a, b in (("200", "app 200", "StaticFiles 200"), ("304", "app 304", "StaticFiles 304")):
            ratios = per_round(a, b, "server_cpu_us")
            print(f"    {label}: {median(ratios):5.2f}x  ({spread(ratios)})")
    work_us = bench_in_process(database_url, token, args.in_process_seconds)
    print("  The app's own work per request, in-process without HTTP (µs per call, interleaved): "
          + ", ".join(f"{name} {us:.0f}" for name, us in work_us.items()))
    share = work_us["refresh (marker read)"] / work_us["feed_for_token"]
    print(f"    Ratio: the change-marker read is {share * 100:.0f}% of feed_for_token")


# --------------------------------------------------------------------------- 3-4: rendering


def bench_render(args: argparse.Namespace, register: Any) -> None:
    from tracker.calendar.events import EventState, uid_of
    from tracker.calendar.feeds import FeedDefinition
    from tracker.calendar.renderer import FeedRenderer
    from tracker.model import Status, is_overdue

    feed = FeedDefinition(name=FEED_NAME, token_hash="0" * 64, language="da")
    small, large = synthetic_plan(50, register), synthetic_plan(args.large, register)

    def full(plan: Plan) -> tuple[float, Any]:
        def run() -> Any:
            renderer = FeedRenderer(BASE_URL)
            renderer.update(plan.events, plan.states, plan.names)
            return renderer, renderer.render(feed)
        return timed(run)

    for _ in range(3):
        full(small)
    rng = random.Random(5)
    small_times, large_times, scaling = [], [], []
    incremental, update_share, ratios = [], [], []
    verified = 0
    last_body: bytes | None = None
    for _round in range(args.render_rounds):
        # The small plan around the large one (half before, half after), so both see the same machine.
        small_samples = [full(small)[0] for _ in range(args.small_repeats // 2)]
        large_time, (renderer, rendered) = full(large)
        small_samples += [full(small)[0] for _ in range(args.small_repeats - args.small_repeats // 2)]
        small_time = median(small_samples)
        if last_body is not None:
            # The previous round's incremental result must be byte for byte what a fresh renderer makes.
            if rendered.body != last_body:
                raise BenchError("after update(), render() differs from a fresh renderer's output")
            verified += 1
        small_times.append(small_time)
        large_times.append(large_time)
        scaling.append((large_time / len(large.events)) / (small_time / len(small.events)))
        for _change in range(args.changes):
            index = rng.randrange(len(large.events))
            old = large.events[index]
            status = Status(next_status(old.status.value))
            new = dataclasses.replace(old, status=status, overdue=is_overdue(old.due, status, TODAY))
            events = list(large.events)
            events[index] = new
            states = dict(large.states)
            uid = uid_of(new)
            states[uid] = EventState(states[uid].sequence + 1, datetime.now(timezone.utc))
            with collected():
                started = time.perf_counter()
                changed = renderer.update(events, states, large.names)
                middle = time.perf_counter()
                rendered = renderer.render(feed)
                ended = time.perf_counter()
            if changed != {uid}:
                raise BenchError(f"update() reported {len(changed)} changed events for one status change")
            large.events, large.states = events, states
            last_body = rendered.body
            incremental.append(ended - started)
            update_share.append((middle - started) / (ended - started))
            ratios.append((ended - started) / large_time)

    per_event_small = median(small_times) / len(small.events)
    per_event_large = median(large_times) / len(large.events)
    print(f"3. Render (fresh FeedRenderer: update + render of the whole-plan feed, Danish), "
          f"{args.render_rounds} round(s)")
    print(f"  {len(small.events):>6} events (50 deliverables)    {median(small_times) * 1000:8.1f} ms   "
          f"{per_event_small * 1e6:6.0f} µs/event  (median of {args.small_repeats} per round)")
    print(f"  {len(large.events):>6} events ({args.large:,} deliverables) {median(large_times) * 1000:8.1f} ms   "
          f"{per_event_large * 1e6:6.0f} µs/event  ({len(rendered.body) / 1e6:.1f} MB)")
    print(f"  Ratio: per-event cost, {args.large:,} vs 50 deliverables: {median(scaling):.2f}x ({spread(scaling)}; "
          f"1.0x is linear)")
    print(f"4. One status change in the {args.large:,}-deliverable plan: update() + render(), "
          f"{len(incremental)} change(s)")
    print(f"  incremental {median(incremental) * 1000:8.1f} ms (update() {median(update_share) * 100:.0f}% of it), "
          f"full {median(large_times) * 1000:.1f} ms"
          + (f"; bytes checked against a fresh render {verified} time(s)" if verified else ""))
    share = median(ratios)
    print(f"  Ratio: incremental / full render: {share * 100:.1f}% ({spread([r * 100 for r in ratios])} %)  "
          f"target < 5%: {verdict(share < 0.05)}")


# --------------------------------------------------------------------------- 4b: refresh through the database


def add_synthetic_occurrences(engine: Any, occurrences: int, now: datetime) -> int:
    """Add synthetic deliverables to a synced database until it holds about ``occurrences``; returns the count."""
    from sqlalchemy import func, insert
    from sqlmodel import select

    from tracker.store import revision
    from tracker.store.db import write_session
    from tracker.store.tables import DeliverableRow, OccurrenceRow, PartyRow, ThemeRow

    with write_session(engine) as session:
        existing = session.exec(select(func.count()).select_from(OccurrenceRow)).one()
        parties = sorted(session.exec(select(PartyRow.key)))
        themes = sorted(session.exec(select(ThemeRow.key)))
        # 10% recur five times: 1.4 occurrences per deliverable.
        wanted = max(0, occurrences - existing)
        deliverables = synthetic_deliverables(round(wanted / 1.4), parties, themes, seed=11)
        deliverable_rows, occurrence_rows = [], []
        for d in deliverables:
            deliverable_rows.append(dict(
                id=d.id, title=d.title, title_en=d.title_en, kind="product", owner=d.owner,
                co_owners=list(d.co_owners), recipient=None, theme=d.theme, initiative=None, funding=None,
                deadline_text=d.deadline_text, interpreted_as=None, reading=None, register_deadline=d.deadline_text,
                register_status="not_started", source_file="syntetisk.txt", source_section=d.source_section,
                source_quote=d.source_quote, depends_on=[], created_at=now, updated_at=now, archived_at=None))
            for year, start, due, status, note in d.occurrences:
                occurrence_rows.append(dict(
                    deliverable_id=d.id, key="" if year is None else str(year), year=year, window_start=start,
                    due=due, precision="day", baseline_window_start=start, baseline_due=due, status=status,
                    status_changed_at=now if status != "not_started" else None, note=note, evidence_url=None,
                    updated_at=now, archived_at=None))
        session.execute(insert(DeliverableRow), deliverable_rows)
        session.execute(insert(OccurrenceRow), occurrence_rows)
        revision.bump(session, revision.PLAN, now)
    return existing + len(occurrence_rows)


def bench_refresh(label: str, engine: Any, repeats: int) -> None:
    """Cold refresh (a restarted service) against refresh after one CLI status change, interleaved."""
    from sqlmodel import select

    import tracker.calendar.service as service_module
    from tracker.calendar.renderer import FeedRenderer
    from tracker.calendar.service import FeedService
    from tracker.clock import utc_now
    from tracker.model import Status
    from tracker.store.db import read_session, write_session
    from tracker.store.operations import change_status
    from tracker.store.tables import DeliverableRow, OccurrenceRow

    with read_session(engine) as session:
        deliverable_id, status = session.exec(
            select(OccurrenceRow.deliverable_id, OccurrenceRow.status)
            .join(DeliverableRow, DeliverableRow.id == OccurrenceRow.deliverable_id)
            .where(OccurrenceRow.key == "", OccurrenceRow.archived_at.is_(None), DeliverableRow.archived_at.is_(None))
            .order_by(OccurrenceRow.deliverable_id)
        ).first()

    stages = [(service_module, "load_plan"), (service_module, "reconcile"), (FeedRenderer, "update")]
    first_service = FeedService(engine, BASE_URL)
    first_refresh, _ = timed(first_service.refresh, utc_now())
    feed = next(f for f in first_service.feeds if f.name == FEED_NAME)
    rows: dict[str, list[float]] = {key: [] for key in ("cold", "cold+render", "change", "change+render", "write",
                                                        "ratio", "ratio+render")}
    breakdown: dict[str, dict[str, list[float]]] = {"cold": {}, "change": {}}

    def refresh(service: FeedService, kind: str) -> float:
        with stage_timers(stages) as totals:
            seconds, refreshed = timed(service.refresh, utc_now())
        if not refreshed:
            raise BenchError(f"FeedService.refresh did not re-read the plan ({kind})")
        for name, part in totals.items():
            breakdown[kind].setdefault(name, []).append(part)
        breakdown[kind].setdefault("rest: marker read, fingerprints", []).append(seconds - sum(totals.values()))
        return seconds

    def write(status: str) -> None:  # as `tracker status` does
        with write_session(engine) as session:
            change_status(session, deliverable_id, Status(status), note="Benchmark: status skiftet.", actor="bench",
                          now=utc_now())

    for _ in range(repeats):
        service = FeedService(engine, BASE_URL)
        cold = refresh(service, "cold")
        cold_render, rendered = timed(service.render, feed)
        status = next_status(status)
        rows["write"].append(timed(write, status)[0])
        change = refresh(service, "change")
        change_render, _ = timed(service.render, feed)
        rows["cold"].append(cold)
        rows["cold+render"].append(cold + cold_render)
        rows["change"].append(change)
        rows["change+render"].append(change + change_render)
        rows["ratio"].append(change / cold)
        rows["ratio+render"].append((change + change_render) / (cold + cold_render))

    ms = {key: median(values) * 1000 for key, values in rows.items()}
    print(f"  {label}: {rendered.event_count:,} events, feed {len(rendered.body) / 1e6:.2f} MB; "
          f"median of {repeats}")
    print(f"    first refresh ever (writes every event's revision) {first_refresh * 1000:7.1f} ms")
    print(f"    cold refresh (a restarted service)   {ms['cold']:8.1f} ms, with render {ms['cold+render']:8.1f} ms")
    print(f"    refresh after one change_status      {ms['change']:8.1f} ms, with render {ms['change+render']:8.1f} ms"
          f"  (the CLI's write: {ms['write']:.1f} ms)")
    for kind, parts in breakdown.items():
        text = ", ".join(f"{name} {median(values) * 1000:.1f}" for name, values in parts.items())
        print(f"      {kind:<6} (ms): {text}")
    print(f"    Ratio: after one change / cold: refresh {median(rows['ratio']) * 100:.0f}% ({spread(rows['ratio'])}), "
          f"refresh + render {median(rows['ratio+render']) * 100:.0f}% ({spread(rows['ratio+render'])})")


def bench_in_process(database_url: str, token: str, seconds: float) -> dict[str, float]:
    """The app's own per-request work, without HTTP: µs per call, each timed in a loop."""
    from tracker.calendar.service import FeedService
    from tracker.clock import utc_now
    from tracker.store.db import open_engine

    engine = open_engine(database_url)
    service = FeedService(engine, BASE_URL)
    now = utc_now()
    if service.feed_for_token(token, now) is None:
        raise BenchError("the token opens no feed in-process")
    calls = {
        "feed_for_token": lambda: service.feed_for_token(token, now),
        "refresh (marker read)": lambda: service.refresh(now),
        "find (token check)": lambda: service.find(token),
    }
    samples: dict[str, list[float]] = {name: [] for name in calls}
    rounds = 10
    for _ in range(rounds):
        for name, call in calls.items():
            count, started = 0, time.perf_counter()
            deadline = started + seconds / rounds / len(calls)
            while time.perf_counter() < deadline:
                for _ in range(20):
                    call()
                count += 20
            samples[name].append((time.perf_counter() - started) / count * 1e6)
    engine.dispose()
    return {name: median(values) for name, values in samples.items()}


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs, for CI: about a minute, proves it works")
    parser.add_argument("--seconds", type=float, help="load per measurement (default 3, quick 1)")
    parser.add_argument("--rounds", type=int, help="interleaved HTTP rounds (default 5, quick 2)")
    parser.add_argument("--connections", type=int, default=4, help="keep-alive connections (default 4)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin servers and load generator to CPUs")
    parser.add_argument("--large", type=int, default=5000, help="deliverables in the large plan (default 5000)")
    parser.add_argument("--large-db", type=int,
                        help="occurrences in the synthetic database (default 5000, quick 2000; 0 skips)")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(json.loads(args.serve))
        return
    quick = args.quick
    args.seconds = args.seconds or (1.0 if quick else 3.0)
    args.rounds = args.rounds or (2 if quick else 5)
    args.warmup = 0.3 if quick else 1.0
    args.in_process_seconds = 1.0 if quick else 3.0
    args.render_rounds = 2 if quick else 4
    args.small_repeats = 6 if quick else 16
    args.changes = 3 if quick else 5
    args.refresh_repeats = 5 if quick else 15
    if args.large_db is None:
        args.large_db = 2000 if quick else 5000  # quick: keeps CI near half a minute
    large_db_repeats = 1 if quick else 3

    from tracker.clock import utc_now
    from tracker.i18n import set_language
    from tracker.register import load_register
    from tracker.store.db import open_engine

    os.environ.pop("DATABASE_URL", None)
    set_language("da")
    started = time.perf_counter()
    print(f"Calendar feeds, ratios measured in one run (Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs{', quick' if quick else ''})")
    register = load_register()
    with tempfile.TemporaryDirectory(prefix="tracker-bench-") as directory:
        work = Path(directory)
        database_url = f"sqlite:///{work / 'tracker.db'}"
        token = create_database(database_url, utc_now())
        bench_http(args, work, database_url, token)
        bench_render(args, register)
        print("4b. FeedService.refresh through the database (SQLite): load_plan + reconcile + update, "
              "then the whole-plan feed's render")
        refresh_url = f"sqlite:///{work / 'refresh.db'}"  # a fresh one: no process has refreshed from it yet
        create_database(refresh_url, utc_now())
        engine = open_engine(refresh_url)
        bench_refresh("shipped register", engine, args.refresh_repeats)
        engine.dispose()
        if args.large_db:
            large_url = f"sqlite:///{work / 'large.db'}"
            create_database(large_url, utc_now())
            engine = open_engine(large_url)
            count = add_synthetic_occurrences(engine, args.large_db, utc_now())
            bench_refresh(f"synthetic database ({count:,} occurrences)", engine, large_db_repeats)
            engine.dispose()
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
