"""The keys that sign and verify tokens: the key set stored in the database with rotation
and retirement (``keyset``), reading and making key material (``material``), and signing
and verifying with the set, JWKS included (``signing``), remembering the tokens verified
lately (``verified``).

May import the models, the database, ``settings``, ``secret`` and ``entrypoints``; nothing
here knows of tokens' claims, sessions or requests.
"""
