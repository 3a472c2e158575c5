#!/usr/bin/env python3
"""Verifies an ES256 JWT against a JWKS with the openssl command line, the
way an offline gateway would: picks the key by `kid`, rebuilds the P-256
public key from x and y, converts the raw r||s signature to DER and runs
`openssl dgst -sha256 -verify`. Prints the claims; exit 1 if it fails.

usage: jwt_verify_openssl.py TOKEN_FILE JWKS_FILE
"""
import base64
import json
import subprocess
import sys
import tempfile


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def der_int(b):
    b = b.lstrip(b"\0")
    if not b or b[0] & 0x80:
        b = b"\0" + b
    return b"\x02" + bytes([len(b)]) + b


def main():
    token = open(sys.argv[1]).read().strip()
    jwks = json.load(open(sys.argv[2]))
    h64, c64, s64 = token.split(".")
    header = json.loads(b64url(h64))
    if header.get("alg") != "ES256":
        sys.exit("alg is not ES256")
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    # SubjectPublicKeyInfo for id-ecPublicKey / prime256v1, then the point.
    spki = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200") + b"\x04"
    spki += b64url(key["x"]) + b64url(key["y"])
    raw = b64url(s64)
    body = der_int(raw[:32]) + der_int(raw[32:])
    sig = b"\x30" + bytes([len(body)]) + body
    with tempfile.TemporaryDirectory() as d:
        open(f"{d}/pub.der", "wb").write(spki)
        open(f"{d}/sig.der", "wb").write(sig)
        open(f"{d}/input", "wb").write(f"{h64}.{c64}".encode())
        r = subprocess.run(["openssl", "dgst", "-sha256", "-keyform", "DER", "-verify",
                            f"{d}/pub.der", "-signature", f"{d}/sig.der", f"{d}/input"],
                           capture_output=True, text=True)
    if r.returncode != 0 or "Verified OK" not in r.stdout:
        sys.exit("openssl: " + (r.stdout + r.stderr).strip())
    print(json.dumps(json.loads(b64url(c64))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
