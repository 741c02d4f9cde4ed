"""Passkeys in the browser tests: Chrome DevTools' virtual WebAuthn authenticators, and the
server's variables that turn passkeys on for the page.

A test module loads the ``authenticators`` fixture with ``pytest_plugins = ["chromium",
"live_account", "virtual_authenticators"]``. It turns passkeys on for its own server only, by
overriding live_account's fixture in the module::

    @pytest.fixture(scope="module")
    def server_env_for_port():
        return passkeys_on

(a plugin's override would reach every module's server).
"""

import json

import pytest
from playwright.sync_api import Page

VIRTUAL_AUTHENTICATOR = {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                         "hasUserVerification": True, "isUserVerified": True,
                         "automaticPresenceSimulation": True}


def passkeys_on(port: int) -> dict[str, str]:
    """Passkeys on, for pages on http://localhost:PORT: the RP id can't be an IP address, and
    WebAuthn allows http on localhost only. (The origins are the JSON list from_prefixed_env
    parses.)"""
    return {"FLASK_WEBAUTHN_RP_ID": "localhost",
            "FLASK_WEBAUTHN_ORIGINS": json.dumps([f"http://localhost:{port}"])}


class Authenticators:
    """The page's virtual authenticators: each answers at once, the user verified."""

    def __init__(self, page: Page) -> None:
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable")

    def add(self) -> str:
        return self.cdp.send("WebAuthn.addVirtualAuthenticator",
                             {"options": VIRTUAL_AUTHENTICATOR})["authenticatorId"]

    def remove(self, authenticator: str) -> None:
        self.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})

    def credentials(self, authenticator: str) -> list[dict]:
        return self.cdp.send("WebAuthn.getCredentials",
                             {"authenticatorId": authenticator})["credentials"]


@pytest.fixture
def authenticators(page) -> Authenticators:
    return Authenticators(page)
