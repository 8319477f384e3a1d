"""One password policy (NIST SP 800-63B) wherever a password is set, and back-office
accounts only for real email addresses and names that can stand in the history."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import User
from panel.services import passwords
from tests.conftest import PanelClient

GOOD = "a brand new passphrase here"

# (password, what the refusal says): the outsider's examples first.
REFUSED = [
    (" " * 8, "must not be made of spaces only"),
    ("x" * 250, "at most 128 characters long; it has 250"),
    ("aaaaaaaa", "at least 15 characters long; it has 8"),
    ("password", "at least 15 characters long; it has 8"),
    ("aaaaaaaaaaaaaaaa", 'Repeats like "aaa" are easy to guess'),
    ("passwordpassword", "too easy to guess"),
    ("qwertyuiopasdfgh", "too easy to guess"),
    ("123456789012345678", "too easy to guess"),
    ("new.agent@example.org", "too easy to guess"),  # the account's own email
    ("two words\nand a line", "must not contain control characters"),
]


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(User))


@pytest.mark.parametrize(("password", "message"), REFUSED)
def test_users_create_refuses_a_password_nobody_can_use_or_anybody_can_guess(
        app, runner, password, message):
    result = runner.invoke(args=["users", "create", "--email", "new.agent@example.org",
                                 "--name", "New Agent", "--role", "agent",
                                 "--password", password])
    assert result.exit_code == 1
    assert message in result.output
    assert user_count(app) == 0


@pytest.mark.parametrize("email", ["a@b", "a@b.", "x@localhost", "no-at-sign.example.org",
                                   "victim@example.com\r\nbcc:attacker@evil.example",
                                   "two@@example.org", "a b@example.org"])
def test_users_create_refuses_what_is_not_an_email_address(app, runner, email):
    result = runner.invoke(args=["users", "create", "--email", email, "--name", "X",
                                 "--role", "agent", "--password", GOOD])
    assert result.exit_code == 1
    assert "is not a valid email address" in result.output
    assert user_count(app) == 0


@pytest.mark.parametrize(("password", "message"), REFUSED)
def test_the_users_form_refuses_the_same_passwords_with_the_same_words(
        app, as_role, password, message):
    admin = as_role("admin")
    before = user_count(app)
    response = admin.post_form("/administration/users/new/", {
        "email": "new.agent@example.org", "name": "New Agent", "role": "agent",
        "active": "y", "password": password})
    assert response.status_code == 200  # the form again, with the message at the field
    assert message in response.get_data(as_text=True).replace("&#34;", '"')
    assert user_count(app) == before


def test_the_users_form_refuses_an_email_like_a_at_b(app, as_role):
    admin = as_role("admin")
    before = user_count(app)
    response = admin.post_form("/administration/users/new/", {
        "email": "a@b", "name": "X", "role": "agent", "active": "y", "password": GOOD})
    assert "is not a valid email address" in response.get_data(as_text=True)
    assert user_count(app) == before


def test_a_password_of_the_longest_allowed_length_logs_in(app, runner):
    longest = ("correct horse battery staple " * 5)[:passwords.MAX_LENGTH]
    result = runner.invoke(args=["users", "create", "--email", "long@example.org",
                                 "--name", "Long", "--role", "viewer", "--password", longest])
    assert result.exit_code == 0, result.output
    assert PanelClient(app.test_client()).login("long@example.org", longest).status_code == 302


def test_the_same_characters_from_another_keyboard_log_in(app, runner):
    """Passwords are normalised (NFKC) when set and when checked: fullwidth letters typed on
    a Japanese keyboard and their ASCII forms are the same password."""
    result = runner.invoke(args=["users", "create", "--email", "kana@example.org",
                                 "--name", "Kana", "--role", "viewer",
                                 "--password", "ｆｕｌｌｗｉｄｔｈ horse battery"])
    assert result.exit_code == 0, result.output
    client = PanelClient(app.test_client())
    assert client.login("kana@example.org", "fullwidth horse battery").status_code == 302


def test_a_password_stored_before_normalising_still_logs_in(app, accounts):
    from werkzeug.security import generate_password_hash

    typed = "ｆｕｌｌｗｉｄｔｈ horse battery"
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == accounts["viewer"]))
        user.password_hash = generate_password_hash(typed)  # as the old code stored it
        db.session.commit()
    assert PanelClient(app.test_client()).login(accounts["viewer"], typed).status_code == 302


def test_the_demo_login_meets_the_policy(app, runner):
    result = runner.invoke(args=["demo", "setup", "--orders", "1"])
    assert result.exit_code == 0, result.output
    password = result.output.strip().rsplit(" / ", 1)[1]
    assert passwords.problem(password, email="demo@example.org", name="Demo Admin") is None
    assert PanelClient(app.test_client()).login("demo@example.org", password).status_code == 302


@pytest.mark.parametrize("name", ["\x1b[31mRed\x1b[0m", "Eve\r\nAdmin", "\u200b\u200b",
                                  "Mallory\u202egnp.exe"])
def test_users_get_names_that_can_stand_in_the_history(app, runner, as_role, name):
    result = runner.invoke(args=["users", "create", "--email", "new.agent@example.org",
                                 "--name", name, "--role", "agent", "--password", GOOD])
    assert result.exit_code == 1 and "name contains" in result.output
    admin = as_role("admin")
    before = user_count(app)
    response = admin.post_form("/administration/users/new/", {
        "email": "new.agent@example.org", "name": name, "role": "agent", "active": "y",
        "password": GOOD})
    assert "The name contains" in response.get_data(as_text=True)
    assert user_count(app) == before
