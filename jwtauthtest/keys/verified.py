"""Tokens verified lately, remembered by their exact text, so that a client presenting the
same access token request after request has its signature checked once, not every time.

Only a token that passed every check is kept, with the claims PyJWT verified and the kid of
the key that verified them. What can change afterwards is checked again on each use: the
expiry (past it, the token gets the full check, which says so in PyJWT's words) and the key
set (any read of it, at least every JWT_KEY_REFRESH_SECONDS, forgets every token, so a
retired key's tokens are refused as soon as they are without this memory). Revocation is
not remembered here: it is looked up on every request. A token that differs by one
character is another entry, verified in full; refused tokens are never kept, so they cost
what they cost before. ``JWT_VERIFIED_TOKENS`` bounds how many are kept (0: none).
"""

import threading
import time
from typing import Any

Verified = tuple[dict[str, Any], str | None]  # the claims, and the kid (None: Flask-JWT's)


class VerifiedTokens:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: dict[str, tuple[dict[str, Any], str | None, float]] = {}
        self._lock = threading.Lock()
        # Moved on by every forget_all: a check that began before one is not remembered.
        self.generation = 0

    def get(self, token: str) -> Verified | None:
        """The claims and kid of a token verified before and not expired since, or None."""
        entry = self._entries.get(token)
        if entry is None:
            return None
        claims, kid, valid_until = entry
        if time.time() >= valid_until:
            with self._lock:  # every change is made under the lock
                self._entries.pop(token, None)
            return None
        return dict(claims), kid  # a copy: callers may drop claims they don't trust

    def remember(self, token: str, claims: dict[str, Any], kid: str | None,
                 leeway_seconds: float, generation: int) -> None:
        """Keep a token that just passed the full check, begun at this generation, until its
        exp (a whole number of seconds, as PyJWT reads it) plus the leeway, when PyJWT would
        refuse it too; the oldest entry goes when the memory is full."""
        expires = claims.get("exp")
        if self.capacity <= 0 or not isinstance(expires, (int, float)) \
                or isinstance(expires, bool):
            return  # claims.check_claims refuses a token whose exp isn't a number
        with self._lock:
            if generation != self.generation:
                return  # the key set was read meanwhile: the check may be out of date
            while len(self._entries) >= self.capacity:
                del self._entries[next(iter(self._entries))]
            self._entries[token] = (dict(claims), kid, int(expires) + leeway_seconds)

    def forget_all(self) -> None:
        with self._lock:
            self._entries = {}
            self.generation += 1

    def __len__(self) -> int:
        return len(self._entries)
