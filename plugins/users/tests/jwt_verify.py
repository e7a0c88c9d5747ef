#!/usr/bin/env python3
"""Independent HS256 JWT verifier for the end-to-end tests (standard library only).

Usage: jwt_verify.py TOKEN SECRET

Checks that the header's alg is exactly "HS256", that the signature is the HMAC-SHA256 of
"header.payload" under SECRET (compared in constant time), and that exp lies in the future.
On success prints the payload as JSON and exits 0; otherwise prints the reason to stderr and
exits 1.
"""

import base64
import binascii
import hashlib
import hmac
import json
import sys
import time


class Invalid(Exception):
    pass


def b64url_decode(segment: str, what: str) -> bytes:
    if not segment or any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in segment):
        raise Invalid(f"{what} is not unpadded base64url")
    if len(segment) % 4 == 1:
        raise Invalid(f"{what} has an impossible base64url length")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as e:
        raise Invalid(f"{what} is not valid base64url: {e}") from None


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def json_object(raw: bytes, what: str) -> dict:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise Invalid(f"{what} is not UTF-8 JSON: {e}") from None
    if not isinstance(value, dict):
        raise Invalid(f"{what} is not a JSON object")
    return value


def verify(token: str, secret: str) -> dict:
    parts = token.split(".")
    if len(parts) != 3:
        raise Invalid(f"expected 3 dot-separated segments, got {len(parts)}")
    header_b64, payload_b64, signature_b64 = parts

    header = json_object(b64url_decode(header_b64, "header"), "header")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg != "HS256":
        raise Invalid(f"header alg is {alg!r}, not 'HS256'")

    signature = b64url_decode(signature_b64, "signature")
    # A canonical encoding only: no stray bits in the last character.
    if b64url_encode(signature) != signature_b64:
        raise Invalid("signature is not canonically encoded")
    expected = hmac.new(secret.encode("utf-8"), f"{header_b64}.{payload_b64}".encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise Invalid("signature does not match")

    payload = json_object(b64url_decode(payload_b64, "payload"), "payload")
    exp = payload.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        raise Invalid(f"exp is missing or not a number: {exp!r}")
    if not exp > time.time():
        raise Invalid(f"token expired at {exp}")
    return payload


def main(argv: list) -> int:
    if len(argv) != 3:
        print("usage: jwt_verify.py TOKEN SECRET", file=sys.stderr)
        return 1
    try:
        payload = verify(argv[1], argv[2])
    except Invalid as e:
        print(f"invalid token: {e}", file=sys.stderr)
        return 1
    print(json.dumps(payload, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
