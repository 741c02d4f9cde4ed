"""GET /account (issue 16): a page where users sign in, see their sessions and end them,
change their password and sign out, with the browser transport of web/cookies.py.

The page is one template, one script and one style sheet (``account/assets/``), all served
here under a Content-Security-Policy that allows nothing but this origin: no inline script
or style, no eval, no framing. The script keeps the access token in memory only; the refresh
token stays in its HttpOnly cookie.
"""

from flask import Blueprint, render_template

from jwtauthtest.passkeys.settings import relying_party
from jwtauthtest.web.headers import page_headers

bp = Blueprint("account_page", __name__, url_prefix="/account",
               static_folder="assets", static_url_path="/assets")


@bp.get("")
def account() -> str:
    """The page; with passkeys on, the origins they work on (WEBAUTHN_ORIGINS), so that a
    page opened at another address (127.0.0.1 for localhost) can say where to go."""
    rp = relying_party()
    return render_template("account.html", passkey_origins=rp.origins if rp else [])


bp.after_request(page_headers())
