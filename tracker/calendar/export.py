"""Publishing feeds as static files, for organisations that can only host files.

Every file is written next to its final name and renamed over it, so a web
server reading the folder serves the old file or the new one, never half of
one. Files whose bytes did not change are not touched (their modification
time stays a valid Last-Modified). The file of a revoked feed is removed; no
other file in the folder is ever touched.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tracker.calendar.feeds import FeedDefinition
from tracker.calendar.renderer import RenderedFeed
from tracker.errors import FeedError
from tracker.i18n import _


@dataclass
class ExportReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one rename, after the bytes are on disk."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes 0600; the web server must be able to read it
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def export(directory: Path, feeds: list[tuple[FeedDefinition, RenderedFeed]],
           revoked: list[FeedDefinition]) -> ExportReport:
    """Write each live feed's file, remove each revoked feed's; report what happened to which file."""
    report = ExportReport()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for feed, rendered in feeds:
            path = directory / feed.export_filename
            if path.is_file() and path.read_bytes() == rendered.body:
                report.unchanged.append(path.name)
                continue
            write_atomically(path, rendered.body)
            report.written.append(path.name)
        for feed in revoked:
            path = directory / feed.export_filename
            if path.exists():
                path.unlink()
                report.removed.append(path.name)
    except OSError as error:
        raise FeedError(_(
            "Cannot write the feeds to {directory}: {error}. Check that the folder exists or can be created, "
            "and that this user may write to it. Files already there are unchanged or complete."
        ).format(directory=directory, error=error.strerror or error)) from None
    return report
