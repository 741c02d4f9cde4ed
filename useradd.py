"""Add a user: ``python useradd.py`` prompts for the username and password."""

import sys

import click

from jwtauthtest import create_app
from jwtauthtest.database import database_label
from jwtauthtest.secret import ConfigurationError
from jwtauthtest.users import UserError, add_user, read_password_line


@click.command()
@click.option("--username", prompt="Username", help="The new user's name.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from one line of standard input instead of prompting.")
def main(username: str, password_stdin: bool) -> None:
    """Add a user to the database the server uses."""
    try:
        app = create_app()
    except ConfigurationError as e:
        raise click.ClickException(str(e)) from None
    if password_stdin:
        password = read_password_line(sys.stdin)
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with app.app_context():
        try:
            user = add_user(username, password)
        except UserError as e:
            raise click.ClickException(str(e)) from None
        click.echo(f"Added user {user.username!r} (id {user.id}) to {database_label()}")


if __name__ == "__main__":
    main()
