"""The proxy configurations the manual shows (issue 37): docs/services.md's NGINX server is
the one tests/e2e/test_nginx_forward_auth.py runs, but for its listen line and ports."""

import re

from nginx import FORWARD_AUTHENTICATION
from processes import REPO_ROOT

# The manual's stand-ins for what the test picks: TLS, the app's port and the upstream's.
MANUAL_VALUES = {"listen 443 ssl;  # (your TLS settings)": "listen 127.0.0.1:%(proxy)d;",
                 "127.0.0.1:8000": "127.0.0.1:%(app)d", "127.0.0.1:8080": "127.0.0.1:%(upstream)d"}


def test_the_manuals_nginx_server_is_the_tested_one():
    manual = (REPO_ROOT / "docs" / "services.md").read_text()
    blocks = re.findall(r"^```nginx\n(.*?)^```$", manual, re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1
    shown = blocks[0]
    for manual_value, tested in MANUAL_VALUES.items():
        assert manual_value in shown
        shown = shown.replace(manual_value, tested)
    assert shown == FORWARD_AUTHENTICATION
