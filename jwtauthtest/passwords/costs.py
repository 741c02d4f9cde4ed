"""What checking a password against a stored hash may cost.

A stored hash names its own cost: an imported argon2 hash asking for 4 GiB and 2**32-1
passes would pin a worker on one unauthenticated login. Hashes past these limits are
refused by ``flask users import`` and never match at login, where they cost nothing.
"""

from passlib.context import CryptContext

# Each limit keeps one verification under about half a second on a 2-core machine
# (docs/security.md, "Cost limits") while admitting the usual defaults of the schemes we import:
# passlib's sha512_crypt (656,000 rounds), Django's PBKDF2 (1,000,000), bcrypt's 12.
COST_LIMITS: dict[str, dict[str, int]] = {
    "argon2": {"memory_cost": 131072, "rounds": 4, "parallelism": 8},  # KiB; passes; lanes
    "bcrypt": {"rounds": 13},  # log2 of the iterations
    "pbkdf2_sha256": {"rounds": 2_000_000},
    "django_pbkdf2_sha256": {"rounds": 2_000_000},
    "sha512_crypt": {"rounds": 1_000_000},
    "sha256_crypt": {"rounds": 1_000_000},
}
# SHA-crypt's cost grows with the password's length (656,000 rounds: 0.4 s for 28
# characters, 1.8 s for 1,024); against those hashes, longer passwords never match.
SHA_CRYPT_SCHEMES = ("sha512_crypt", "sha256_crypt")
MAX_SHA_CRYPT_PASSWORD = 72  # characters, what bcrypt takes too
# The fields that follow a hash's cost parameters: bcrypt joins salt and digest in one.
TRAILING_FIELDS = {"$2a$": 1, "$2b$": 1, "$2y$": 1}


def cost_problem(context: CryptContext, password_hash: str) -> str | None:
    """Why verifying against this hash could cost too much, or None (also for a hash the
    context doesn't know, which simply never matches)."""
    scheme = context.identify(password_hash, required=False)
    if scheme not in COST_LIMITS:
        return None
    try:
        parsed = context.handler(scheme).from_string(password_hash)
    except ValueError:
        return None
    for name, limit in COST_LIMITS[scheme].items():
        value = getattr(parsed, name)
        if value > limit:
            return f"{scheme} {name.replace('_', ' ')} {value} is over the limit of {limit}"
    return None


def too_long_for(context: CryptContext, password: str, password_hash: str) -> bool:
    return (len(password) > MAX_SHA_CRYPT_PASSWORD
            and context.identify(password_hash, required=False) in SHA_CRYPT_SCHEMES)


def hash_kind(password_hash: str) -> str:
    """A hash without its salt and digest: its scheme and cost parameters. Hashes of one
    kind cost the same to verify (for the same password)."""
    trailing = next((n for prefix, n in TRAILING_FIELDS.items()
                     if password_hash.startswith(prefix)), 2)
    return password_hash.rsplit("$", trailing)[0]
