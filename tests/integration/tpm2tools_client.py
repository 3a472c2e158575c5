#!/usr/bin/env python3
"""Drives attestd's two-call protocol with tpm2-tools as the TPM side.

tpm2-tools is the second, independent client of DESIGN.md: it makes the EK,
the AK, activates the credential and quotes, and this script only moves
bytes between it and attestd. Options that tamper with the evidence let the
integration tests play each attack and check attestd's refusal.

Prints one JSON object: {"challenge": {"status", "body"}, "quote": {...}}
(and "replay" with --replay). Exit 0 when it ran, whatever attestd said.
"""
import argparse
import base64
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

TAMPERS = [
    "none", "wrong-secret", "wrong-nonce", "pcr-value", "event-log", "pcr-selection",
    "extra-pcr", "ek-pub", "ak-unrestricted", "bad-base64", "unknown-field", "quote-magic",
]


def b64(data):
    return base64.b64encode(data).decode()


def run(args, tcti, **kw):
    env = dict(os.environ, TPM2TOOLS_TCTI=tcti)
    return subprocess.run(args, env=env, check=True, capture_output=True, **kw)


def flush(tcti):
    for kind in ("-t", "-s", "-l"):
        run(["tpm2_flushcontext", kind], tcti)


def post(url, body):
    data = json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return {"status": r.status, "body": json.loads(r.read() or b"null")}
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text.decode(errors="replace")
        return {"status": e.code, "body": parsed}


def der_of_pem(path):
    out = subprocess.run(["openssl", "x509", "-in", path, "-outform", "DER"], check=True,
                         capture_output=True)
    return out.stdout


def pcr_values(tcti, selection):
    out = run(["tpm2_pcrread", selection], tcti).stdout.decode()
    bank = selection.split(":")[0]
    values = {}
    for m in re.finditer(r"^\s+(\d+)\s*:\s*0x([0-9A-Fa-f]+)", out, re.M):
        values[m.group(1)] = m.group(2).lower()
    return {bank: values}


def make_keys(d, tcti, ek_alg, ak_alg, unrestricted):
    run(["tpm2_createek", "-c", f"{d}/ek.ctx", "-G", ek_alg, "-u", f"{d}/ek.pub"], tcti)
    if unrestricted:
        # A plain signing key under the EK (no "restricted"): it would sign
        # anything, so it is no AK. The EK's policy needs PolicySecret(E).
        tmpl = "ecc256:ecdsa-sha256" if ak_alg == "ecc" else "rsa2048:rsassa-sha256"
        attrs = "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign"
        for step in (["tpm2_create", "-C", f"{d}/ek.ctx", "-G", tmpl, "-a", attrs,
                      "-u", f"{d}/ak.pub", "-r", f"{d}/ak.priv"],
                     ["tpm2_load", "-C", f"{d}/ek.ctx", "-u", f"{d}/ak.pub",
                      "-r", f"{d}/ak.priv", "-c", f"{d}/ak.ctx"]):
            run(["tpm2_startauthsession", "--policy-session", "-S", f"{d}/s.ctx"], tcti)
            run(["tpm2_policysecret", "-S", f"{d}/s.ctx", "-c", "e"], tcti)
            run(step + ["-P", f"session:{d}/s.ctx"], tcti)
            run(["tpm2_flushcontext", f"{d}/s.ctx"], tcti)
            flush(tcti)  # no resource manager: free the slots tpm2-tools left
    else:
        alg = ["-G", "ecc", "-s", "ecdsa"] if ak_alg == "ecc" else ["-G", "rsa", "-s", "rsassa"]
        run(["tpm2_createak", "-C", f"{d}/ek.ctx", "-c", f"{d}/ak.ctx", *alg, "-g", "sha256",
             "-u", f"{d}/ak.pub", "-n", f"{d}/ak.name"], tcti)
    flush(tcti)


def activate(d, tcti, blob, secret_enc):
    with open(f"{d}/cred.bin", "wb") as f:
        f.write(struct.pack(">II", 0xBADCC0DE, 1) + blob + secret_enc)
    run(["tpm2_startauthsession", "--policy-session", "-S", f"{d}/s.ctx"], tcti)
    run(["tpm2_policysecret", "-S", f"{d}/s.ctx", "-c", "e"], tcti)
    run(["tpm2_activatecredential", "-c", f"{d}/ak.ctx", "-C", f"{d}/ek.ctx", "-i",
         f"{d}/cred.bin", "-o", f"{d}/secret.bin", "-P", f"session:{d}/s.ctx"], tcti)
    run(["tpm2_flushcontext", f"{d}/s.ctx"], tcti)
    flush(tcti)
    with open(f"{d}/secret.bin", "rb") as f:
        return f.read()


def quote(d, tcti, nonce, selection):
    run(["tpm2_quote", "-c", f"{d}/ak.ctx", "-l", selection, "-q", nonce.hex(), "-m",
         f"{d}/quote.msg", "-s", f"{d}/quote.sig", "-g", "sha256"], tcti)
    flush(tcti)
    with open(f"{d}/quote.msg", "rb") as f:
        msg = f.read()
    with open(f"{d}/quote.sig", "rb") as f:
        sig = f.read()
    return msg, sig


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--tcti", default=os.environ.get("TPM2TOOLS_TCTI"))
    ap.add_argument("--ek-cert", required=True, help="DER EK certificate")
    ap.add_argument("--ek-chain", action="append", default=[], help="PEM intermediate")
    ap.add_argument("--ek-alg", default="rsa", choices=["rsa", "ecc"])
    ap.add_argument("--ak-alg", default="ecc", choices=["rsa", "ecc"])
    ap.add_argument("--event-log")
    ap.add_argument("--hostname", default="tpm2tools-host")
    ap.add_argument("--tamper", default="none", choices=TAMPERS)
    ap.add_argument("--ak-tcti", help="make the AK in this other TPM (AK not in the EK's TPM)")
    ap.add_argument("--ek-pub-tcti", help="send the EK public of this other TPM")
    ap.add_argument("--replay", action="store_true", help="send the quote call twice")
    ap.add_argument("--wait", type=float, default=0, help="seconds between the two calls")
    ap.add_argument("--challenge-only", action="store_true")
    ap.add_argument("--save-quote", help="also write the quote call's body to this file")
    args = ap.parse_args()

    result = {}
    with tempfile.TemporaryDirectory(prefix="tpm2tools-client-") as d:
        ak_tcti = args.ak_tcti or args.tcti
        make_keys(d, args.tcti, args.ek_alg, args.ak_alg, args.tamper == "ak-unrestricted")
        if args.ak_tcti:
            # The EK from this TPM, the AK (and everything after) from another.
            os.makedirs(f"{d}/other")
            make_keys(f"{d}/other", ak_tcti, args.ek_alg, args.ak_alg, False)
            os.replace(f"{d}/other/ak.pub", f"{d}/ak.pub")
            os.replace(f"{d}/other/ak.ctx", f"{d}/ak.ctx")
        if args.ek_pub_tcti:
            os.makedirs(f"{d}/other", exist_ok=True)
            run(["tpm2_createek", "-c", f"{d}/other/ek.ctx", "-G", args.ek_alg, "-u",
                 f"{d}/other/ek.pub"], args.ek_pub_tcti)
            flush(args.ek_pub_tcti)
            os.replace(f"{d}/other/ek.pub", f"{d}/ek.pub")
        with open(args.ek_cert, "rb") as f:
            ek_cert = f.read()
        body = {
            "ek_cert": b64(ek_cert),
            "ek_chain": [b64(der_of_pem(p)) for p in args.ek_chain],
            "ek_pub": b64(open(f"{d}/ek.pub", "rb").read()),
            "ak_pub": b64(open(f"{d}/ak.pub", "rb").read()),
            "host": {"hostname": args.hostname, "dmi": {"sys_vendor": "tpm2-tools test"}},
        }
        result["challenge"] = post(args.url + "/v1/attest/challenge", body)
        ch = result["challenge"]
        if ch["status"] != 200 or args.challenge_only:
            print(json.dumps(result))
            return 0
        c = ch["body"]
        try:
            secret = activate(d, ak_tcti, base64.b64decode(c["credential_blob"]),
                              base64.b64decode(c["encrypted_secret"]))
        except subprocess.CalledProcessError as e:
            # The credential cannot be activated by a TPM that does not hold
            # both keys: answer with what such a client would have.
            result["activation_failed"] = e.stderr.decode(errors="replace")[-300:]
            secret = os.urandom(32)
        nonce = base64.b64decode(c["nonce"])
        selection = c["pcr_selection"]
        if args.tamper == "wrong-secret":
            secret = bytes(b ^ 0xFF for b in secret)
        if args.tamper == "wrong-nonce":
            nonce = bytes(reversed(nonce))
        quote_sel = selection
        if args.tamper == "pcr-selection":
            quote_sel = selection.split(":")[0] + ":0,1,2"
        msg, sig = quote(d, ak_tcti, nonce, quote_sel)
        if args.tamper == "quote-magic":
            msg = b"\x00" + msg[1:]
        pcrs = pcr_values(ak_tcti, quote_sel)
        bank = selection.split(":")[0]
        if args.tamper == "pcr-value":
            pcrs[bank]["7"] = "00" * (len(pcrs[bank]["7"]) // 2)
        if args.tamper == "extra-pcr":
            pcrs[bank]["23"] = "00" * (len(pcrs[bank]["0"]) // 2)
        qbody = {
            "session": c["session"],
            "secret": b64(secret),
            "quote": b64(msg),
            "signature": b64(sig),
            "pcrs": pcrs,
        }
        if args.event_log:
            log = bytearray(open(args.event_log, "rb").read())
            if args.tamper == "event-log":
                # The last event's SHA-256 digest (before its 4-byte size and
                # 40-byte data): the log no longer explains PCR 5.
                log[-45] ^= 0x01
            qbody["event_log"] = b64(bytes(log))
        if args.tamper == "unknown-field":
            qbody["pcrs_extra"] = {}
        if args.tamper == "bad-base64":
            qbody["quote"] = qbody["quote"][:-1] + "!"
        if args.wait:
            time.sleep(args.wait)
        if args.save_quote:
            with open(args.save_quote, "w") as f:
                json.dump(qbody, f)
        result["quote"] = post(args.url + "/v1/attest/quote", qbody)
        if args.replay:
            result["replay"] = post(args.url + "/v1/attest/quote", qbody)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
