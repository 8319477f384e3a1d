"""Sessions that end: logout, a password or role change and deactivation end a login for
every copy of its cookie; users end their other sessions, admins all of a user's; the CSRF
token changes at login and logout."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from panel.extensions import db
from panel.models import Comment, User, UserSession
from panel.models.base import utcnow
from tests.conftest import PASSWORD, PanelClient

NEW_PASSWORD = "a brand new passphrase here"


def user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.email == email))


def comments(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Comment.message).order_by(Comment.id)))


def sessions_of(app, email: str) -> list[tuple[str | None]]:
    """(end reason or None while open) of the user's sessions, oldest first."""
    with app.app_context():
        return list(db.session.scalars(
            sa.select(UserSession.end_reason).join(User, User.id == UserSession.user_id)
            .where(User.email == email).order_by(UserSession.id)))


def copy_of(app, client: PanelClient) -> PanelClient:
    """Another browser with the same session cookie (a copied or stolen cookie)."""
    token = client.csrf_token()  # first, so that the cookie holds the session's CSRF secret
    other = PanelClient(app.test_client())
    other.client.set_cookie("session", client.client.get_cookie("session").value)
    other.logged_in, other._token = True, token
    return other


def signed_in(client: PanelClient) -> bool:
    response = client.get("/sales/orders/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def comment(client: PanelClient, order_id: int, message: str):
    return client.post_form(f"/sales/messages/{order_id}/comments", {"message": message})


def test_logout_ends_the_session_for_a_copied_cookie_too(app, as_role, post_order):
    order_id = post_order().json["id"]
    agent = as_role("agent")
    stolen = copy_of(app, agent)
    assert signed_in(stolen)

    assert agent.logout().status_code == 302

    assert not signed_in(stolen)
    response = comment(stolen, order_id, "posted with the copied cookie")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert comments(app) == []
    assert sessions_of(app, "agent@example.org") == ["logged out"]


def test_the_cookie_holds_a_token_whose_digest_only_is_stored(app, as_role):
    agent = as_role("agent")
    cookie = agent.client.get_cookie("session").value
    with app.app_context():
        stored = db.session.scalar(sa.select(UserSession.token_hash))
    assert len(stored) == 64 and stored not in cookie


def test_an_admin_changing_a_password_ends_every_session_of_that_user(app, as_role, accounts):
    first, second = as_role("agent"), as_role("agent")
    admin = as_role("admin")
    agent_id = user_id(app, accounts["agent"])

    response = admin.post_form(f"/administration/users/edit/?id={agent_id}", {
        "email": accounts["agent"], "name": "Agent User", "role": "agent", "active": "y",
        "password": NEW_PASSWORD})

    assert response.status_code == 302
    assert not signed_in(first) and not signed_in(second)
    assert sessions_of(app, accounts["agent"]) == ["password changed"] * 2
    assert signed_in(admin)
    assert PanelClient(app.test_client()).login(accounts["agent"], NEW_PASSWORD).status_code == 302


def test_a_role_change_and_a_deactivation_end_the_sessions(app, as_role, accounts):
    agent, viewer = as_role("agent"), as_role("viewer")
    admin = as_role("admin")

    admin.post_form(f"/administration/users/edit/?id={user_id(app, accounts['agent'])}", {
        "email": accounts["agent"], "name": "Agent User", "role": "viewer", "active": "y"})
    admin.post_form(f"/administration/users/edit/?id={user_id(app, accounts['viewer'])}", {
        "email": accounts["viewer"], "name": "Viewer User", "role": "viewer"})

    assert not signed_in(agent) and not signed_in(viewer)
    assert sessions_of(app, accounts["agent"]) == ["role changed"]
    assert sessions_of(app, accounts["viewer"]) == ["account deactivated"]


def test_saving_a_user_without_such_a_change_keeps_the_sessions(app, as_role, accounts):
    agent, admin = as_role("agent"), as_role("admin")
    admin.post_form(f"/administration/users/edit/?id={user_id(app, accounts['agent'])}", {
        "email": accounts["agent"], "name": "Agent Renamed", "role": "agent", "active": "y"})
    assert signed_in(agent)
    assert sessions_of(app, accounts["agent"]) == [None]


def test_an_admin_who_changes_their_own_password_keeps_this_session(app, as_role, accounts):
    admin, elsewhere = as_role("admin"), as_role("admin")
    admin.post_form(f"/administration/users/edit/?id={user_id(app, accounts['admin'])}", {
        "email": accounts["admin"], "name": "Admin User", "role": "admin", "active": "y",
        "password": NEW_PASSWORD})
    assert signed_in(admin) and not signed_in(elsewhere)


def test_a_user_ends_all_their_other_sessions(app, as_role, accounts):
    here, laptop, phone = as_role("viewer"), as_role("viewer"), as_role("viewer")
    someone_else = as_role("agent")

    response = here.post_form("/account/sessions/end-others", follow_redirects=True)

    assert "Ended 2 other sessions. This one goes on." in response.get_data(as_text=True)
    assert signed_in(here) and signed_in(someone_else)
    assert not signed_in(laptop) and not signed_in(phone)
    assert sorted(sessions_of(app, accounts["viewer"]), key=str) == \
        [None, "ended by the user", "ended by the user"]


def test_an_admin_ends_all_sessions_of_a_user_who_may_log_in_again(app, as_role, accounts):
    first, second = as_role("agent"), as_role("agent")
    admin = as_role("admin")
    agent_id = user_id(app, accounts["agent"])
    page = admin.get(f"/administration/users/edit/?id={agent_id}").get_data(as_text=True)
    assert "Sessions of agent@example.org: 2 open" in page

    response = admin.post_form(f"/administration/users/{agent_id}/end-sessions",
                               follow_redirects=True)

    assert "Ended 2 sessions of agent@example.org." in response.get_data(as_text=True)
    assert not signed_in(first) and not signed_in(second)
    assert sessions_of(app, accounts["agent"]) == ["ended by an admin"] * 2
    assert as_role("agent").get("/sales/orders/").status_code == 200


def test_only_admins_end_other_users_sessions(app, as_role, accounts):
    admin = as_role("admin")
    for role in ("agent", "viewer"):
        response = as_role(role).post_form(
            f"/administration/users/{user_id(app, accounts['admin'])}/end-sessions")
        assert response.status_code == 403
    assert signed_in(admin)


def test_a_login_drops_the_csrf_token_of_the_anonymous_session(app, client, accounts,
                                                                post_order):
    order_id = post_order().json["id"]
    before_login = client.csrf_token()  # from the login page
    assert client.login(accounts["agent"]).status_code == 302

    refused = client.client.post(f"/sales/messages/{order_id}/comments",
                                 data={"message": "with the old token", "csrf_token": before_login})

    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    assert comments(app) == []
    assert comment(client, order_id, "with the new token").status_code == 302
    assert comments(app) == ["with the new token"]


def test_a_token_from_before_a_logout_is_refused_after_the_next_login(app, as_role, accounts,
                                                                      post_order):
    order_id = post_order().json["id"]
    agent = as_role("agent")
    old_token = agent.csrf_token()
    agent.logout()
    assert agent.login(accounts["agent"]).status_code == 302

    refused = agent.client.post(f"/sales/messages/{order_id}/comments",
                                data={"message": "replayed", "csrf_token": old_token})

    assert refused.status_code == 400
    assert comments(app) == []


def test_a_session_idle_longer_than_the_limit_ends_on_the_server(app, as_role, accounts):
    agent = as_role("agent")
    stolen = copy_of(app, agent)
    with app.app_context():
        db.session.execute(sa.update(UserSession).values(
            last_seen_at=utcnow() - app.config["PERMANENT_SESSION_LIFETIME"]
            - timedelta(minutes=1)))
        db.session.commit()
    assert not signed_in(stolen) and not signed_in(agent)


def test_a_session_in_use_is_kept_alive(app, as_role):
    agent = as_role("agent")
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
    with app.app_context():
        db.session.execute(sa.update(UserSession).values(
            last_seen_at=utcnow() - lifetime + timedelta(minutes=10)))
        db.session.commit()
    assert signed_in(agent)
    with app.app_context():
        seen = db.session.scalar(sa.select(UserSession.last_seen_at))
    assert seen > utcnow() - timedelta(minutes=1)


def test_the_account_page_lists_the_users_sessions(app, as_role):
    viewer = as_role("viewer")
    as_role("viewer")
    page = viewer.get("/account/").get_data(as_text=True)
    assert "viewer@example.org" in page and "Role: viewer" in page
    assert page.count('data-session="') == 2 and page.count("This session") == 1
    assert 'href="/account/"' in viewer.get("/sales/orders/").get_data(as_text=True)


def test_users_change_their_own_password_and_their_other_sessions_end(app, as_role, accounts):
    here, elsewhere = as_role("viewer"), as_role("viewer")

    response = here.post_form("/account/password", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "repeat_password": NEW_PASSWORD}, follow_redirects=True)

    assert "Your password was changed. 1 other session ended." in \
        response.get_data(as_text=True)
    assert signed_in(here) and not signed_in(elsewhere)
    fresh = PanelClient(app.test_client())
    assert fresh.login(accounts["viewer"], PASSWORD).status_code == 400
    assert fresh.login(accounts["viewer"], NEW_PASSWORD).status_code == 302


def test_a_password_change_needs_the_current_password_and_a_good_new_one(app, as_role,
                                                                         accounts):
    viewer = as_role("viewer")
    cases = [
        ({"current_password": "not it", "new_password": NEW_PASSWORD,
          "repeat_password": NEW_PASSWORD}, "The current password is not correct."),
        ({"current_password": PASSWORD, "new_password": NEW_PASSWORD,
          "repeat_password": NEW_PASSWORD + "x"}, "The two new passwords are not the same."),
        ({"current_password": PASSWORD, "new_password": "password",
          "repeat_password": "password"}, "at least 15 characters"),
        ({"current_password": PASSWORD, "new_password": "viewer@example.org1",
          "repeat_password": "viewer@example.org1"}, "too easy to guess"),
    ]
    with app.app_context():
        before = db.session.scalar(sa.select(User.password_hash).where(
            User.email == accounts["viewer"]))
    for form, message in cases:
        response = viewer.post_form("/account/password", form)
        assert response.status_code == 400, form
        assert message in response.get_data(as_text=True), message
    with app.app_context():
        assert db.session.scalar(sa.select(User.password_hash).where(
            User.email == accounts["viewer"])) == before
    assert signed_in(viewer)


def test_cli_ends_the_sessions_of_a_user(app, runner, as_role, accounts):
    agent = as_role("agent")
    result = runner.invoke(args=["users", "end-sessions", "--email", "Agent@Example.org"])
    assert result.exit_code == 0 and "Ended 1 session(s) of agent@example.org." in result.output
    assert not signed_in(agent)
    unknown = runner.invoke(args=["users", "end-sessions", "--email", "nobody@example.org"])
    assert unknown.exit_code == 1 and "there is no user with the email" in unknown.output


def test_cli_sets_a_password_under_the_policy_and_ends_the_sessions(app, runner, as_role,
                                                                    accounts):
    agent = as_role("agent")
    weak = runner.invoke(args=["users", "set-password", "--email", accounts["agent"],
                               "--password", "aaaaaaaaaaaaaaaa"])
    assert weak.exit_code == 1 and "too easy to guess" in weak.output
    assert signed_in(agent)
    result = runner.invoke(args=["users", "set-password", "--email", accounts["agent"],
                                 "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    assert not signed_in(agent)
    assert PanelClient(app.test_client()).login(accounts["agent"], NEW_PASSWORD).status_code == 302
