"""GET /docs: the OpenAPI document rendered by Swagger UI 5, every byte of it served by us.

Swagger UI's files come from the flask-swagger-ui package (its ``dist/``, not its blueprint,
whose page has an inline script); the page (``templates/docs.html``) and
``apidocs/assets/docs.js`` are ours. Everything under /docs carries web/headers.py's headers.
"""

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Flask, render_template

from jwtauthtest.web.headers import page_headers

SWAGGER_UI_DIST = Path(flask_swagger_ui.__file__).parent / "dist"

# Swagger UI's stylesheet draws its icons as data: SVGs; React sets its inline styles
# through the CSSOM, which style-src does not govern, so no 'unsafe-inline' is needed.
secure = page_headers("img-src 'self' data:")

bp = Blueprint("docs", __name__, url_prefix="/docs",
               static_folder="assets", static_url_path="/assets")
swagger_ui = Blueprint("swagger_ui", __name__, url_prefix="/docs",
                       static_folder=SWAGGER_UI_DIST, static_url_path="/swagger-ui")


@bp.get("")
def docs() -> str:
    return render_template("docs.html")


bp.after_request(secure)
swagger_ui.after_request(secure)


def init_docs(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(swagger_ui)
