"""A separate service that asks jwtauthtest about each request's token (token introspection,
RFC 7662) instead of verifying it itself: it holds no key, works whatever JWT_ALGORITHM the
auth server signs with (HS256 too, whose key is never published), and sees a logout, a
password change or a disabled user within its cache time.

An operator makes it a client of the auth server, once:

    flask --app jwtauthtest clients add billing --json
    {"client_id": "...", "client_secret": "..."}

and it runs with those credentials:

    INTROSPECTION_URL=http://127.0.0.1:8000/auth/introspect CLIENT_ID=... CLIENT_SECRET=... \\
    flask --app examples/introspecting_resource_server.py run --port 8002

GET /whoami with ``Authorization: JWT <access token>`` answers the token's user id and
username; a token the auth server calls inactive, or a refresh token, is 401; 503 while the
auth server can't be asked (unreachable, or refusing these credentials: the log says which,
once), in jwtauthtest's error shape.

The cache: each answer is kept for INTROSPECTION_CACHE_SECONDS (default 5), keyed by the
SHA-256 of the token (the token itself is not kept), and never past the token's exp. That is
the trade: one introspection per token every 5 s instead of one per request, and a token
ended at the auth server may still be accepted here for up to 5 s (0 asks every time).
Inactive answers are cached too: an expired, revoked or spent token never comes back to life,
so a client retrying one costs the auth server one call per 5 s, not one per retry. At most
INTROSPECTION_CACHE_SIZE (default 10000) answers are kept, the oldest going first. Refusals
of this service's credentials and unreachable servers are never cached.
"""

import base64
import hashlib
import json
import os
import threading
import time
from collections import OrderedDict
from urllib.error import HTTPError, URLError
from urllib.parse import quote_plus, urlencode
from urllib.request import Request, urlopen

from flask import Flask, jsonify, request


def required(name: str) -> str:
    """A setting this service can't start without: one line, not a traceback, when missing."""
    value = os.environ.get(name, "")
    if not value:
        raise SystemExit(f"{name} is not set: this service runs with INTROSPECTION_URL, "
                         "CLIENT_ID and CLIENT_SECRET (see the top of "
                         "examples/introspecting_resource_server.py)")
    return value


app = Flask(__name__)
URL = required("INTROSPECTION_URL")
if not URL.startswith(("http://", "https://")):
    raise SystemExit(f"INTROSPECTION_URL must be an http(s) URL, not {URL!r}")
# RFC 6749 2.3.1: the id and secret are form-urlencoded before they go into HTTP Basic.
CREDENTIALS = "Basic " + base64.b64encode(
    f"{quote_plus(required('CLIENT_ID'))}:{quote_plus(required('CLIENT_SECRET'))}"
    .encode()).decode()
CACHE_SECONDS = float(os.environ.get("INTROSPECTION_CACHE_SECONDS", "5"))
CACHE_SIZE = int(os.environ.get("INTROSPECTION_CACHE_SIZE", "10000"))
cache: OrderedDict[str, tuple[float, dict]] = OrderedDict()  # digest: (until, answer)
lock = threading.Lock()
reported: set[str] = set()  # what the log already said (once each, not once a request)


class Unavailable(Exception):
    """The auth server can't answer this service: its log line."""


def error(status: int, name: str, description: str):
    """jwtauthtest's error shape; a 401 names the scheme to send, as jwtauthtest's do."""
    headers = {"WWW-Authenticate": 'JWT realm="Login Required"'} if status == 401 else {}
    return (jsonify({"status_code": status, "error": name, "description": description}),
            status, headers)


def introspection(token: str) -> dict:
    """The auth server's answer about the token, from the cache while it is fresh."""
    digest = hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()
    now = time.time()
    with lock:
        cached = cache.get(digest)
    if cached is not None and now < cached[0]:
        return cached[1]
    answer = ask(token)
    until = now + CACHE_SECONDS
    if answer.get("active"):
        until = min(until, answer["exp"])
    with lock:
        cache[digest] = (until, answer)
        cache.move_to_end(digest)
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
    return answer


def ask(token: str) -> dict:
    """POST /auth/introspect, with this service's client credentials."""
    body = urlencode({"token": token, "token_type_hint": "access_token"}).encode()
    call = Request(URL, data=body, method="POST", headers={  # noqa: S310 (http(s), above)
        "Authorization": CREDENTIALS, "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urlopen(call, timeout=5) as response:  # noqa: S310 (http(s), above)
            return json.load(response)
    except HTTPError as refused:
        if refused.code == 401:
            raise Unavailable("The auth server refuses this service's credentials: check "
                              "CLIENT_ID and CLIENT_SECRET (`flask clients list`)") from None
        raise Unavailable(f"The auth server answered {refused.code} to an introspection") \
            from None
    except (URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise Unavailable(f"The auth server can't be reached at {URL}: {reason}") from None


@app.get("/whoami")
def whoami():
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "jwt" or not token:
        return error(401, "Authorization Required", "Request does not contain an access token")
    try:
        answer = introspection(token)
    except Unavailable as e:
        if str(e) not in reported:
            reported.add(str(e))
            app.logger.warning(str(e))
        return error(503, "Service Unavailable", "The auth server can't be asked about "
                     "tokens; try again soon")
    reported.clear()  # a problem that comes back is worth a line again
    if not answer.get("active"):
        return error(401, "Invalid token", "The token is not active")
    if answer["token_type"] != "access_token":  # noqa: S105 (a kind of token, no secret)
        return error(401, "Invalid token", "Expected an access token, got a refresh token")
    return {"identity": int(answer["sub"]), "username": answer["username"]}
