"""The relying party: WEBAUTHN_RP_ID (the site's host name; passkeys are off without it),
WEBAUTHN_RP_NAME, WEBAUTHN_ORIGINS, the pages allowed to use them, each on the RP id, and
WEBAUTHN_MAX_SIGN_IN_CHALLENGES, how many sign-ins of clients without an address may be under
way at once."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, current_app

from jwtauthtest.settings import ConfigurationError, whole_number

EXTENSION_KEY = "jwtauthtest.passkeys"
CHALLENGE_SECONDS = 300
LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True)
class RelyingParty:
    id: str
    name: str
    origins: list[str]
    # Live sign-in challenges of clients with no address, at most: a sign-in's options name
    # no one, and with no address to count them by, this bounds what they can make us store.
    max_sign_in_challenges: int


def init_passkeys(app: Flask) -> None:
    rp_id, name = app.config["WEBAUTHN_RP_ID"], app.config["WEBAUTHN_RP_NAME"]
    origins = app.config["WEBAUTHN_ORIGINS"]
    if rp_id is None:
        return
    if not is_host_name(rp_id):
        raise ConfigurationError("WEBAUTHN_RP_ID must be the site's host name in lower-case "
                                 "ASCII (xn-- for other scripts), such as auth.example.com or "
                                 f"localhost, not {rp_id!r}")
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"WEBAUTHN_RP_NAME must be a name, not {name!r}")
    if origins is None:
        origins = [f"https://{rp_id}"]
    elif isinstance(origins, str):
        origins = [origins]
    if not (isinstance(origins, list) and origins):
        raise ConfigurationError("WEBAUTHN_ORIGINS must be an origin or a JSON list of them, "
                                 f"such as https://{rp_id}, not {origins!r}")
    for origin in origins:
        check_origin(origin, rp_id)
    most = whole_number(app.config, "WEBAUTHN_MAX_SIGN_IN_CHALLENGES", "sign-ins under way "
                        "at once from clients without an address", 1)
    app.extensions[EXTENSION_KEY] = RelyingParty(rp_id, name, origins, most)


def is_host_name(name: object) -> bool:
    """A DNS name of lower-case ASCII labels, not an IP address (which can't be an RP id)."""
    if not (isinstance(name, str) and name.isascii() and 0 < len(name) <= 253):
        return False
    labels = name.split(".")
    return not labels[-1].isdigit() and all(
        LABEL.fullmatch(label) for label in labels)


def check_origin(origin: object, rp_id: str) -> None:
    """An origin (scheme://host[:port], nothing more) on the RP id or below it; http only for
    localhost, as browsers allow."""
    parts = urlsplit(origin) if isinstance(origin, str) else None
    host = parts.hostname if parts is not None else None
    try:
        port = parts.port if parts is not None else None
    except ValueError:  # not a number, or out of range
        port = -1
    if parts is None or host is None or parts.path or parts.query or parts.fragment \
            or parts.scheme not in DEFAULT_PORTS or parts.username is not None \
            or port in (-1, DEFAULT_PORTS[parts.scheme]) or parts.netloc.endswith(":") \
            or f"{parts.scheme}://{host}{'' if port is None else f':{port}'}" != origin:
        raise ConfigurationError(f"WEBAUTHN_ORIGINS: {origin!r} is not an origin such as "
                                 f"https://{rp_id} (scheme and lower-case host, a port only "
                                 "if not the default)")
    if host != rp_id and not host.endswith("." + rp_id):
        raise ConfigurationError(f"WEBAUTHN_ORIGINS: {origin} is not on WEBAUTHN_RP_ID "
                                 f"{rp_id} (its host must be {rp_id} or end with .{rp_id})")
    if parts.scheme == "http" and host != "localhost":
        raise ConfigurationError(f"WEBAUTHN_ORIGINS: {origin} must use https (browsers allow "
                                 "passkeys over http on localhost only)")


def relying_party() -> RelyingParty | None:
    """The settings, or None when passkeys are off."""
    return current_app.extensions.get(EXTENSION_KEY)
