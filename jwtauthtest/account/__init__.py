"""What a signed-in user does, and the browser's side of it: the account API (password
change, sessions; ``api``), the account page (``page``), the refresh token in a cookie with
its CSRF checks (``browser``), and the security headers of our pages (``headers``).

May import ``tokens``, ``passwords``, ``throttle``, ``ops``, the models and ``jwt.py``
(``browser`` only ``tokens`` and ``secret``: ``jwt.py`` and the views use it); only the
factory registers its blueprints.
"""
