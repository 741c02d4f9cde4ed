"""A separate service that accepts jwtauthtest's access tokens knowing only where its keys are
published, its issuer and its audience — never a secret that could mint tokens.

    JWKS_URL=http://auth.internal:8000/.well-known/jwks.json JWT_ISSUER=https://auth.example \\
    JWT_AUDIENCE=api flask --app examples/resource_server.py run --port 8001

GET /whoami with ``Authorization: JWT <access token>`` answers the token's user id. The key
set is fetched with PyJWT's PyJWKClient and cached (JWKS_CACHE_SECONDS, default 300); a
token naming a key not in the cache makes it fetch the set again.
"""

import os

import jwt
from flask import Flask, jsonify, request

app = Flask(__name__)
# The key set is cached for its lifespan, and fetched again then (or for an unknown kid);
# not cache_keys, whose per-kid cache would trust a retired key for as long as it runs.
jwks = jwt.PyJWKClient(os.environ["JWKS_URL"], cache_jwk_set=True, cache_keys=False,
                       lifespan=float(os.environ.get("JWKS_CACHE_SECONDS", "300")))
ISSUER = os.environ.get("JWT_ISSUER")
AUDIENCE = os.environ.get("JWT_AUDIENCE")
ASYMMETRIC = ["RS256", "ES256", "EdDSA"]  # never a shared secret: anyone could mint with it


def refuse(description: str, status: int = 401):
    return jsonify({"status_code": status, "error": "Invalid token",
                    "description": description}), status


@app.get("/whoami")
def whoami():
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "jwt" or not token:
        return refuse("Request does not contain an access token")
    try:
        key = jwks.get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key, algorithms=ASYMMETRIC, issuer=ISSUER, audience=AUDIENCE,
                            options={"require": ["exp", "iat", "nbf"]})
    except (jwt.InvalidTokenError, jwt.PyJWKClientError) as e:
        return refuse(str(e))
    if claims.get("type", "access") != "access":
        return refuse("Expected an access token, got a refresh token")
    return {"identity": claims["identity"]}
