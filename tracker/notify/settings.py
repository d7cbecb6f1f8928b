"""Which channels this deployment sends on, from the environment.

- Slack when ``SLACK_BOT_TOKEN`` is set (``SLACK_API_URL`` points the client
  elsewhere, e.g. at a stand-in);
- e-mail when ``SMTP_URL`` is set, from ``SMTP_FROM``;
- neither: the console, which prints exactly what would be sent.

Settings are read and checked here, once, so a typo stops the command with
the variable's name before anything is planned or sent.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from tracker.errors import TrackerError
from tracker.i18n import _
from tracker.notify.message import Channel


def channel_names(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The providers configured: ``slack`` and/or ``email``; empty for the console."""
    env = os.environ if environ is None else environ
    return tuple(name for name, variable in (("slack", "SLACK_BOT_TOKEN"), ("email", "SMTP_URL"))
                 if env.get(variable, "").strip())


def build_channels(environ: Mapping[str, str] | None = None) -> dict[str, Channel]:
    """The channel objects for ``channel_names``, or the console alone; TrackerError on a bad setting."""
    env = os.environ if environ is None else environ
    names = channel_names(env)
    channels: dict[str, Channel] = {}
    if "slack" in names:
        from tracker.notify.slack import SlackChannel

        channels["slack"] = SlackChannel(env["SLACK_BOT_TOKEN"].strip(), env.get("SLACK_API_URL") or None)
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
