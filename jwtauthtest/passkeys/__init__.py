"""Passkeys (WebAuthn): the relying party's settings (``settings``), the registration and
sign-in ceremonies with their single-use challenges (``ceremonies``), verified by Duo Labs'
``webauthn`` library — no CBOR, attestation or signature code of ours — and the passkeys as
stored: adding, listing, removing one with its sessions, and removing those a lock-down
takes (``store``).

May import the models, the database, ``settings``, ``ops`` and ``tokens`` (sessions, times);
the routes live in ``account.passkeys``.
"""
