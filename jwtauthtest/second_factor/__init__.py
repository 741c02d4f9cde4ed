"""A second factor: authenticator-app codes (TOTP, ``totp``), stored encrypted with the
user's recovery codes (``store``), checking a code within the day's count of wrong ones
(``codes``), and the login challenge that a right password of such a user gets instead of
tokens (``challenges``).

May import the models, the database, ``settings``, ``keys.material`` (the storage cipher),
``users`` (the lock-down), ``ops`` and ``web`` (refusals); the routes live in
``account.second_factor``.
"""
