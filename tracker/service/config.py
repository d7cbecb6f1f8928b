"""``tracker config check``: what is set, what is missing for which feature, and whether Slack and SMTP answer.

Secrets are never shown: a token is described by its kind and length, a URL
with its password masked. Each setting is checked by the code that will use
it (the same parsers the commands use), so "ok" here means "ok there".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from tracker.errors import TrackerError
from tracker.i18n import LANGUAGES, _, ngettext

if TYPE_CHECKING:
    from tracker.notify.contacts import Contacts

OK, DEFAULT, MISSING, PROBLEM = "ok", "default", "missing", "problem"


@dataclass(frozen=True)
class Finding:
    setting: str
    state: str  # OK, DEFAULT (not set: the default applies), MISSING (a feature is off), PROBLEM
    shown: str  # the value as it may be shown: never a secret
    note: str  # what it means, or what to do


def _token(value: str) -> str:
    kind = value.split("-", 1)[0] + "-…" if "-" in value else "…"
    return _("{kind} ({length} characters)").format(kind=kind, length=len(value))


def _check_teams(env: Mapping[str, str], contacts: Contacts | None, add: Callable[[str, str, str, str], None]) -> None:
    """TRACKER_TEAMS against the webhooks the contacts name: their form only (a webhook cannot be asked without
    posting to the channel), each shown by its host and handle, never its address."""
    from tracker.notify.settings import TEAMS_SWITCH, teams_on
    from tracker.notify.webhooks import masked_webhook

    urls = list(dict.fromkeys(url for reach in ((contacts.coordinators, contacts.taskforce,
                                                 *contacts.parties.values()) if contacts else ())
                              for url in reach.teams))
    shown = env.get(TEAMS_SWITCH, "").strip()
    try:
        on = teams_on(env)
    except TrackerError as error:
        add(TEAMS_SWITCH, PROBLEM, shown, error.message)
        return
    if on and not urls:
        add(TEAMS_SWITCH, PROBLEM, shown, _("Teams is on, but the contacts file names no Teams webhook: add "
                                            "teams = [\"https://…\"] to the parties reached on Teams"))
    elif on:
        add(TEAMS_SWITCH, OK, shown, ngettext(
            "{count} Teams webhook of the right form (not posted to: that would show in the channel): {webhooks}",
            "{count} Teams webhooks of the right form (not posted to: that would show in the channel): {webhooks}",
            len(urls)).format(count=len(urls), webhooks=", ".join(masked_webhook(url) for url in urls)))
    elif urls:
        add(TEAMS_SWITCH, MISSING, shown, ngettext(
            "the contacts file names {count} Teams webhook, unused: set TRACKER_TEAMS=on to send to it",
            "the contacts file names {count} Teams webhooks, unused: set TRACKER_TEAMS=on to send to them",
            len(urls)).format(count=len(urls)))
    else:
        add(TEAMS_SWITCH, MISSING, shown, _("no Teams: set it to on, and name the channels' Workflows webhooks in "
                                            "the contacts file"))


def check(environ: Mapping[str, str] | None = None, *, reach_services: bool = True) -> list[Finding]:
    """Every setting in the README's table, checked; with ``reach_services``, Slack and SMTP are asked too."""
    env = os.environ if environ is None else environ
    found: list[Finding] = []

    def add(setting: str, state: str, shown: str, note: str) -> None:
        found.append(Finding(setting, state, shown, note))

    def value(name: str) -> str:
        return env.get(name, "").strip()

    # The database and the plan.
    from tracker.store.db import check_schema, display_url, open_engine, resolve_url

    url = resolve_url(value("DATABASE_URL") or None)
    try:
        engine = open_engine(url)
        try:
            check_schema(engine)
        finally:
            engine.dispose()
        add("DATABASE_URL", OK if value("DATABASE_URL") else DEFAULT, display_url(url),
            _("the database answers and has the current schema"))
    except TrackerError as error:
        add("DATABASE_URL", PROBLEM, display_url(url), error.message)
    from tracker.register import default_register_path, load_register

    try:
        register = load_register(value("TRACKER_REGISTER") or None)
        add("TRACKER_REGISTER", OK if value("TRACKER_REGISTER") else DEFAULT,
            str(register.path or default_register_path()),
            _("{count} deliverables, valid").format(count=len(register.deliverables)))
        parties = set(register.parties)
    except TrackerError as error:
        add("TRACKER_REGISTER", PROBLEM, value("TRACKER_REGISTER") or str(default_register_path()),
            error.message.splitlines()[0] + " " + _("Run `tracker validate` for every problem."))
        parties = None
    from tracker.notify.contacts import load_contacts

    contacts = None
    if value("TRACKER_CONTACTS"):
        try:
            contacts = load_contacts(value("TRACKER_CONTACTS"), parties)
            add("TRACKER_CONTACTS", OK, value("TRACKER_CONTACTS"),
                _("{count} parties with contacts").format(count=len(contacts.parties)))
        except TrackerError as error:
            # The heading and the first problem: enough to see what to fix; `tracker validate` shows them all.
            add("TRACKER_CONTACTS", PROBLEM, value("TRACKER_CONTACTS"),
                " ".join(line.strip() for line in error.message.splitlines()[:2]))
    else:
        add("TRACKER_CONTACTS", MISSING, "", _("reminders are printed, addressed to each party: set it to send "
                                              "them to people (contacts.example.toml shows the format)"))

    # The channels.
    from tracker.notify.email import EmailChannel
    from tracker.notify.settings import build_channels
    from tracker.notify.slack import SlackChannel

    if not value("SLACK_BOT_TOKEN"):
        add("SLACK_BOT_TOKEN", MISSING, "", _("no Slack: set it to send reminders to Slack"))
    if not value("SMTP_URL"):
        add("SMTP_URL", MISSING, "", _("no e-mail: set it (and SMTP_FROM) to send reminders by e-mail"))
    try:
        channels = build_channels(env, contacts)
    except TrackerError as error:
        if "TRACKER_TEAMS" not in error.message:  # _check_teams says what is wrong with it
            add("SMTP_URL" if "SMTP" in error.message else "SLACK_API_URL", PROBLEM, "", error.message)
        channels = {}
    if "slack" in channels:
        shown = _token(value("SLACK_BOT_TOKEN"))
        note = _("not asked (--offline)")
        state = OK
        if reach_services:
            try:
                note = _("Slack answers: {who}").format(who=cast(SlackChannel, channels["slack"]).check())
            except TrackerError as error:
                state, note = PROBLEM, error.message
        add("SLACK_BOT_TOKEN", state, shown, note)
        if value("SLACK_API_URL"):
            add("SLACK_API_URL", OK, cast(SlackChannel, channels["slack"]).base_url,
                _("Slack calls go here, not to slack.com"))
        if value("SLACK_SIGNING_SECRET"):
            add("SLACK_SIGNING_SECRET", OK, "***", _("owners answer with the buttons in their messages, at "
                                                     "{url}/slack/interactions").format(
                url=value("TRACKER_BASE_URL") or "TRACKER_BASE_URL"))
        else:
            add("SLACK_SIGNING_SECRET", MISSING, "", _("no answers from Slack: set it to the app's signing secret "
                                                       "so owners can answer with the buttons in their messages"))
    elif value("SLACK_SIGNING_SECRET"):
        add("SLACK_SIGNING_SECRET", PROBLEM, "***", _("set, but SLACK_BOT_TOKEN is not: the buttons need both "
                                                      "(the bot token asks Slack who pressed)"))
    _check_teams(env, contacts, add)
    if "email" in channels:
        from tracker.notify.email import display_smtp_url

        note, state = _("not asked (--offline)"), OK
        if reach_services:
            try:
                note = _("the SMTP server answers: {server}").format(
                    server=cast(EmailChannel, channels["email"]).check())
            except TrackerError as error:
                state, note = PROBLEM, error.message
        add("SMTP_URL", state, display_smtp_url(value("SMTP_URL")), note)
        add("SMTP_FROM", OK, value("SMTP_FROM"), _("the sender of every e-mail"))

    # The web process and the clock.
    from tracker.urls import check_base_url

    if value("TRACKER_BASE_URL"):
        try:
            base = check_base_url(value("TRACKER_BASE_URL"))
        except ValueError:
            add("TRACKER_BASE_URL", PROBLEM, value("TRACKER_BASE_URL"),
                _("not an absolute http(s) address without ? or #, e.g. https://tracker.example.dk"))
        else:
            answering = "email" in channels or "teams" in channels or (
                "slack" in channels and bool(value("SLACK_SIGNING_SECRET")))
            problem = _base_url_problem(base, answering, reach_services)
            add("TRACKER_BASE_URL", PROBLEM if problem else OK, base,
                problem or (_("links in feeds and messages point here, and the web process answers there")
                            if reach_services else _("links in feeds and messages point here")))
    else:
        add("TRACKER_BASE_URL", MISSING, "", _("links point at http://127.0.0.1:8000: set it to the public address "
                                              "before anyone subscribes"))
    from tracker.dashboard.access import VARIABLE, parse_access

    try:
        access = parse_access(value(VARIABLE))
        if access is None:
            add(VARIABLE, MISSING, "", _("the dashboard is public and shows no notes: set it to basic:USER:PASSWORD "
                                         "or token:SECRET to require them"))
        else:
            add(VARIABLE, OK, f"{access.scheme}:…", _("the dashboard and its calendars need the credential; "
                                                     "notes are shown"))
    except TrackerError as error:
        add(VARIABLE, PROBLEM, "", error.message)
    for name, default, low in (("PORT", "8000", 1), ("TRACKER_CLOCK_INTERVAL", "60", 1)):
        text = value(name)
        if not text:
            add(name, DEFAULT, default, _("the default"))
        elif text.replace(".", "", 1).isdigit() and float(text) >= low:
            add(name, OK, text, "")
        else:
            add(name, PROBLEM, text, _("must be a number of at least {low}").format(low=low))
    if value("TRACKER_TIMEZONE"):
        # An older version read it; the plan's days are Danish days now, whatever it says.
        add("TRACKER_TIMEZONE", PROBLEM, value("TRACKER_TIMEZONE"),
            _("no longer read: the plan's time zone is Europe/Copenhagen, as the register states. Remove it."))
    language = value("TRACKER_LANG")
    add("TRACKER_LANG", (OK if language in LANGUAGES else PROBLEM) if language else DEFAULT, language or "da",
        "" if not language or language in LANGUAGES else _("use da or en"))
    return found


def _base_url_problem(base: str, answering: bool, reach: bool) -> str | None:
    """What is wrong with the web process's public address for the links in messages, or None.

    Answer links carry their token in the address, so they must travel over
    https (plain http only to a loopback address: a trial on one machine);
    and with ``reach``, the address must answer as tracker's web process
    (its ``/healthz``), or every link in every message leads nowhere.
    """
    import ipaddress
    import json
    import urllib.error
    import urllib.request
    from urllib.parse import urlsplit

    host = urlsplit(base).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if answering and urlsplit(base).scheme != "https" and not loopback:
        return _("answer links carry their token in the address, so it must be https (http only on loopback, "
                 "for a trial): set it to the https address of the web process")
    if not reach:
        return None
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=5) as response:  # noqa: S310 - http(s) checked
            body = response.read(4096)
    except urllib.error.HTTPError as error:
        body = error.read(4096) if error.code == 503 else b""  # 503: tracker, with its database down
        if not body:
            return _("{url} answers HTTP {status}, not as tracker's web process: check the address and that "
                     "`tracker serve` runs behind it").format(url=base + "/healthz", status=error.code)
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        return _("cannot reach {url} ({reason}): the links in messages would lead nowhere. Check the address and "
                 "that `tracker serve` runs behind it").format(url=base + "/healthz", reason=reason)
    try:
        healthy = isinstance(json.loads(body), dict) and "status" in json.loads(body)
    except ValueError:
        healthy = False
    if not healthy:
        return _("{url} does not answer as tracker's web process: check the address and that `tracker serve` "
                 "runs behind it").format(url=base + "/healthz")
    return None
