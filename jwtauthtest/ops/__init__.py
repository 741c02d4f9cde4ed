"""What operators watch: log formats (``logs``), the audit log of logins and changes
(``audit``), the Prometheus metrics (``metrics``), and every refusal and error as JSON in the
contract's shape, by one handler, a database problem as 503 and a concurrent change as 409
(``errors``).

May import ``settings``, ``schema``, the database and ``web.state``; everything above may
import it.
"""
