"""The blueprints other services and proxies call: forward authentication for a reverse
proxy (``verify``: is this request's token live, and whose is it) and token introspection for
resource servers (``introspection``, RFC 7662), with the clients allowed to introspect.

May import anything below ``jwt.py`` and ``jwt.py`` itself; only the factory imports them, to
register their blueprints.
"""
