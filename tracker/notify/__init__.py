"""Reminders, overdue alerts, escalations and digests, over Slack, e-mail or the console.

- ``policy``    when who hears about what: the register's ``[policy]`` (pure)
- ``workdays``  Danish working days, from the ``holidays`` package (pure)
- ``contacts``  who is reached where: the TRACKER_CONTACTS file
- ``planner``   the notices the policy calls for, bundled per recipient and day (pure)
- ``source``    what the planner reads from the database
- ``message``   what one message says, and the interface every channel implements
- ``slack``     Slack's Web API through slack-sdk (Block Kit, escaped text)
- ``email``     SMTP: text and HTML parts, the occurrences as an .ics attachment
- ``console``   the embedded default: prints exactly what would be sent

Still to come (issue 4): the outbox that sends each notice once, and
``tracker notify run/log/retry``.
"""
