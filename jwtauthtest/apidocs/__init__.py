"""The API's description: the OpenAPI document (``openapi``, with ``parts``, and the second
factor's, passkeys', e-mail's and introspection's operations) and the /docs page that shows
it with Swagger UI (``page``).

May import ``passwords`` (its limits) and ``web`` (page headers, the challenge header); only
the views and the factory use it.
"""
