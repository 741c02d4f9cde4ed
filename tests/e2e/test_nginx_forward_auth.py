"""Forward authentication behind a real NGINX (issue 37): ``auth_request`` asks the app's
production server (the Procfile's) about each request's token, and the upstream, which is not
Python (a second server of the same NGINX, echoing the headers it gets), sees the user NGINX
took from the app's answer, never what the client sent. The protected server is the one
docs/services.md shows (nginx.FORWARD_AUTHENTICATION)."""

import json

from conftest import SECRET
from nginx import FORWARD_AUTHENTICATION, require_nginx, running_nginx
from processes import free_port, http, run_useradd, start_procfile_server, subprocess_env

PASSWORD = "a long enough passphrase"
# The upstream: what reached it, in its answer and in a log of every request it got.
UPSTREAM = """\
log_format reached '$request_uri user=$http_x_auth_user id=$http_x_auth_user_id';
server {
    listen 127.0.0.1:%(upstream)d;
    access_log upstream.log reached;
    location / {
        return 200 "user=$http_x_auth_user id=$http_x_auth_user_id\\n";
    }
}
"""


def log_in(app_url: str, username: str) -> dict:
    status, _, body = http("POST", app_url + "/auth",
                           json.dumps({"username": username, "password": PASSWORD}),
                           {"Content-Type": "application/json"})
    assert status == 200, body
    return json.loads(body)


def user_id(app_url: str, token: str) -> int:
    status, _, body = http("GET", app_url + "/me", headers={"Authorization": f"JWT {token}"})
    assert status == 200, body
    return json.loads(body)["id"]


def test_nginx_passes_on_the_apps_user_and_never_the_clients(tmp_path, database_uri):
    require_nginx()  # (before the app's server is started for nothing)
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                         FLASK_SQLALCHEMY_DATABASE_URI=database_uri,
                         FLASK_DATABASE_AUTO_UPGRADE="true")
    for username in ("alice", "zoë"):
        added = run_useradd(env, ["--username", username, "--password-stdin"], PASSWORD + "\n")
        assert added.returncode == 0, added.stderr

    with start_procfile_server(env, workers=1) as app:
        ports = {"proxy": free_port(), "upstream": free_port(), "app": app.port}
        configuration = FORWARD_AUTHENTICATION % ports + UPSTREAM % ports
        with running_nginx(configuration, ports["proxy"]) as nginx:
            proxy = f"http://127.0.0.1:{ports['proxy']}"

            def through(path: str, **headers: str) -> tuple[int, str]:
                status, answer, body = http("GET", proxy + path, headers={
                    name.replace("_", "-"): value for name, value in headers.items()})
                if status == 401:
                    assert answer["WWW-Authenticate"] == (
                        'JWT realm="Login Required", Bearer realm="Login Required"')
                return status, body.decode() if status == 200 else ""

            alice = log_in(app.url, "alice")["access_token"]
            alice_id = user_id(app.url, alice)
            zoe = log_in(app.url, "zoë")["access_token"]
            zoe_id = user_id(app.url, zoe)

            assert through("/a", Authorization=f"JWT {alice}") == (
                200, f"user=alice id={alice_id}\n")
            assert through("/b", Authorization=f"Bearer {zoe}") == (
                200, f"user=zo%C3%AB id={zoe_id}\n")
            assert through("/c") == (401, "")
            forged = {"X_Auth_User": "admin", "X_Auth_User_Id": "1"}
            assert through("/forged-with-token", Authorization=f"Bearer {alice}", **forged) == (
                200, f"user=alice id={alice_id}\n")
            assert through("/forged-without-token", **forged) == (401, "")

            status, _, _ = http("POST", app.url + "/auth/logout",
                                headers={"Authorization": f"JWT {alice}"})
            assert status == 200
            assert through("/after-logout", Authorization=f"JWT {alice}") == (401, "")
            assert through("/d", Authorization=f"Bearer {zoe}")[0] == 200

            reached = nginx.read("upstream.log").splitlines()
            assert reached == [f"/a user=alice id={alice_id}",
                               f"/b user=zo%C3%AB id={zoe_id}",
                               f"/forged-with-token user=alice id={alice_id}",
                               f"/d user=zo%C3%AB id={zoe_id}"], nginx.server.output()
