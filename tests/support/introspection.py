"""Calling POST /auth/introspect as a resource server does: a client made in the app, its
credentials in HTTP Basic (each form-urlencoded first, RFC 6749 section 2.3.1), the token in
a form."""

import base64
from urllib.parse import quote_plus

from jwtauthtest.clients.store import add_client


def new_client(app, name: str = "resource-server") -> tuple[str, str]:
    """A client's (client_id, client_secret), added as `clients add` adds one."""
    with app.app_context():
        client, secret = add_client(name)
        return client.id, secret


def basic(client_id: str, secret: str) -> dict[str, str]:
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


def introspect(client, credentials: tuple[str, str] | None, token: str | None,
               hint: str | None = None, headers: dict[str, str] | None = None):
    """The test client's POST /auth/introspect with these credentials (None: no header)."""
    form = {} if token is None else {"token": token}
    if hint is not None:
        form["token_type_hint"] = hint
    sent = {**(basic(*credentials) if credentials is not None else {}), **(headers or {})}
    return client.post("/auth/introspect", data=form, headers=sent)
