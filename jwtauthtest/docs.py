"""GET /docs: the OpenAPI document rendered by Swagger UI 5, every byte of it served by us.

Swagger UI's files come from the flask-swagger-ui package (its ``dist/``, not its blueprint,
whose page has an inline script); the page and ``docs_assets/docs.js`` are ours. Everything
under /docs carries a Content-Security-Policy that allows nothing but this origin.
"""

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Flask, Response, render_template_string

SWAGGER_UI_DIST = Path(flask_swagger_ui.__file__).parent / "dist"

# Swagger UI's stylesheet draws its icons as data: SVGs; React sets its inline styles
# through the CSSOM, which style-src does not govern, so no 'unsafe-inline' is needed.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "img-src 'self' data:", "object-src 'none'",
    "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"])

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>jwtauthtest API</title>
  <link rel="stylesheet" href="{{ url_for('swagger_ui.static', filename='index.css') }}">
  <link rel="stylesheet" href="{{ url_for('swagger_ui.static', filename='swagger-ui.css') }}">
  <link rel="icon" type="image/png" sizes="32x32"
        href="{{ url_for('swagger_ui.static', filename='favicon-32x32.png') }}">
  <link rel="icon" type="image/png" sizes="16x16"
        href="{{ url_for('swagger_ui.static', filename='favicon-16x16.png') }}">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{{ url_for('views.openapi') }}"></div>
  <script src="{{ url_for('swagger_ui.static', filename='swagger-ui-bundle.js') }}"></script>
  <script src="{{ url_for('docs.static', filename='docs.js') }}"></script>
</body>
</html>
"""

bp = Blueprint("docs", __name__, url_prefix="/docs",
               static_folder="docs_assets", static_url_path="/assets")
swagger_ui = Blueprint("swagger_ui", __name__, url_prefix="/docs",
                       static_folder=SWAGGER_UI_DIST, static_url_path="/swagger-ui")


@bp.get("")
def docs() -> str:
    return render_template_string(PAGE)


def secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


bp.after_request(secure)
swagger_ui.after_request(secure)


def init_docs(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(swagger_ui)
