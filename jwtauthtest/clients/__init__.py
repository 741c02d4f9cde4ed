"""Clients: the resource servers an operator lets introspect tokens (RFC 7662), each a name,
a client id and a secret stored only as an HMAC keyed from SECRET_KEY — their table
(``model``), and adding, listing, removing and authenticating them (``store``).

May import the database, ``settings``, ``keys.material`` (to derive the secrets' key),
``users`` (its refusal) and ``tokens.listing`` (times); the commands live in ``cli.clients``,
the introspection route in ``services.introspection``.
"""
