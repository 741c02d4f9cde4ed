"""Tokens and sessions: the claims of our access and refresh tokens, their lifetimes and the
refusal of one that doesn't verify (``claims``), sessions (token families) with refresh,
reuse detection, revocation and ending a user's sessions (``sessions``), what a user or
an operator is shown of them, times included (``listing``), and whether a token is live,
read without changing anything, for introspection (``liveness``).

May import the models, the database, ``keys`` (to sign and verify), ``settings`` and ``web``
(refusals); the views, ``jwt.py``, ``account``, ``users``, ``passkeys`` and the commands
build on it.
"""
