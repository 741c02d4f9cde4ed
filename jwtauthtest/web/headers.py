"""The security headers of the pages the app serves (/account, /docs) and of their assets: a
Content-Security-Policy that allows nothing but this origin — no inline script or style, no
eval, no plugins, no framing — with nosniff and no referrer."""

from collections.abc import Callable

from flask import Response

SELF_ONLY = ("default-src 'self'", "object-src 'none'", "frame-ancestors 'none'",
             "base-uri 'none'", "form-action 'self'")


def page_headers(*more_directives: str) -> Callable[[Response], Response]:
    """An after-request hook for a page's blueprint, its policy widened only by
    ``more_directives`` (e.g. ``img-src 'self' data:``)."""
    headers = {
        "Content-Security-Policy": "; ".join([*SELF_ONLY, *more_directives]),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }

    def secure(response: Response) -> Response:
        response.headers.update(headers)
        return response

    return secure
