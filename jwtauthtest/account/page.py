"""GET /account (issue 16): a page where users sign in, see their sessions and end them,
change their password and sign out, with the browser transport of web/cookies.py; with
e-mail set up, reset a forgotten password, confirm and change their address, and sign up
(issue 36).

The page is one template, one script and one style sheet (``account/assets/``), all served
here under a Content-Security-Policy that allows nothing but this origin: no inline script
or style, no eval, no framing. The script keeps the access token in memory only; the refresh
token stays in its HttpOnly cookie.
"""

from flask import Blueprint, current_app, render_template

from jwtauthtest.mail import mail_problem
from jwtauthtest.passkeys.settings import relying_party
from jwtauthtest.web.headers import page_headers

bp = Blueprint("account_page", __name__, url_prefix="/account",
               static_folder="assets", static_url_path="/assets")


@bp.get("")
def account() -> str:
    """The page; with passkeys on, the origins they work on (WEBAUTHN_ORIGINS), so that a
    page opened at another address (127.0.0.1 for localhost) can say where to go. Its e-mail
    forms only with mail set up (``mail_problem()`` is None), and sign-up's only with
    REGISTRATION_ENABLED too: without mail, sign-up's route answers 503."""
    rp = relying_party()
    mail = mail_problem() is None
    registration = mail and current_app.config["REGISTRATION_ENABLED"]
    return render_template("account.html", passkey_origins=rp.origins if rp else [],
                           mail=mail, registration=registration)


bp.after_request(page_headers())
