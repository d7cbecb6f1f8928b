"""Text from the register or a coordinator, made safe for any output.

Every format tracker writes (iCalendar, Slack, e-mail, the console) refuses
or misreads control characters, so they are removed in one way everywhere.
Each format then escapes what is special to it.
"""

from __future__ import annotations

import re

# Every C0 and C1 control except TAB and LF, DEL, and lone surrogates (which
# cannot be encoded as UTF-8 at all). CR is handled first, as a line break.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` with CRLF and CR as LF, and every control character other than TAB and LF removed."""
    return _UNSAFE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
