"""Which channels this deployment sends on, from the environment.

- Slack when ``SLACK_BOT_TOKEN`` is set (``SLACK_API_URL`` points the client
  elsewhere, e.g. at a stand-in);
- Microsoft Teams when ``TRACKER_TEAMS=on``: to the Workflows webhooks the
  contacts file names (the addresses are the credentials, so they live there);
- e-mail when ``SMTP_URL`` is set, from ``SMTP_FROM``;
- none: the console, which prints exactly what would be sent (to a Teams
  webhook by its handle, never its address).

Settings are read and checked here, once, so a typo stops the command with
the variable's name before anything is planned or sent.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from tracker.errors import TrackerError
from tracker.i18n import _
from tracker.notify.contacts import CHANNEL_ORDER, Contacts
from tracker.notify.message import Channel


TEAMS_SWITCH = "TRACKER_TEAMS"
_ON, _OFF = ("on", "1", "true", "yes"), ("", "off", "0", "false", "no")


def teams_on(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``TRACKER_TEAMS`` switches Teams on; TrackerError naming the variable for a value it cannot read."""
    env = os.environ if environ is None else environ
    value = env.get(TEAMS_SWITCH, "").strip().lower()
    if value not in _ON + _OFF:
        raise TrackerError(_("{name}={value!r} is neither on nor off. Set it to on to send to the Teams webhooks "
                             "in the contacts file, or leave it unset.").format(name=TEAMS_SWITCH, value=value))
    return value in _ON


def channel_names(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The providers configured, in the order ``CHANNEL_ORDER`` names them: ``slack``, ``teams`` and/or
    ``email``; empty for the console."""
    env = os.environ if environ is None else environ
    names = {name for name, variable in (("slack", "SLACK_BOT_TOKEN"), ("email", "SMTP_URL"))
             if env.get(variable, "").strip()}
    if teams_on(env):
        names.add("teams")
    return tuple(name for name in CHANNEL_ORDER if name in names)


def build_channels(environ: Mapping[str, str] | None = None, contacts: Contacts | None = None) -> dict[str, Channel]:
    """The channel objects for ``channel_names``, or the console alone; TrackerError on a bad setting.

    Teams posts to the webhooks in ``contacts``: with Teams on and no webhook there, nobody is reached on it,
    and the parties' other channels carry their messages.
    """
    env = os.environ if environ is None else environ
    names = channel_names(env)
    channels: dict[str, Channel] = {}
    if "slack" in names:
        from tracker.notify.slack import SlackChannel

        channels["slack"] = SlackChannel(env["SLACK_BOT_TOKEN"].strip(), env.get("SLACK_API_URL") or None)
    if "teams" in names:
        from tracker.notify.teams import TeamsChannel

        channels["teams"] = TeamsChannel((contacts or Contacts()).webhooks())
    if "email" in names:
        from tracker.notify.email import EmailChannel

        sender = env.get("SMTP_FROM", "").strip()
        if not sender:
            raise TrackerError(_("SMTP_URL is set but SMTP_FROM is not. Set SMTP_FROM to the address messages "
                                 "come from, e.g. \"Kræftplan V <kraeftplan@example.dk>\"."))
        channels["email"] = EmailChannel.from_url(env["SMTP_URL"], sender)
    if not channels:
        from tracker.notify.console import ConsoleChannel

        channels["console"] = ConsoleChannel()
    return channels
