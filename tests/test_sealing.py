"""Sealing Actions secrets: a sealed box that only the repository's private key opens."""

from __future__ import annotations

import base64

import pytest
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, SealedBox
from pydantic import SecretStr

from resources.forge.sealing import seal_secret


def _public_b64(private: PrivateKey) -> str:
    return base64.b64encode(bytes(private.public_key)).decode()


@pytest.mark.parametrize("value", ["s3cr3t-value", "", "ünïcødé ✓ and a\nnewline", "x" * 10_000])
def test_sealed_secret_opens_with_the_private_key(value: str) -> None:
    private = PrivateKey.generate()
    sealed = seal_secret(_public_b64(private), value)
    opened = SealedBox(private).decrypt(base64.b64decode(sealed))
    assert opened.decode("utf-8") == value
    assert value.encode() not in base64.b64decode(sealed) or value == ""


def test_secretstr_is_unwrapped_and_each_seal_is_fresh() -> None:
    private = PrivateKey.generate()
    first = seal_secret(_public_b64(private), SecretStr("token-123"))
    second = seal_secret(_public_b64(private), "token-123")
    assert first != second  # an ephemeral key per box: equal values do not give equal ciphertexts
    for sealed in (first, second):
        assert SealedBox(private).decrypt(base64.b64decode(sealed)) == b"token-123"


def test_another_key_cannot_open_it() -> None:
    sealed = seal_secret(_public_b64(PrivateKey.generate()), "value")
    with pytest.raises(CryptoError):
        SealedBox(PrivateKey.generate()).decrypt(base64.b64decode(sealed))


@pytest.mark.parametrize(
    "key",
    [
        "not base64 at all!",
        # GitHub's OpenAPI example key decodes to 33 bytes: rejected with a clear reason, not a crash.
        "2Sg8iYjAxxmI2LvUXpJjkYrMxURPc8r+dB7TJyvv1234",
        base64.b64encode(b"short").decode(),
    ],
)
def test_bad_public_keys_are_refused_without_echoing_the_value(key: str) -> None:
    with pytest.raises(ValueError) as caught:
        seal_secret(key, "the-secret-value")
    assert "the-secret-value" not in str(caught.value)
