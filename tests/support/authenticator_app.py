"""The user's authenticator app, for the browser tests of two-step sign-in: its codes are
computed from the secret the page (or the API) shows, on the real clock the server uses. The
account page's labels of the fields that take them are here too, so that the tests type the
codes into the fields the user would."""

import time

import pyotp

APP_CODE = "Code from your authenticator app"
CHECK_CODE = "Code from your authenticator app, or a recovery code"


class Authenticator:
    """The phone's app, for one secret. The server accepts a code of the 30-second step of
    now or of one step either side, and never one of a step at or before the last it
    accepted; so each code is for a later step than the last one handed out, the earliest
    the server still takes with time to spare, waiting for the clock when it must."""

    def __init__(self, secret: str) -> None:
        self.totp = pyotp.TOTP(secret)
        self.last_step: int | None = None

    def code(self) -> str:
        now = time.time()
        step = int(now) // 30
        earliest = step - 1 if now % 30 < 15 else step  # the previous step, while it has 15 s
        wanted = earliest if self.last_step is None else max(self.last_step + 1, earliest)
        if wanted > step + 1:  # two steps ahead: wait for the next one to begin
            time.sleep((wanted - 1) * 30 - now + 0.5)
        self.last_step = wanted
        return self.totp.at(wanted * 30)

    def wrong_code(self) -> str:
        """A code of none of the steps the server would look at now."""
        step = int(time.time()) // 30
        near = {self.totp.at(s * 30) for s in range(step - 2, step + 3)}
        return next(c for c in (f"{n:06d}" for n in range(123456, 10**6)) if c not in near)
