"""Shell completion offers the plan's own keys: deliverable ids, party and theme keys, statuses."""

from __future__ import annotations

from click.testing import CliRunner

from tests.conftest import Tracker
from tracker.cli import cli


def complete(database_url: str, words: str, shell: str = "bash") -> list[str]:
    """What the shell would offer for the last of ``words``, as click's completion script asks for it."""
    parts = words.split(" ")
    result = CliRunner().invoke(cli, [], prog_name="tracker", env={
        "_TRACKER_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(parts) - 1),
        "DATABASE_URL": database_url, "TRACKER_LANG": "da"})
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output.splitlines()


def test_ids_parties_themes_and_statuses_complete(synced: Tracker) -> None:
    url = synced.database_url
    assert complete(url, "tracker show senf") == ["plain,senfoelgeklinikker"]
    assert complete(url, "tracker list --owner reg") == ["plain,regionerne"]
    assert complete(url, "tracker list --theme anbefaling-") == ["plain,anbefaling-7"]
    assert complete(url, "tracker report --party s") == ["plain,sst"]
    assert complete(url, "tracker feed create mit --party i") == ["plain,ism"]
    assert complete(url, "tracker status senfoelgeklinikker i") == ["plain,in_progress", "plain,ikke_påbegyndt", "plain,i_gang",
                                                                     "plain,i_risiko"]
    assert complete(url, "tracker status senfoelgeklinikker f") == ["plain,færdig"]
    # zsh shows each key with its name, in the invocation's language.
    assert complete(url, "tracker replan senf", shell="zsh") == ["plain", "senfoelgeklinikker",
                                                                  "Senfølgeklinikker etableret"]


def test_completion_without_a_database_offers_nothing_and_no_traceback(tmp_path) -> None:
    assert [line for line in complete(f"sqlite:///{tmp_path / 'none.db'}", "tracker show senf") if line] == []
