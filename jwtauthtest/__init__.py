"""jwtauthtest: the Flask-JWT tutorial's API on today's Flask and PyJWT."""

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from jwtauthtest.addresses.requests import init_requests
from jwtauthtest.apidocs.page import init_docs
from jwtauthtest.cli import init_cli
from jwtauthtest.clients.store import init_clients
from jwtauthtest.database import configure_database, init_engine
from jwtauthtest.entrypoints import (
    COMMAND_LINE_TOOL,
    INSTANCE_PATH_VARIABLE,
    not_permitted,
    refuse_to_start,
    starting_a_server,
)
from jwtauthtest.jwt import jwt as jwt_extension  # (jwtauthtest.jwt stays the module)
from jwtauthtest.keys.keyset import init_keys, prepare_signing_key
from jwtauthtest.keys.signing import init_signing
from jwtauthtest.mail import init_mail
from jwtauthtest.ops.errors import init_errors
from jwtauthtest.ops.logs import init_logging
from jwtauthtest.ops.metrics import init_metrics
from jwtauthtest.passkeys.settings import init_passkeys
from jwtauthtest.passwords.hashing import init_passwords, time_stored_hashes
from jwtauthtest.passwords.policy import init_password_policy
from jwtauthtest.schema import SCHEMA_OUTDATED, database_problem, init_db, schema_is_current
from jwtauthtest.second_factor.store import init_second_factor
from jwtauthtest.secret import configure_secret
from jwtauthtest.settings import ConfigurationError, defaults, whole_number
from jwtauthtest.throttle.attempts import init_throttle
from jwtauthtest.throttle.clients import init_client_throttle
from jwtauthtest.tokens.claims import init_tokens
from jwtauthtest.web.cookies import init_browser


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    instance_path = os.environ.get(INSTANCE_PATH_VARIABLE)
    app = Flask(__name__, instance_relative_config=True,
                instance_path=os.path.abspath(instance_path) if instance_path else None)
    try:
        return build_app(app, test_config)
    except ConfigurationError as error:
        refuse_to_start(error)
    except PermissionError as error:  # the instance folder, config.py, the secret, the lock...
        if not isinstance(error.filename, str):  # not a file's
            raise
        refuse_to_start(not_permitted(error, app.instance_path))


def build_app(app: Flask, test_config: Mapping[str, Any] | None) -> Flask:
    app.session_interface = NoCookieSession()
    load_config(app, test_config)
    init_logging(app)
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)  # the secret, the database
    configure_secret(app)
    configure_database(app)

    init_engine(app)
    init_passwords(app)
    init_password_policy(app)
    jwt_extension.init_app(app)
    init_tokens(app)
    init_keys(app)
    init_signing(app)
    init_errors(app)
    init_throttle(app)
    init_client_throttle(app)
    init_clients(app)
    init_second_factor(app)
    init_passkeys(app)
    init_browser(app)
    init_requests(app)
    trust_proxies(app)
    from jwtauthtest import views
    from jwtauthtest.account import api, email, page, passkeys, second_factor
    from jwtauthtest.services import introspection, verify
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(email.bp)
    app.register_blueprint(second_factor.bp)
    app.register_blueprint(passkeys.bp)
    app.register_blueprint(page.bp)
    app.register_blueprint(introspection.bp)
    app.register_blueprint(verify.bp)
    init_metrics(app)
    init_docs(app)
    init_cli(app)

    init_db(app)
    prepare_signing_key(app)
    init_mail(app)  # after the schema's upgrade: its sender starts at once
    if starting_a_server():
        report_database_state(app)
    return app


class NoCookieSession(SessionInterface):
    """The API keeps no cookie session. (Flask's default would build a signing serializer
    from SECRET_KEY on every request: about 10% of a protected request.)"""

    def open_session(self, app: Flask, request: object) -> SessionMixin:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: SessionMixin, response: object) -> None:
        pass


def load_config(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    """settings.DEFAULTS, then the FLASK_* environment, then instance/config.py (or the
    test's config), each overriding the one before."""
    app.config.from_mapping(defaults())
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
        app.instance_path, "jwtauthtest.sqlite")
    app.config.from_prefixed_env()
    # from_prefixed_env parses values as JSON; a secret must stay the exact string given.
    for key in ("SECRET_KEY", "JWT_SECRET_KEY", "MAIL_USERNAME", "MAIL_PASSWORD"):
        if f"FLASK_{key}" in os.environ:
            app.config[key] = os.environ[f"FLASK_{key}"]
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)


def trust_proxies(app: Flask) -> None:
    """Take the client address from X-Forwarded-For only behind that many trusted proxies."""
    count = whole_number(app.config, "TRUSTED_PROXIES", "proxies")
    if count:
        # The client's address (throttling, logs); the scheme and host the browser sees (the
        # cookie transport's Origin check).
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def report_database_state(app: Flask) -> None:
    """Tell a starting server's operator what to do next, if anything; time the kinds of
    password hash stored, so that every login lasts as long as the slowest needs."""
    from jwtauthtest.users import count_users, one_hash_of_each_kind

    with app.app_context():
        try:
            if not schema_is_current():
                app.logger.warning(SCHEMA_OUTDATED)
                return
            empty = count_users() == 0
            stored = one_hash_of_each_kind()
        except SQLAlchemyError as e:  # the server may come later; requests get 503 till then
            app.logger.warning("At start: %s", database_problem(e))
            return
    time_stored_hashes(app, stored)
    if empty:
        app.logger.warning("No users yet: add one with `./pipenv run python useradd.py`")


__all__ = ["COMMAND_LINE_TOOL", "INSTANCE_PATH_VARIABLE", "create_app"]
