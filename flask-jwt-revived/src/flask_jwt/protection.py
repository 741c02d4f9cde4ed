"""Protected views: ``jwt_required()``, the check it makes, ``current_identity``, and
``encode_token()`` for a fresh token of that identity."""

from collections.abc import Callable
from functools import wraps
from typing import Any

import jwt
from flask import current_app, g, has_request_context, request
from werkzeug.local import LocalProxy

from .errors import JWTError

# Where the identity of the request's token is kept, beside the request it belongs to: g is
# the app context's, which requests share when one was pushed before them (as tests do).
# Flask asks extensions to prefix what they store on g; 0.3.2 used the request context
# stack, gone since Flask 3.0.
IDENTITY_ON_G = "_flask_jwt_identity"


def _identity_of_the_request() -> Any:
    if not has_request_context():
        return None
    checked = g.get(IDENTITY_ON_G)
    if checked is None or checked[0] is not request._get_current_object():
        return None
    return checked[1]


#: The identity handler's answer for the current request's token; None before a check,
#: when the token was refused, and outside a request.
current_identity: Any = LocalProxy(_identity_of_the_request)


def verify_jwt(realm: str | None = None) -> None:
    """Check the current request's token and set ``current_identity``, or raise
    ``JWTError``: what ``jwt_required()`` does before its view runs.

    Call it yourself for a view that serves anonymous callers too, catching the error::

        @app.route('/greeting')
        def greeting():
            try:
                verify_jwt()
            except JWTError:
                return 'Hello, stranger'
            return f'Hello, {current_identity.username}'

    :param realm: the realm named in the ``WWW-Authenticate`` header of the 401 for a
                  request without a token; ``JWT_DEFAULT_REALM`` unless given
    """
    extension = current_app.extensions["jwt"]  # once: a proxy's lookup costs on every request
    token = extension.request_callback()
    if token is None:
        realm = realm or current_app.config["JWT_DEFAULT_REALM"]
        raise JWTError("Authorization Required", "Request does not contain an access token",
                       headers={"WWW-Authenticate": f'JWT realm="{realm}"'})
    try:
        payload = extension.jwt_decode_callback(token)
    except jwt.InvalidTokenError as error:
        raise JWTError("Invalid token", str(error)) from None
    identity = extension.identity_callback(payload)
    setattr(g, IDENTITY_ON_G, (request._get_current_object(), identity))
    if identity is None:
        raise JWTError("Invalid JWT", "User does not exist")


_jwt_required = verify_jwt  # 0.3.2's name for it, which its documentation told apps to call


def encode_token() -> Any:
    """A new token for ``current_identity``, made by the encode handler (bytes, from the
    default one), e.g. to hand a client a later expiry from a protected view.

    Raises RuntimeError where there is no identity: outside a request, or in one whose
    token was not checked (or was refused). 0.3.2 exported a function of this name that
    raised AttributeError whenever called: it asked ``JWT`` for handlers it never had.
    """
    identity = current_identity._get_current_object()
    if identity is None:
        raise RuntimeError("encode_token() makes a token for current_identity: call it in a "
                           "request that jwt_required() or verify_jwt() let through")
    return current_app.extensions["jwt"].jwt_encode_callback(identity)


def jwt_required(realm: str | None = None) -> Callable[[Callable], Callable]:
    """Decorates a view that only a request with a valid token may reach; the others get
    the error handler's answer (401). In the view, ``current_identity`` is the identity
    handler's answer for the token. Example::

        @app.route('/profile')
        @jwt_required()
        def profile():
            return {'username': current_identity.username}

    Beyond 0.3.2, the view may be a coroutine function (``async def``), run as Flask runs
    async views (``pip install flask[async]``).

    :param realm: passed on to ``verify_jwt``
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def protected(*args: Any, **kwargs: Any) -> Any:
            verify_jwt(realm)
            return current_app.ensure_sync(view)(*args, **kwargs)

        return protected

    return decorator
