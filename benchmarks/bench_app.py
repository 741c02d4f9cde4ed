"""The app as deployed, plus one bare unauthenticated route to compare against."""

from flask import Flask

from jwtauthtest import create_app


def create_bench_app() -> Flask:
    app = create_app()

    @app.route("/bare")
    def bare() -> str:
        return "Hello world!"

    return app
