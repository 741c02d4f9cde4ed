"""A second factor: authenticator-app codes (TOTP, ``totp``), stored encrypted with the
user's recovery codes (``store``), and the login challenge that a right password of such a
user gets instead of tokens (``challenges``).

May import the models, the database, ``secret``, ``keys.material`` (the storage cipher),
``tokens``, ``throttle``, ``users`` and ``ops``; the routes live in ``account.second_factor``.
"""
