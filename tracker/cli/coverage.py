"""`tracker validate --coverage`: every dated sentence of the sources, and what the register says of it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tracker.coverage import Covered, coverage
from tracker.i18n import _, ngettext
from tracker.model import Register

# The source documents sit beside the checkout: ../shared/seeds.
DEFAULT_SOURCES = Path(__file__).resolve().parents[3] / "shared" / "seeds"
_SHOWN = 110  # characters of a sentence on its line


def echo_coverage(register: Register, sources_dir: str | None, as_json: bool) -> None:
    """Print the coverage of each source the deliverables quote; exit 1 when a dated sentence is a gap."""
    folder = Path(sources_dir) if sources_dir else DEFAULT_SOURCES
    files = sorted({d.source.file for d in register.deliverables.values()})
    results: dict[str, list[Covered]] = {}
    for name in files:
        source = folder / name
        try:
            text = source.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise click.ClickException(_(
                "Cannot read the source document {path}: {reason}. Point --sources (or TRACKER_SOURCES) at the "
                "folder with the register's sources.").format(
                path=source, reason=getattr(error, "strerror", None) or error.__class__.__name__)) from None
        results[name] = coverage(register, name, text)
    gaps = sum(1 for items in results.values() for item in items if not item.covered)
    if as_json:
        click.echo(json.dumps([{"file": name, "line": item.sentence.line, "section": item.sentence.section,
                                "sentence": item.sentence.text, "tracked_by": list(item.tracked_by),
                                "skipped": item.skipped} for name, items in results.items() for item in items],
                              ensure_ascii=False, indent=2))
    else:
        for name, items in results.items():
            click.echo("")
            tracked = sum(1 for item in items if item.tracked_by)
            skipped = sum(1 for item in items if item.skipped is not None)
            click.echo(ngettext("{file}: {count} dated sentence, {tracked} tracked, {skipped} skipped, {gaps} not "
                                "tracked.", "{file}: {count} dated sentences, {tracked} tracked, {skipped} skipped, "
                                "{gaps} not tracked.", len(items)).format(
                file=name, count=len(items), tracked=tracked, skipped=skipped, gaps=len(items) - tracked - skipped))
            for item in items:
                sentence = item.sentence
                shown = sentence.text if len(sentence.text) <= _SHOWN else sentence.text[:_SHOWN - 1] + "…"
                if item.tracked_by:
                    said = _("tracked by {ids}").format(ids=", ".join(item.tracked_by))
                elif item.skipped is not None:
                    said = _("skipped: {reason}").format(reason=item.skipped)
                else:
                    said = _("NOT TRACKED: add a deliverable that quotes it, or a [[skipped]] entry with the reason")
                click.echo(f"  l. {sentence.line} [{sentence.section}] {shown}")
                click.echo(f"      {said}")
    if gaps:
        raise click.ClickException(ngettext(
            "{count} dated sentence is neither tracked nor skipped.",
            "{count} dated sentences are neither tracked nor skipped.", gaps).format(count=gaps))
