"""The app's HTTP floor, under ``jwt.py``, the views and every blueprint: the refresh token in
a browser's cookie with its CSRF, Origin and CORS checks (``cookies``), the Bearer scheme that
forward authentication takes too (``bearer``), the security headers of our pages
(``headers``), answers no cache may keep (``answers``), the refusals as exceptions
(``refusals``), the one check of a JSON body (``bodies``), and what a request has told the app
so far (``state``).

May import ``settings``, ``passwords.usernames`` (what text is) and Flask-JWT, nothing else
of jwtauthtest: the lower concerns that refuse requests (the throttle, the second factor,
passkeys, ops) import it too.
"""
