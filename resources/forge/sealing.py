"""Seal a secret for GitHub Actions: a libsodium sealed box against the repository's public key."""

from __future__ import annotations

import base64
import binascii

from nacl.exceptions import CryptoError
from nacl.public import PublicKey, SealedBox
from pydantic import SecretStr


def seal_secret(public_key_b64: str, value: str | SecretStr) -> str:
    """The base64 sealed box of `value` for the base64 Curve25519 `public_key_b64` (GitHub's format)."""
    try:
        key_bytes = base64.b64decode(public_key_b64, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the repository public key is not valid base64") from None
    if len(key_bytes) != PublicKey.SIZE:
        raise ValueError(
            f"the repository public key has {len(key_bytes)} bytes; a sealed box needs {PublicKey.SIZE}"
        )
    plain = value.get_secret_value() if isinstance(value, SecretStr) else value
    try:
        sealed = SealedBox(PublicKey(key_bytes)).encrypt(plain.encode("utf-8"))
    except CryptoError:
        raise ValueError("sealing the secret failed") from None
    return base64.b64encode(sealed).decode("ascii")
