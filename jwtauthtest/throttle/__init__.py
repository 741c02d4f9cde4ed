"""The login throttle: each attempt at a password, a code or a passkey counted per username
(or credential) and per client address, and given back unless it failed (``attempts``, with
the views' wrapper and ``init_throttle``); the fixed-window limits over the counters, with an
in-memory stand-in while their storage is away (``limiter``); the counters' storage in the
app's database (``counters``), or Redis or memory through ``limits``; introspections, per
client and failed client authentications per address (``clients``); and the key a client
address is counted under, an IPv6 one's /64 (``networks``).

May import the models, the database, ``schema``, ``settings``, ``passwords`` (usernames),
``ops`` (audit) and ``web`` (refusals); the login view, the account's blueprints, the
introspection blueprint and the factory use it.
"""
