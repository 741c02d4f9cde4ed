"""``python -m flask_jwt.upgrade``: the checker's command line."""

from .cli import main

raise SystemExit(main())
