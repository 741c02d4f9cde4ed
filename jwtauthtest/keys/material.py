"""What a signing key is made of: its algorithm's key material, its kid, its public JWK, and
the cipher its private part is stored under (keys/keyset.py keeps the set)."""

import base64
import json
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from jwt.algorithms import get_default_algorithms

HMAC_ALGORITHMS = {"HS256": 32, "HS384": 48, "HS512": 64}  # bytes of secret
ALGORITHMS = [*HMAC_ALGORITHMS, "RS256", "ES256", "EdDSA"]


@dataclass(frozen=True)
class Key:
    kid: str
    algorithm: str
    signing: Any  # a private key, or the HMAC secret
    verifying: Any  # its public key, or the same secret
    created_at: float
    public_jwk: dict[str, Any] | None  # for /.well-known/jwks.json; None for a shared secret


def storage_cipher(secret: bytes, purpose: bytes = b"signing keys") -> Fernet:
    """The cipher private parts are stored under, derived from SECRET_KEY (another purpose,
    such as the second factor's secrets, gets a key of its own)."""
    return Fernet(base64.urlsafe_b64encode(derive_key(secret, purpose)))


def derive_key(secret: bytes, purpose: bytes) -> bytes:
    """32 bytes for one purpose, from SECRET_KEY (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"jwtauthtest " + purpose).derive(secret)


def new_key_material(algorithm: str, secret: bytes | None = None) -> tuple[str, bytes]:
    """A new key's kid and private part: for HMAC the given secret or a random one, else a PEM
    private key. The kid is random: one derived from the key would let anyone holding a token
    test guesses of a guessable secret offline."""
    if algorithm in HMAC_ALGORITHMS:
        material = secret or secrets.token_bytes(HMAC_ALGORITHMS[algorithm])
        return f"hs-{secrets.token_hex(8)}", material
    private = new_private_key(algorithm).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    return f"{algorithm.lower()}-{secrets.token_hex(8)}", private  # never "-...", an option


def new_private_key(algorithm: str) -> Any:
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


def load_key(kid: str, algorithm: str, material: bytes, created_at: float) -> Key:
    if algorithm in HMAC_ALGORITHMS:
        return Key(kid, algorithm, material, material, created_at, None)
    private = serialization.load_pem_private_key(material, password=None)
    return Key(kid, algorithm, private, private.public_key(), created_at,
               public_jwk(kid, algorithm, private.public_key()))


def public_jwk(kid: str, algorithm: str, public_key: Any) -> dict[str, Any]:
    """RFC 7517's public key, named by its kid, for signatures of one algorithm."""
    jwk = json.loads(get_default_algorithms()[algorithm].to_jwk(public_key))
    return {**jwk, "kid": kid, "alg": algorithm, "use": "sig"}
