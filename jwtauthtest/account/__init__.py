"""The blueprints of what a signed-in user does, and nothing else: the account API (password
change, sessions; ``api``), the second factor's routes (``second_factor``), passkeys' routes
(``passkeys``), e-mail's — the address, the password reset, sign-up (``email``) — and the
account page (``page``). Their HTTP plumbing is ``web``'s.

May import anything below ``jwt.py`` and ``jwt.py`` itself; only the factory imports them, to
register their blueprints.
"""
