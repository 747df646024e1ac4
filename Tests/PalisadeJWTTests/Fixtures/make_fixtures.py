#!/usr/bin/env python3
"""Makes the JWT test fixtures: keys with the `openssl` command, tokens with PyJWT.

Run from anywhere with the repo's virtualenv (pyjwt and cryptography are pinned in
Tests/interop/requirements.txt):

    .venv/bin/python Tests/PalisadeJWTTests/Fixtures/make_fixtures.py

It rewrites keys/, jwks.json and tokens.json next to this file. The keys are test keys,
made only for these fixtures; never use them for anything else.

Every token has fixed times around NOW, so the Swift tests inject `now: NOW` and never
depend on the clock. A few tokens cannot come out of PyJWT's public API because PyJWT
refuses to make them (an HMAC token keyed with a PEM, a header with duplicate members);
those are made with PyJWT's lower-level PyJWS or with hmac by hand, and say so below.
"""

import base64
import hashlib
import hmac
import json
import pathlib
import subprocess

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm, HMACAlgorithm, OKPAlgorithm, RSAAlgorithm

HERE = pathlib.Path(__file__).resolve().parent
KEYS = HERE / "keys"
NOW = 1_700_000_000


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_keys() -> None:
    KEYS.mkdir(exist_ok=True)
    for old in KEYS.iterdir():
        old.unlink()
    specs = {
        "rsa": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "ec256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "ec384": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        "ed25519": ["-algorithm", "ED25519"],
        "ed448": ["-algorithm", "ED448"],
    }
    for name, spec in specs.items():
        for variant in (name, f"{name}-other"):
            openssl("genpkey", *spec, "-out", str(KEYS / f"{variant}.pem"))
            openssl("pkey", "-in", str(KEYS / f"{variant}.pem"), "-pubout", "-out", str(KEYS / f"{variant}.pub.pem"))
    # Other PEM shapes of the RSA key: PKCS#1 public key, and a self-signed certificate.
    openssl("rsa", "-in", str(KEYS / "rsa.pem"), "-RSAPublicKey_out", "-out", str(KEYS / "rsa.pkcs1.pub.pem"))
    openssl("req", "-x509", "-new", "-key", str(KEYS / "rsa.pem"), "-subj", "/CN=palisade-jwt-test",
            "-days", "36500", "-out", str(KEYS / "rsa.cert.pem"))
    # Too short to be accepted (RFC 7518 §3.3 wants 2048 bits).
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", str(KEYS / "rsa1024.pem"))
    openssl("pkey", "-in", str(KEYS / "rsa1024.pem"), "-pubout", "-out", str(KEYS / "rsa1024.pub.pem"))
    # Well-formed but not a signature key: must be skipped in a JWKS.
    openssl("genpkey", "-algorithm", "X25519", "-out", str(KEYS / "x25519.pem"))
    # HMAC secrets: 32 random bytes as hex text (what a PALISADE_JWT_SECRET looks like).
    for name in ("hmac", "hmac-other"):
        secret = subprocess.run(["openssl", "rand", "-hex", "32"], check=True, capture_output=True, text=True).stdout.strip()
        (KEYS / f"{name}.secret").write_text(secret)


def read(name: str) -> bytes:
    return (KEYS / name).read_bytes()


def private(name: str):
    return serialization.load_pem_private_key(read(name), password=None)


def make_jwks() -> dict:
    keys = []
    for kid, algorithm, pem in (
        ("rsa-1", RSAAlgorithm, "rsa.pub.pem"),
        ("ec256-1", ECAlgorithm, "ec256.pub.pem"),
        ("ec384-1", ECAlgorithm, "ec384.pub.pem"),
        ("ed25519-1", OKPAlgorithm, "ed25519.pub.pem"),
        ("ed448-1", OKPAlgorithm, "ed448.pub.pem"),
    ):
        jwk = algorithm.to_jwk(serialization.load_pem_public_key(read(pem)), as_dict=True)
        keys.append({"kid": kid, **jwk})
    keys.append({"kid": "hmac-1", **HMACAlgorithm.to_jwk(read("hmac.secret"), as_dict=True)})
    # Entries a verifier must pass over: an encryption key and a key-agreement curve.
    enc = RSAAlgorithm.to_jwk(serialization.load_pem_public_key(read("rsa-other.pub.pem")), as_dict=True)
    keys.append({"kid": "rsa-enc", "use": "enc", "alg": "RSA-OAEP", **enc})
    x25519 = private("x25519.pem").public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    keys.append({"kid": "x25519-1", "kty": "OKP", "crv": "X25519", "x": b64url(x25519)})
    return {"keys": keys}


# Each algorithm under test: the key that signs, its public half, the wrong key, and the kid in jwks.json.
CASES = {
    "HS256": ("hmac.secret", "hmac.secret", "hmac-other.secret", "hmac-1"),
    "HS384": ("hmac.secret", "hmac.secret", "hmac-other.secret", "hmac-1"),
    "HS512": ("hmac.secret", "hmac.secret", "hmac-other.secret", "hmac-1"),
    "RS256": ("rsa.pem", "rsa.pub.pem", "rsa-other.pem", "rsa-1"),
    "RS384": ("rsa.pem", "rsa.pub.pem", "rsa-other.pem", "rsa-1"),
    "RS512": ("rsa.pem", "rsa.pub.pem", "rsa-other.pem", "rsa-1"),
    "PS256": ("rsa.pem", "rsa.pub.pem", "rsa-other.pem", "rsa-1"),
    "PS384": ("rsa.pem", "rsa.pub.pem", "rsa-other.pem", "rsa-1"),
    "PS512": ("rsa.pem", "rsa.pub.pem", "rsa-other.pem", "rsa-1"),
    "ES256": ("ec256.pem", "ec256.pub.pem", "ec256-other.pem", "ec256-1"),
    "ES384": ("ec384.pem", "ec384.pub.pem", "ec384-other.pem", "ec384-1"),
    "EdDSA-Ed25519": ("ed25519.pem", "ed25519.pub.pem", "ed25519-other.pem", "ed25519-1"),
    "EdDSA-Ed448": ("ed448.pem", "ed448.pub.pem", "ed448-other.pem", "ed448-1"),
}


def claims(**changes) -> dict:
    base = {"sub": "user-1", "id": "user-1", "role": "user", "jti": "jti-1", "iat": NOW - 60, "exp": NOW + 3600}
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def tamper_payload(token: str) -> str:
    header, payload, signature = token.split(".")
    body = json.loads(unb64url(payload))
    body["role"] = "admin"
    return ".".join([header, b64url(json.dumps(body, separators=(",", ":")).encode()), signature])


def tamper_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    raw = bytearray(unb64url(signature))
    raw[len(raw) // 2] ^= 0x01
    return ".".join([header, payload, b64url(bytes(raw))])


def hand_signed_hs256(header_text: str, payload: dict, secret: bytes) -> str:
    """For headers PyJWT will not write (duplicate members): HMAC-SHA256 by hand."""
    signing_input = b64url(header_text.encode()) + "." + b64url(json.dumps(payload, separators=(",", ":")).encode())
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(mac)


class PEMAsHMACSecret(HMACAlgorithm):
    """PyJWT refuses PEM text as an HMAC secret; skipping that refusal is the attack simulated here."""

    def prepare_key(self, key):
        return key


def make_tokens() -> dict:
    cases = {}
    for name, (signer, public, wrong, kid) in CASES.items():
        alg = name.split("-")[0]
        valid = jwt.encode(claims(), read(signer), algorithm=alg)
        cases[name] = {
            "alg": alg,
            "private_key": signer,
            "public_key": public,
            "kid": kid,
            "tokens": {
                "valid": valid,
                "valid_with_kid": jwt.encode(claims(), read(signer), algorithm=alg, headers={"kid": kid}),
                "tampered_payload": tamper_payload(valid),
                "tampered_signature": tamper_signature(valid),
                "wrong_key": jwt.encode(claims(), read(wrong), algorithm=alg),
            },
        }

    secret = read("hmac.secret")
    rsa_public_pem = read("rsa.pub.pem")
    confusion = jwt.PyJWS()
    confusion.unregister_algorithm("HS256")
    confusion.register_algorithm("HS256", PEMAsHMACSecret(HMACAlgorithm.SHA256))
    payload = json.dumps(claims(), separators=(",", ":")).encode()

    # An ES256 token whose signature is DER (what OpenSSL emits) instead of JWS's raw r||s.
    es_valid = cases["ES256"]["tokens"]["valid"]
    es_input = es_valid.rsplit(".", 1)[0]
    der = private("ec256.pem").sign(es_input.encode(), ec.ECDSA(hashes.SHA256()))

    reference_claims = json.dumps(claims(name="Ada"), separators=(",", ":"))
    special = {
        "alg_none": jwt.encode(claims(), None, algorithm="none"),
        "hs256_keyed_with_rsa_public_pem": confusion.encode(payload, rsa_public_pem, algorithm="HS256"),
        "expired": jwt.encode(claims(iat=NOW - 7200, exp=NOW - 120), secret, algorithm="HS256"),
        "expired_30s_ago": jwt.encode(claims(iat=NOW - 7200, exp=NOW - 30), secret, algorithm="HS256"),
        "expires_now": jwt.encode(claims(exp=NOW), secret, algorithm="HS256"),
        "not_yet_valid": jwt.encode(claims(nbf=NOW + 600), secret, algorithm="HS256"),
        "valid_in_30s": jwt.encode(claims(nbf=NOW + 30), secret, algorithm="HS256"),
        "issued_in_future": jwt.encode(claims(iat=NOW + 600), secret, algorithm="HS256"),
        "no_times": jwt.encode(claims(iat=None, exp=None), secret, algorithm="HS256"),
        "fractional_times": jwt.encode(claims(iat=NOW - 0.5, exp=NOW + 0.5), secret, algorithm="HS256"),
        "exp_is_string": jwt.encode(claims(exp=str(NOW + 3600)), secret, algorithm="HS256"),
        "nbf_is_bool": jwt.encode(claims(nbf=True), secret, algorithm="HS256"),
        "exp_is_huge": jwt.api_jws.encode(b'{"sub":"user-1","exp":1e999}', secret, algorithm="HS256"),
        "unknown_kid": jwt.encode(claims(), private("rsa.pem"), algorithm="RS256", headers={"kid": "rotated-away"}),
        "payload_not_json": jwt.api_jws.encode(b"not json", secret, algorithm="HS256"),
        "payload_is_array": jwt.api_jws.encode(b"[1,2,3]", secret, algorithm="HS256"),
        "payload_duplicate_claim": jwt.api_jws.encode(b'{"sub":"user-1","role":"user","role":"admin"}', secret, algorithm="HS256"),
        "crit_header": jwt.encode(claims(), secret, algorithm="HS256", headers={"crit": ["exp"]}),
        "duplicate_alg_header": hand_signed_hs256('{"alg":"HS256","alg":"none","typ":"JWT"}', claims(), secret),
        "es256_der_signature": es_input + "." + b64url(der),
        "with_audience": jwt.encode(claims(iss="https://issuer.example", aud=["palisade", "other"]), secret, algorithm="HS256"),
    }
    reference = {
        "claims": reference_claims,
        "HS256": jwt.encode(json.loads(reference_claims), secret, algorithm="HS256"),
        "HS512_with_kid": jwt.encode(json.loads(reference_claims), secret, algorithm="HS512", headers={"kid": "hmac-1"}),
        "RS256": jwt.encode(json.loads(reference_claims), private("rsa.pem"), algorithm="RS256"),
        "EdDSA": jwt.encode(json.loads(reference_claims), private("ed25519.pem"), algorithm="EdDSA"),
    }
    return {"now": NOW, "cases": cases, "special": special, "reference": reference}


def main() -> None:
    make_keys()
    (HERE / "jwks.json").write_text(json.dumps(make_jwks(), indent=2) + "\n")
    (HERE / "tokens.json").write_text(json.dumps(make_tokens(), indent=2) + "\n")


if __name__ == "__main__":
    main()
