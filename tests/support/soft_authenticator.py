"""A software passkey for the tests: an EC P-256 key that answers WebAuthn options the way a
browser hands an authenticator's answer to the page (PublicKeyCredential.toJSON()), with
"none" attestation. Test code only: the server verifies with the webauthn library."""

import base64
import hashlib
import json
import secrets
import struct

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftPasskey:
    def __init__(self, origin: str, rp_id: str | None = None) -> None:
        self.origin = origin
        self.rp_id = rp_id
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(16)
        self.user_handle: bytes | None = None
        self.sign_count = 0
        self.transports = ["internal"]
        self.cross_origin = False
        self.user_verified = True  # the UV flag in its answers

    def flags(self) -> int:
        return UP | UV if self.user_verified else UP

    def cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})

    def client_data(self, kind: str, challenge: str, origin: str | None = None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge,
                           "origin": origin or self.origin,
                           "crossOrigin": self.cross_origin}).encode()

    def auth_data(self, rp_id: str, flags: int, attested: bytes = b"") -> bytes:
        return (hashlib.sha256(rp_id.encode()).digest() + bytes([flags])
                + struct.pack(">I", self.sign_count) + attested)

    def create(self, options: dict, origin: str | None = None) -> dict:
        """The answer to registration options."""
        self.user_handle = unb64url(options["user"]["id"])
        attested = (bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id
                    + self.cose_public_key())
        auth_data = self.auth_data(self.rp_id or options["rp"]["id"], self.flags() | AT,
                                   attested)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {"id": b64url(self.credential_id), "rawId": b64url(self.credential_id),
                "type": "public-key", "authenticatorAttachment": "platform",
                "clientExtensionResults": {},
                "response": {"clientDataJSON": b64url(self.client_data(
                    "webauthn.create", options["challenge"], origin)),
                    "attestationObject": b64url(attestation), "transports": self.transports}}

    def get(self, options: dict, origin: str | None = None, count_up: bool = True) -> dict:
        """The answer to sign-in options; the sign count goes up unless told otherwise."""
        if count_up:
            self.sign_count += 1
        client_data = self.client_data("webauthn.get", options["challenge"], origin)
        auth_data = self.auth_data(self.rp_id or options["rpId"], self.flags())
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        return {"id": b64url(self.credential_id), "rawId": b64url(self.credential_id),
                "type": "public-key", "authenticatorAttachment": "platform",
                "clientExtensionResults": {},
                "response": {"clientDataJSON": b64url(client_data),
                             "authenticatorData": b64url(auth_data),
                             "signature": b64url(signature),
                             "userHandle": b64url(self.user_handle or b"")}}
