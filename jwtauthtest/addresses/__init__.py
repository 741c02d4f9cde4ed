"""E-mail addresses and what is mailed to them: an address's normal form (``normal``),
single-use links (``links``), the requests a reset, a sign-up or an address change leave for
the sender, turned into messages once their address is looked up (``requests``), and notices
of changes to an account (``notices``).

May import settings, database, models, users, passwords, tokens, mail and ops; nothing
above them (web, jwt, account, cli, apidocs).
"""
