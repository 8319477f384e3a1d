"""Administration > Users: admins create and edit back-office users through the form."""
import sqlalchemy as sa

from panel.extensions import db
from panel.models import User


def user(app, email):
    with app.app_context():
        return db.session.scalar(sa.select(User).where(User.email == email))


def test_admin_creates_a_user_with_a_hashed_password(app, as_role):
    admin = as_role("admin")
    response = admin.post_form("/administration/users/new/", {
        "email": "New.Agent@Example.org", "name": "New Agent", "role": "agent",
        "active": "y", "password": "a fine password"})
    assert response.status_code == 302
    created = user(app, "new.agent@example.org")
    assert created.role == "agent" and created.check_password("a fine password")
    assert "a fine password" not in created.password_hash
    listing = admin.get("/administration/users/").get_data(as_text=True)
    assert "new.agent@example.org" in listing and "password_hash" not in listing


def test_new_user_needs_a_password_and_a_free_email(app, as_role):
    admin = as_role("admin")
    no_password = admin.post_form("/administration/users/new/", {
        "email": "x@example.org", "name": "X", "role": "agent", "password": ""})
    assert "A new user needs a password." in no_password.get_data(as_text=True)
    taken = admin.post_form("/administration/users/new/", {
        "email": "AGENT@example.org", "name": "X", "role": "agent", "password": "a password long enough"})
    assert "already exists" in taken.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 3


def test_editing_a_user_keeps_the_password_when_left_empty(app, as_role):
    agent = user(app, "agent@example.org")
    response = as_role("admin").post_form(f"/administration/users/edit/?id={agent.id}", {
        "email": "agent@example.org", "name": "Agent Renamed", "role": "viewer", "password": ""})
    assert response.status_code == 302
    changed = user(app, "agent@example.org")
    assert (changed.name, changed.role) == ("Agent Renamed", "viewer")
    assert changed.password_hash == agent.password_hash
