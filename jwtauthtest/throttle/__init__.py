"""The login throttle: failures and attempts counted per username and per client address
(``limiter``), the attempt records (``attempts``) and the counters' storage in the app's
database, Redis or memory (``counters``).

May import the models, the database, ``schema``, ``secret``, ``passwords`` (usernames) and
``ops`` (audit); only the account API and the factory use it.
"""
