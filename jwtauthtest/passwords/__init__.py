"""Passwords and usernames: argon2id hashing with equal-time verification (``hashing``), the
cost limits of stored hashes (``costs``), the password policy (``policy``), usernames'
normal form and limits and what text is (``usernames``), and the checks of a login's
credentials (``credentials``).

At the bottom: may import ``settings``, nothing else of jwtauthtest (the models build on it).
"""
