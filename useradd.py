"""Add a user: ``python useradd.py`` prompts for the username and password.

The same as ``flask --app jwtauthtest users add NAME``, kept as the tutorial's entry point.
It runs in the project's environment: ``./pipenv run python useradd.py``.
"""

import sys

try:
    import click

    from jwtauthtest import COMMAND_LINE_TOOL, create_app
    from jwtauthtest.cli.common import require_current_schema
    from jwtauthtest.cli.users import add_and_report
except ModuleNotFoundError as missing:  # another Python than the project's environment
    sys.exit(f"Error: {missing} in {sys.executable}: run `./pipenv run python "
             "useradd.py` in the checkout (after `./pipenv sync`)")


@click.command()
@click.option("--username", prompt="Username", help="The new user's name.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from one line of standard input instead of prompting.")
@click.option("--email", metavar="ADDRESS",
              help="The user's e-mail address, confirmed (resets and notices go to it).")
def main(username: str, password_stdin: bool, email: str | None) -> None:
    """Add a user to the database the server uses."""
    click.get_current_context().meta[COMMAND_LINE_TOOL] = True
    app = create_app()  # a configuration it can't use stops it with one line
    with app.app_context():
        require_current_schema()
        add_and_report(username, password_stdin, email)


if __name__ == "__main__":
    main()
