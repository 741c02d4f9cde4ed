"""Passkeys (WebAuthn): the relying party's settings (``settings``), and the registration and
sign-in ceremonies with their single-use challenges (``ceremonies``), verified by Duo Labs'
``webauthn`` library — no CBOR, attestation or signature code of ours.

May import the models, the database, ``secret``, ``ops`` and ``throttle``; the routes live in
``account.passkeys``.
"""
