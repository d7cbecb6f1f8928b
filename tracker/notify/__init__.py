"""Reminders, overdue alerts, escalations and digests, over Slack, e-mail or the console.

- ``message``  what one message says, and the interface every channel implements
- ``slack``    Slack's Web API through slack-sdk (Block Kit, escaped text)
- ``email``    SMTP: text and HTML parts, the occurrences as an .ics attachment
- ``console``  the embedded default: prints exactly what would be sent
"""
