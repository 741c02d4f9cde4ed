"""The ``flask`` commands: one module a command group (``users``, ``tokens``, ``keys``,
``mail``, ``clients``, and ``users import``, ``users second-factor`` and ``users passkeys``),
and ``common`` for what they share (also ``useradd.py``'s prompts). Commands sit on top:
they may import anything of jwtauthtest, and nothing imports them but the factory.
"""

from flask import Flask

from jwtauthtest.cli.clients import clients_cli
from jwtauthtest.cli.import_users import import_command
from jwtauthtest.cli.keys import keys_cli
from jwtauthtest.cli.mail import mail_cli
from jwtauthtest.cli.passkeys import passkeys_cli
from jwtauthtest.cli.second_factor import second_factor_cli
from jwtauthtest.cli.tokens import tokens_cli
from jwtauthtest.cli.users import users_cli


def init_cli(app: Flask) -> None:
    users_cli.add_command(import_command)
    users_cli.add_command(second_factor_cli)
    users_cli.add_command(passkeys_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(clients_cli)
