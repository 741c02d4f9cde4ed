"""A real NGINX for end-to-end tests: Debian's /usr/sbin/nginx, in the foreground, with a
configuration of the test's own and every file it writes (pid, temporary files, logs) in a
folder of its own, listening on loopback only.

It never runs as root: when the tests do (CI), the whole of it, master process included, runs
as ``nobody`` (through setpriv), in a folder that user owns. Without /usr/sbin/nginx the tests
that ask for it are skipped, unless REQUIRE_NGINX=1 (CI), which makes that a failure.
"""

import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from processes import START_TIMEOUT, ServerProcess, start_server

NGINX = "/usr/sbin/nginx"
REQUIRE_VARIABLE = "REQUIRE_NGINX"
UNPRIVILEGED = "nobody"
SETPRIV = "/usr/bin/setpriv"
# Relative paths in the configuration are the folder's (nginx's -p).
MAIN = """\
worker_processes 1;
pid nginx.pid;
error_log stderr notice;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path client_body;
    proxy_temp_path proxy;
    fastcgi_temp_path fastcgi;
    uwsgi_temp_path uwsgi;
    scgi_temp_path scgi;
{http}
}}
"""
READY = "start worker process"  # its notice once the master has bound every port
# Forward authentication (issue 37) as docs/services.md shows it, with other ports: every
# request is asked about first, and the two headers the upstream gets are the app's answer's,
# whatever the client sent under those names. Its %(proxy)d, %(app)d and %(upstream)d are the
# ports of NGINX, the app and the upstream.
FORWARD_AUTHENTICATION = """\
server {
    listen 127.0.0.1:%(proxy)d;

    location / {
        auth_request /_verify;
        auth_request_set $auth_user $upstream_http_x_auth_user;
        auth_request_set $auth_user_id $upstream_http_x_auth_user_id;
        proxy_set_header X-Auth-User $auth_user;
        proxy_set_header X-Auth-User-Id $auth_user_id;
        proxy_pass http://127.0.0.1:%(upstream)d;
    }

    location = /_verify {
        internal;
        proxy_pass http://127.0.0.1:%(app)d/auth/verify;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_set_header Authorization $http_authorization;
    }
}
"""


def require_nginx() -> None:
    """Skip the test (fail it, with REQUIRE_NGINX=1) where there is no NGINX to run."""
    reason = None
    if not os.access(NGINX, os.X_OK):
        reason = f"the NGINX tests need Debian's NGINX at {NGINX} (apt-get install nginx)"
    elif os.geteuid() == 0 and not os.access(SETPRIV, os.X_OK):
        reason = f"running NGINX as {UNPRIVILEGED}, not root, takes {SETPRIV} (util-linux)"
    if reason is None:
        return
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"{reason}; {REQUIRE_VARIABLE}=1 forbids skipping them")
    pytest.skip(reason)


@dataclass
class Nginx:
    server: ServerProcess  # the master process; its error log is its stderr
    folder: Path  # the prefix: its configuration, and the files it writes

    def read(self, name: str) -> str:
        """A file NGINX wrote in its folder (e.g. an access log), "" when there is none."""
        path = self.folder / name
        return path.read_text("utf-8", "replace") if path.exists() else ""


@contextmanager
def running_nginx(http: str, port: int, timeout: float = START_TIMEOUT) -> Iterator[Nginx]:
    """NGINX with ``http`` inside its ``http`` block (``server`` blocks, formats), started
    and answering on 127.0.0.1:PORT (one of its ``listen`` ports); stopped and its folder
    removed afterwards. Fails with its error log if it exits or never answers."""
    require_nginx()
    folder = Path(tempfile.mkdtemp(prefix="jwtauthtest-nginx-"))
    try:
        (folder / "nginx.conf").write_text(MAIN.format(http=http))
        argv = [NGINX, "-p", f"{folder}/", "-c", "nginx.conf", "-e", "stderr",
                "-g", "daemon off;"]
        owner = os.geteuid()
        if owner == 0:  # (not in tmp_path, which is root's alone: nobody could not read it)
            user = pwd.getpwnam(UNPRIVILEGED)
            owner = user.pw_uid
            for path in (folder, folder / "nginx.conf"):
                os.chown(path, user.pw_uid, user.pw_gid)
            argv = [SETPRIV, f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
                    "--clear-groups", "--", *argv]
        with start_server(argv, os.environ, port, READY, timeout, cwd=folder) as server:
            # setpriv became NGINX: the master itself is unprivileged, not only its workers.
            assert os.stat(f"/proc/{server.process.pid}").st_uid == owner, server.output()
            yield Nginx(server, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
