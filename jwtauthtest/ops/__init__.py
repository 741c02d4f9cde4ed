"""What operators watch: log formats (``logs``), the audit log of logins and changes
(``audit``), the Prometheus metrics (``metrics``), and every error as JSON in the contract's
shape, a database problem as 503 (``errors``).

May import ``secret``, ``schema`` and the database; everything else may import it.
"""
