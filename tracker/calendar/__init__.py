"""iCalendar feeds of the plan: task-force members subscribe to them in their own calendars.

- ``rfc5545``  the letter of RFC 5545 where the ``ics`` package falls short (pure)
- ``events``   one occurrence (or a member's own part of one) → one VEVENT: summary, description, UID (pure)
- ``feeds``    which events a feed shows, and the VCALENDAR around them (pure)
- ``renderer`` per-event render cache: one change re-renders one event
- ``source``   the database side: plan → events, SEQUENCE kept across restarts
- ``service``  what the web process and the exporter call: current, cached feeds
- ``export``   feeds as static files, replaced atomically
- ``attachments`` the occurrences of a message as the .ics an e-mail carries
"""
