"""A separate service that accepts jwtauthtest's access tokens knowing only where its keys are
published, its issuer and its audience — never a secret that could mint tokens.

The auth server must sign with a key pair and name itself and this audience:

    FLASK_JWT_ALGORITHM=EdDSA FLASK_JWT_ISSUER=https://auth.example FLASK_JWT_AUDIENCE=api \\
    flask --app jwtauthtest run --port 8000

and this service reads the same values, without FLASK_:

    JWKS_URL=http://127.0.0.1:8000/.well-known/jwks.json JWT_ISSUER=https://auth.example \\
    JWT_AUDIENCE=api flask --app examples/resource_server.py run --port 8001

GET /whoami with ``Authorization: JWT <access token>`` answers the token's user id; a token it
can't accept is 401, and 503 while the key set can't be fetched or has no key (an auth server
on HS256 publishes none), in jwtauthtest's error shape. The key set is fetched with PyJWT's
PyJWKClient and cached (JWKS_CACHE_SECONDS, default 300); a token naming a key not in the
cache makes it fetch the set again.
"""

import os

import jwt
from flask import Flask, jsonify, request

JWKS_URL = os.environ.get("JWKS_URL", "")
if not JWKS_URL:
    raise SystemExit("JWKS_URL is not set: this service runs with JWKS_URL, JWT_ISSUER and "
                     "JWT_AUDIENCE (see the top of examples/resource_server.py)")
app = Flask(__name__)
# The key set is cached for its lifespan, and fetched again then (or for an unknown kid);
# not cache_keys, whose per-kid cache would trust a retired key for as long as it runs.
jwks = jwt.PyJWKClient(JWKS_URL, cache_jwk_set=True, cache_keys=False,
                       lifespan=float(os.environ.get("JWKS_CACHE_SECONDS", "300")))
ISSUER = os.environ.get("JWT_ISSUER")
AUDIENCE = os.environ.get("JWT_AUDIENCE")
ASYMMETRIC = ["RS256", "ES256", "EdDSA"]  # never a shared secret: anyone could mint with it
NO_KEYS = (f"The key set at {JWKS_URL} has no keys: start the auth server with "
           "FLASK_JWT_ALGORITHM=EdDSA (or RS256, ES256), and FLASK_JWT_ISSUER / "
           "FLASK_JWT_AUDIENCE equal to this service's JWT_ISSUER / JWT_AUDIENCE")
reported: set[str] = set()  # what the log already said (once each, not once a request)


def error(status: int, name: str, description: str):
    """jwtauthtest's error shape; a 401 names the scheme to send, as jwtauthtest's do."""
    headers = {"WWW-Authenticate": 'JWT realm="Login Required"'} if status == 401 else {}
    return (jsonify({"status_code": status, "error": name, "description": description}),
            status, headers)


def unavailable(log_line: str, description: str):
    """503: the keys can't be had; the log says once what to do about it."""
    if log_line not in reported:
        reported.add(log_line)
        app.logger.warning(log_line)
    return error(503, "Service Unavailable", description)


@app.get("/whoami")
def whoami():
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "jwt" or not token:
        return error(401, "Authorization Required", "Request does not contain an access token")
    try:
        key = jwks.get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key, algorithms=ASYMMETRIC, issuer=ISSUER, audience=AUDIENCE,
                            options={"require": ["exp", "iat", "nbf"]})
    except jwt.PyJWKSetError:  # the set has no key this service could use
        return unavailable(NO_KEYS, "No key to verify tokens with: the auth server publishes none")
    except jwt.PyJWKClientConnectionError as e:
        return unavailable(f"The key set can't be fetched: {' '.join(str(e).split())}",
                           "The auth server's key set can't be fetched; try again soon")
    except (jwt.InvalidTokenError, jwt.PyJWKClientError) as e:
        return error(401, "Invalid token", str(e))
    reported.clear()  # a problem that comes back is worth a line again
    if claims.get("type", "access") != "access":
        return error(401, "Invalid token", "Expected an access token, got a refresh token")
    return {"identity": claims["identity"]}
