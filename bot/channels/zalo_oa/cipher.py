"""Tokens sealed for the database with keys derived from the server secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


class TokenCipher:
    """Seals tokens for the database: encrypted and authenticated with keys derived from the
    server secret, using the standard library only (HMAC-SHA256 as the keystream generator in
    counter mode, then an HMAC-SHA256 tag over nonce and ciphertext: encrypt-then-MAC).

    A dump of the database then does not let anyone write as the OA. Changing SECRET_KEY makes
    the stored pair unreadable: the channel then seeds a new one from the settings.
    """

    VERSION = "v1"

    def __init__(self, secret: bytes) -> None:
        self._enc = hmac.new(secret, b"motcua/zalo-tokens/encrypt", hashlib.sha256).digest()
        self._mac = hmac.new(secret, b"motcua/zalo-tokens/mac", hashlib.sha256).digest()

    def _stream(self, nonce: bytes, size: int) -> bytes:
        blocks = (size + 31) // 32
        return b"".join(
            hmac.new(self._enc, nonce + i.to_bytes(8, "big"), hashlib.sha256).digest()
            for i in range(blocks)
        )[:size]

    def seal(self, plain: str) -> str:
        data = plain.encode()
        nonce = secrets.token_bytes(16)
        cipher = bytes(a ^ b for a, b in zip(data, self._stream(nonce, len(data)), strict=True))
        tag = hmac.new(self._mac, self.VERSION.encode() + nonce + cipher, hashlib.sha256).digest()
        return f"{self.VERSION}.{base64.urlsafe_b64encode(nonce + cipher + tag).decode()}"

    def open(self, sealed: str) -> str:
        """The plain token; ValueError when the value was not sealed with this secret."""
        version, _, encoded = sealed.partition(".")
        if version != self.VERSION:
            raise ValueError("unknown token format")
        try:
            raw = base64.urlsafe_b64decode(encoded.encode())
        except ValueError as exc:
            raise ValueError("corrupt token") from exc
        if len(raw) < 48:
            raise ValueError("corrupt token")
        nonce, cipher, tag = raw[:16], raw[16:-32], raw[-32:]
        expected = hmac.new(
            self._mac, self.VERSION.encode() + nonce + cipher, hashlib.sha256
        ).digest()
        if not hmac.compare_digest(tag, expected):
            raise ValueError("token sealed with another key")
        plain = bytes(a ^ b for a, b in zip(cipher, self._stream(nonce, len(cipher)), strict=True))
        return plain.decode()
