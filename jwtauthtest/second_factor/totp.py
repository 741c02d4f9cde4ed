"""Authenticator-app codes: RFC 6238 TOTP with 6 digits, 30-second steps and SHA-1 (what
every authenticator app reads from an ``otpauth://`` URI), computed by pyotp; the QR code
drawn by segno as inline SVG."""

import hashlib
import hmac
import time

import pyotp
import segno

DIGITS, STEP_SECONDS = 6, 30
DRIFT_STEPS = 1  # a phone's clock a step behind or ahead, never more
clock = time.time  # (tests set the time here)


def new_secret() -> str:
    """160 random bits in base32, the length RFC 4226 recommends."""
    return pyotp.random_base32(32)


def authenticator(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS, digest=hashlib.sha1)


def otpauth_uri(secret: str, username: str, issuer: str) -> str:
    return authenticator(secret).provisioning_uri(name=username, issuer_name=issuer)


def current_step() -> int:
    return int(clock()) // STEP_SECONDS


def matching_step(secret: str, code: object) -> int | None:
    """The time step within DRIFT_STEPS of now that this code is for, or None. Every step
    of the window is compared, in constant time, whichever matches."""
    if not (isinstance(code, str) and len(code) == DIGITS and code.isascii()
            and code.isdigit()):
        return None
    totp, now, found = authenticator(secret), current_step(), None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def qr_code_svg(uri: str) -> str:
    """The URI as a QR code, an ``<svg>`` element to put in the page (no data: URL, which
    the page's CSP refuses; no other host)."""
    return segno.make(uri, error="m").svg_inline(scale=4, border=2, title="QR code")
