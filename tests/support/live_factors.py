"""A second factor or a passkey for the live server's user (live_account.py's ``live``), set up
with the API alone: a browser test that is about what the page does with one then needs no
page steps to get it."""

from authenticator_app import Authenticator
from soft_authenticator import SoftPasskey


def enrol_by_api(live) -> tuple[Authenticator, list[str]]:
    """Turn the user's second factor on with the API alone: the app, and the recovery codes."""
    status, tokens = live.log_in()
    assert status == 200, tokens
    status, enrolment = live.call("POST", "/auth/second-factor/enrolment",
                                  tokens["access_token"])
    assert status == 201, enrolment
    app = Authenticator(enrolment["secret"])
    status, confirmed = live.call("POST", "/auth/second-factor/enrolment/confirm",
                                  tokens["access_token"], {"code": app.code()})
    assert status == 200, confirmed
    return app, confirmed["recovery_codes"]


def register_by_api(live, name: str) -> SoftPasskey:
    """A passkey of the user's, registered with the API alone (a software authenticator),
    from live.agent."""
    status, tokens = live.log_in()
    assert status == 200, tokens
    token = tokens["access_token"]
    status, options = live.call("POST", "/auth/passkeys/options", token)
    assert status == 200, options
    passkey = SoftPasskey(f"http://localhost:{live.server.port}")
    status, added = live.call("POST", "/auth/passkeys", token,
                              {"credential": passkey.create(options), "name": name})
    assert status == 201, added
    return passkey
