"""The ``JWT`` extension: its settings, its route, and the handlers an app may replace."""

import warnings
from collections.abc import Callable
from typing import Any

from flask import Flask

from .auth import (
    _default_auth_request_handler,
    _default_auth_response_handler,
    _default_request_handler,
)
from .errors import JWTError, _default_jwt_error_handler
from .settings import CONFIG_DEFAULTS
from .tokens import (
    _default_jwt_decode_handler,
    _default_jwt_encode_handler,
    _default_jwt_headers_handler,
    _default_jwt_payload_handler,
)

Handler = Callable[..., Any]


class JWT:
    """Token authentication for a Flask app, given to it now or later with ``init_app``.

    ``authentication_handler(username, password)`` finds the identity a login is for;
    ``identity_handler(payload)`` finds the identity a token speaks for. Every other step
    has a default that a decorator of the same name replaces. The settings are
    ``app.config``'s ``JWT_*`` keys (defaults in ``CONFIG_DEFAULTS``), and
    ``JWT_SECRET_KEY``, which defaults to ``SECRET_KEY``.
    """

    def __init__(self, app: Flask | None = None, authentication_handler: Handler | None = None,
                 identity_handler: Handler | None = None) -> None:
        self.authentication_callback = authentication_handler
        self.identity_callback = identity_handler
        self.auth_response_callback: Handler = _default_auth_response_handler
        self.auth_request_callback: Handler = _default_auth_request_handler
        self.jwt_encode_callback: Handler = _default_jwt_encode_handler
        self.jwt_decode_callback: Handler = _default_jwt_decode_handler
        self.jwt_headers_callback: Handler = _default_jwt_headers_handler
        self.jwt_payload_callback: Handler = _default_jwt_payload_handler
        self.jwt_error_callback: Handler = _default_jwt_error_handler
        self.request_callback: Handler = _default_request_handler
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Sets the defaults of the settings the app leaves out, adds the login route at
        ``JWT_AUTH_URL_RULE`` (unless it is None) as endpoint ``JWT_AUTH_ENDPOINT``, with
        ``JWT_AUTH_URL_OPTIONS`` (``POST`` only by default), and answers ``JWTError``."""
        for key, value in CONFIG_DEFAULTS.items():
            app.config.setdefault(key, value)
        app.config.setdefault("JWT_SECRET_KEY", app.config.get("SECRET_KEY"))
        rule = app.config["JWT_AUTH_URL_RULE"]
        if rule:
            if (self.auth_request_callback is _default_auth_request_handler
                    and self.authentication_callback is None):
                raise RuntimeError("JWT: the login route needs an authentication_handler; "
                                   "give one, or set JWT_AUTH_URL_RULE = None")
            options = dict(app.config.get("JWT_AUTH_URL_OPTIONS", {"methods": ["POST"]}))
            options.setdefault("view_func", self.auth_request_callback)
            options.setdefault("endpoint", app.config["JWT_AUTH_ENDPOINT"])
            app.add_url_rule(rule, **options)
        # Through a method, so that a later @jwt_error_handler still takes effect.
        app.register_error_handler(JWTError, self._jwt_error_callback)
        app.extensions["jwt"] = self

    def _jwt_error_callback(self, error: JWTError) -> Any:
        return self.jwt_error_callback(error)

    def authentication_handler(self, callback: Handler) -> Handler:
        """Sets the function that checks a login. It is called with the username and the
        password, and returns the identity they prove (any object the other handlers
        understand), or None to refuse the login. Example::

            @jwt.authentication_handler
            def authenticate(username, password):
                user = User.query.filter_by(username=username).first()
                if user is not None and user.check_password(password):
                    return user

        :param callback: the new authentication handler
        """
        self.authentication_callback = callback
        return callback

    def identity_handler(self, callback: Handler) -> Handler:
        """Sets the function that turns the payload of a verified token into the identity
        that ``current_identity`` will be, or None when nobody matches any more. Example::

            @jwt.identity_handler
            def identity(payload):
                return db.session.get(User, payload['identity'])

        :param callback: the new identity handler
        """
        self.identity_callback = callback
        return callback

    def jwt_error_handler(self, callback: Handler) -> Handler:
        """Sets the function that answers a ``JWTError``; it returns anything a Flask view
        may return. Example::

            @jwt.jwt_error_handler
            def refused(error):
                return {'message': error.description}, error.status_code, error.headers

        :param callback: the new error handler
        """
        self.jwt_error_callback = callback
        return callback

    def auth_response_handler(self, callback: Handler) -> Handler:
        """Sets the function that answers a successful login. It is called with the token
        the encode handler made (bytes, from the default one) and the identity. Example::

            @jwt.auth_response_handler
            def logged_in(access_token, identity):
                return {'token': access_token.decode('utf-8'), 'user': identity.username}

        :param callback: the new auth response handler
        """
        self.auth_response_callback = callback
        return callback

    def auth_request_handler(self, callback: Handler) -> Handler:
        """Sets the view of the login route, in place of the built-in one.

        .. deprecated:: 0.3.2
           Set ``JWT_AUTH_URL_RULE = None`` and add a login view of your own to the app.

        :param callback: the new login view
        """
        warnings.warn("auth_request_handler is deprecated: set JWT_AUTH_URL_RULE = None and "
                      "add a login view of your own", DeprecationWarning, stacklevel=2)
        self.auth_request_callback = callback
        return callback

    def request_handler(self, callback: Handler) -> Handler:
        """Sets the function that finds the token of the current request, returning None
        when there is none. Example, for a token in a query parameter::

            @jwt.request_handler
            def token_in_query():
                return request.args.get('token')

        :param callback: the new request handler
        """
        self.request_callback = callback
        return callback

    def jwt_encode_handler(self, callback: Handler) -> Handler:
        """Sets the function that makes the token of a login from its identity. Example::

            @jwt.jwt_encode_handler
            def encode(identity):
                claims = {'sub': str(identity.id), 'exp': time.time() + 600}
                return jwt.encode(claims, PRIVATE_KEY, algorithm='EdDSA')

        :param callback: the new encode handler
        """
        self.jwt_encode_callback = callback
        return callback

    def jwt_decode_handler(self, callback: Handler) -> Handler:
        """Sets the function that reads a token back: it returns the verified payload, or
        raises ``jwt.InvalidTokenError`` (answered 401 ``Invalid token``). Example::

            @jwt.jwt_decode_handler
            def decode(token):
                return jwt.decode(token, PUBLIC_KEY, algorithms=['EdDSA'])

        :param callback: the new decode handler
        """
        self.jwt_decode_callback = callback
        return callback

    def jwt_payload_handler(self, callback: Handler) -> Handler:
        """Sets the function that gives the claims of a login's token, from the identity
        the authentication handler returned. Example, adding a claim to the default ones::

            @jwt.jwt_payload_handler
            def claims(identity):
                return {**_default_jwt_payload_handler(identity), 'role': identity.role}

        :param callback: the new payload handler
        """
        self.jwt_payload_callback = callback
        return callback

    def jwt_headers_handler(self, callback: Handler) -> Handler:
        """Sets the function that gives extra fields of a login token's JOSE header (or
        None), from the identity. Example, naming the signing key::

            @jwt.jwt_headers_handler
            def header(identity):
                return {'kid': CURRENT_KEY_ID}

        :param callback: the new headers handler
        """
        self.jwt_headers_callback = callback
        return callback
