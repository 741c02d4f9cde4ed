"""The API's description: the OpenAPI document (``openapi``, with ``parts``) and the /docs
page that shows it with Swagger UI (``page``).

May import ``passwords`` (its limits) and ``account`` (page headers); only the views and the
factory use it.
"""
