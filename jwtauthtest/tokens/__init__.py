"""Tokens and sessions: the claims of our access and refresh tokens and their lifetimes
(``claims``), sessions (token families) with refresh, reuse detection and revocation
(``sessions``), and the listing of a user's live sessions (``listing``).

May import the models, the database, ``keys`` (to sign and verify) and ``secret``; the
views, ``jwt.py``, ``account`` and the commands build on it.
"""
