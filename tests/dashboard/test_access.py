"""TRACKER_DASHBOARD_AUTH: its two forms, its mistakes, and what a presented credential must match."""

from __future__ import annotations

import base64

import pytest

from tracker.dashboard.access import AccessSettingError, parse_access
from tracker.i18n import set_language


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture(autouse=True)
def english() -> None:
    set_language("en")
    yield
    set_language(None)


def test_unset_or_blank_is_the_public_dashboard() -> None:
    assert parse_access(None) is None
    assert parse_access("  ") is None


def test_basic_needs_the_user_and_the_password() -> None:
    access = parse_access("basic:taskforce:korrekt:hest:batteri")  # the password may hold colons
    assert access is not None
    assert access.admits(basic("taskforce", "korrekt:hest:batteri"))
    assert not access.admits(basic("someone", "korrekt:hest:batteri"))
    assert not access.admits(basic("taskforce", "korrekt:hest:batteri "))
    assert not access.admits("Bearer korrekt:hest:batteri")  # a bearer is no user name
    assert not access.admits(None) and not access.admits("") and not access.admits("Basic !!!")
    assert not access.admits("Basic " + base64.b64encode(b"no-colon").decode())


def test_a_token_is_a_bearer_or_a_basic_password_with_any_user() -> None:
    access = parse_access("token:vaeg-skaerm-moedelokale")
    assert access is not None
    assert access.admits("Bearer vaeg-skaerm-moedelokale")
    assert access.admits("bearer   vaeg-skaerm-moedelokale ")
    assert access.admits(basic("hvem-som-helst", "vaeg-skaerm-moedelokale"))
    assert not access.admits("Bearer vaeg-skaerm-moedelokal")


@pytest.mark.parametrize(("value", "says"), [
    ("taskforce:hemmelighed-lang", "must start with basic: or token:"),
    ("basic:taskforce", "needs a user name and a password"),
    ("basic::hemmelighed-lang", "needs a user name and a password"),
    ("token:", "token: with no secret"),
    ("token:kort", "shorter than 12 characters"),
    ("basic:taskforce:kort", "shorter than 12 characters"),
])
def test_a_setting_that_cannot_be_read_is_refused_naming_the_variable_but_not_the_secret(value: str,
                                                                                          says: str) -> None:
    with pytest.raises(AccessSettingError) as raised:
        parse_access(value)
    assert says in raised.value.message and "TRACKER_DASHBOARD_AUTH" in raised.value.message
    secret = value.rsplit(":", 1)[-1]
    assert not secret or secret not in raised.value.message.replace("token:SECRET", "").replace("PASSWORD", "")


def test_the_credential_never_shows_in_a_repr() -> None:
    access = parse_access("basic:taskforce:korrekt-hest-batteri")
    assert repr(access) == "Access(scheme='basic')"


def test_serve_and_run_refuse_a_bad_setting_before_they_listen(synced) -> None:
    for command in (("serve", "--port", "1"), ("run", "--port", "1")):
        result = synced.fails(*command, env={"TRACKER_DASHBOARD_AUTH": "basic:taskforce:hemmeligt"})
        assert "TRACKER_DASHBOARD_AUTH" in result.output and "shorter than 12 characters" in result.output
        assert "hemmeligt" not in result.output


def test_config_check_says_whether_the_dashboard_is_public_without_showing_the_secret(synced) -> None:
    public = synced("config", "check", "--offline").output
    assert "TRACKER_DASHBOARD_AUTH" in public and "public and shows no notes" in public
    guarded = synced("config", "check", "--offline",
                     env={"TRACKER_DASHBOARD_AUTH": "basic:taskforce:korrekt-hest-batteri"}).output
    assert "basic:…" in guarded and "korrekt-hest-batteri" not in guarded and "taskforce" not in guarded
    broken = synced("config", "check", "--offline", env={"TRACKER_DASHBOARD_AUTH": "password123456"})
    assert broken.exit_code == 1 and "must start with basic: or token:" in broken.output
