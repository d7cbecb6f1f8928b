"""Reminders, overdue alerts, escalations and digests, over Slack, Microsoft Teams, e-mail or the console.

- ``contacts``  who is reached where: the TRACKER_CONTACTS file
- ``planner``   the notices the policy calls for, bundled per recipient and day (pure)
- ``source``    what the planner reads from the database
- ``message``   what one message says, and the interface every channel implements
- ``slack``     Slack's Web API through slack-sdk (Block Kit, escaped text)
- ``teams``     Teams' Workflows webhooks: Adaptive Cards over httpx, split to fit
- ``webhooks``  a Teams webhook's address is a secret: its handle and masked form (pure)
- ``email``     SMTP: text and HTML parts, the occurrences as an .ics attachment
- ``console``   the embedded default: prints exactly what would be sent
- ``outbox``    every message a row, sent once, its outcome recorded
- ``sweep``     plan, claim, send and record; fallbacks and reports on failures
- ``settings``  the channels the environment configures

The policy itself is ``tracker.policy``, below the register that reads it.
The .ics an e-mail carries is made by ``tracker.calendar.attachments`` and
handed in by the service: notify does not import its sibling.
"""
