"""JWT_SECRET_KEY set and SECRET_KEY not (a configuration the start accepts): every part reads
the app's secret the one way (``secret.app_secret``), the outbox too, so a change's notice and
a reset link go out as with SECRET_KEY."""

from jwtauthtest.mail.sender import send_due
from jwtauthtest.secret import app_secret
from jwtauthtest.users import add_user

from conftest import SECRET
from mail_server import outbox

OTHER = "another-secret-9d2b7e4a1c6f3e8b5a0d7c2e"
ADDRESS = "carol@example.com"
PASSWORD, NEW_PASSWORD = "first long passphrase", "second long passphrase"


def test_the_apps_secret_is_secret_key_or_else_jwt_secret_key(make_app):
    both = make_app(SECRET_KEY=SECRET, JWT_SECRET_KEY=OTHER)
    alone = make_app(SECRET_KEY=None, JWT_SECRET_KEY=OTHER)
    assert alone.config["SECRET_KEY"] is None
    assert (app_secret(both), app_secret(alone)) == (SECRET.encode(), OTHER.encode())


def jwt_secret_only_app(make_app, mail_server):
    """Carol, with a confirmed address, on an app that answers a surprise as users see it
    (a 500, not an exception raised into the test)."""
    app = make_app(**mail_server.config(), SECRET_KEY=None, JWT_SECRET_KEY=SECRET)
    app.testing = False
    with app.app_context():
        add_user("carol", PASSWORD, ADDRESS)
    return app


def test_a_password_change_is_told_with_jwt_secret_key_alone(make_app, mail_server):
    app = jwt_secret_only_app(make_app, mail_server)
    client = app.test_client()
    access = client.post("/auth", json={"username": "carol", "password": PASSWORD}
                         ).get_json()["access_token"]
    changed = client.post("/auth/password", headers={"Authorization": f"JWT {access}"},
                          json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 200
    assert {"access_token", "refresh_token"} <= changed.get_json().keys()
    result = send_due(app)
    assert (result.sent, result.failed, result.waiting) == (1, 0, 0)
    [notice] = mail_server.messages()
    assert (notice["To"], notice["Subject"]) == (ADDRESS, "Your password was changed")
    assert "The password of your account carol was changed" in \
        notice.get_body(("plain",)).get_content()
    assert client.post("/auth", json={"username": "carol", "password": NEW_PASSWORD}
                       ).status_code == 200


def test_a_reset_link_goes_out_with_jwt_secret_key_alone(make_app, mail_server):
    app = jwt_secret_only_app(make_app, mail_server)
    asked = app.test_client().post("/auth/password-reset", json={"email": ADDRESS})
    assert asked.status_code == 202
    assert send_due(app).sent == 1
    [message] = mail_server.messages()
    assert (message["To"], message["Subject"]) == (ADDRESS, "Reset your password")
    assert "/account#reset=" in message.get_body(("plain",)).get_content()
    assert outbox(app) == []
