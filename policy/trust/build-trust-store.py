#!/usr/bin/env python3
"""Rebuilds policy/trust/ from the vendor CA certificates in the project's
vector collection (../shared/vectors/ca, see its PROVENANCE.md), so the
shipped trust store can be audited and regenerated.

Usage: policy/trust/build-trust-store.py VECTORS_CA_DIR

Rules (also written into SOURCES.md):
- Vendors are the manufacturer directories of VECTORS_CA_DIR plus the
  "Owner" of each entry of the loicsikidi tpm-ca-certificates bundles.
  Virtual-TPM CAs (google_gce, alibaba_vtpm) are never imported: the store
  is for physical TPMs.
- Certificates are deduplicated by SHA-256 fingerprint; every source a
  certificate came from is listed.
- A certificate is an anchor (roots/) when it is self-signed, or when the
  curated root bundle lists it as a root, or when it is Infineon's "IFX TPM
  EK Root CA", whose VeriSign TPM root is no longer distributed. All other
  CA certificates are intermediates (intermediates/): they can help build a
  chain but never end one.
- Names and dates are read with the openssl command (some vendor
  certificates are not strict DER, e.g. Nuvoton's unsorted name SETs, and
  stricter parsers refuse them). A DER file may end in one stray newline
  (two AMD files do); the certificate is taken without it.
"""
import base64
import datetime
import hashlib
import os
import re
import subprocess
import sys

VIRTUAL_DIRS = {"google_gce", "alibaba_vtpm", "bundles"}
DIR_VENDOR = {"microsoft_pluton": "microsoft"}
OWNER_VENDOR = {"AMD": "amd", "IFX": "infineon", "INTC": "intel", "MSFT": "microsoft",
                "NSG": "nsing", "NTC": "nuvoton", "STM": "stmicro", "NTZ": "nationz"}
EXTRA_ANCHORS = {"IFX TPM EK Root CA"}  # cross-signed by an undistributed VeriSign root
BUNDLE_ROOTS = "loicsikidi_MIRROR.tpm-ca-certificates.pem"
BUNDLE_INTERMEDIATES = "loicsikidi_MIRROR.tpm-intermediate-ca-certificates.pem"
BUNDLE_SOURCE = "loicsikidi/tpm-ca-certificates : "


def provenance_sources(ca_dir):
    """file name -> 'repo : path' from PROVENANCE.md's CA table."""
    prov = os.path.join(os.path.dirname(os.path.abspath(ca_dir)), "PROVENANCE.md")
    out = {}
    for line in open(prov, encoding="utf-8"):
        m = re.match(r"\| `([^`]+)` \|.*\| `([^`]+)` : `([^`]+)` \|", line)
        if m:
            out[m.group(1)] = f"{m.group(2)} : {m.group(3)}"
    return out


class Cert:
    """One certificate: its DER bytes and what openssl prints about it."""

    def __init__(self, der):
        self.der = der
        out = subprocess.run(
            ["openssl", "x509", "-inform", "DER", "-noout", "-subject", "-issuer",
             "-startdate", "-enddate", "-nameopt", "RFC2253,-esc_msb"],
            input=der, capture_output=True, check=True).stdout.decode()
        f = dict(line.split("=", 1) for line in out.splitlines())
        self.subject, self.issuer = f["subject"], f["issuer"]
        fmt = "%b %d %H:%M:%S %Y GMT"
        self.not_before = datetime.datetime.strptime(" ".join(f["notBefore"].split()), fmt)
        self.not_after = datetime.datetime.strptime(" ".join(f["notAfter"].split()), fmt)
        rdns = re.split(r"(?<!\\)[,+]", self.subject)
        attr = {a.split("=", 1)[0]: a.split("=", 1)[1] for a in rdns if "=" in a}
        # Intel names every CA "www.intel.com"; its OU tells them apart.
        self.cn = attr.get("OU") if attr.get("CN") == "www.intel.com" else attr.get("CN", self.subject)
        self.fingerprint = hashlib.sha256(der).hexdigest()

    def pem(self):
        b64 = base64.b64encode(self.der).decode()
        lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
        return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


PEM_RE = re.compile(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)


def load(path):
    data = open(path, "rb").read()
    blocks = PEM_RE.findall(data)
    if blocks:
        return [Cert(base64.b64decode(b"".join(b.split()))) for b in blocks]
    return [Cert(data[:-1] if data.endswith(b"\n") else data)]


def bundle_entries(path):
    """(owner, certificate) for each entry of a loicsikidi bundle."""
    text = open(path, "rb").read()
    for block in re.split(rb"\n(?=#\n# Certificate:)", text):
        owner = re.search(rb"^# Owner: (\S+)", block, re.M)
        pem = PEM_RE.search(block)
        if owner and pem:
            yield owner.group(1).decode(), Cert(base64.b64decode(b"".join(pem.group(1).split())))


def slug(text):
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:60]


def main(ca_dir, out_dir):
    sources = provenance_sources(ca_dir)
    certs = {}  # fingerprint -> dict

    def add(vendor, cert, source, curated_root):
        fp = cert.fingerprint
        entry = certs.setdefault(fp, {"cert": cert, "vendor": vendor, "sources": [],
                                      "curated_root": False})
        entry["sources"].append(source)
        entry["curated_root"] |= curated_root

    for vendor_dir in sorted(os.listdir(ca_dir)):
        if vendor_dir in VIRTUAL_DIRS:
            continue
        vendor = DIR_VENDOR.get(vendor_dir, vendor_dir)
        for name in sorted(os.listdir(os.path.join(ca_dir, vendor_dir))):
            rel = f"{vendor_dir}/{name}"
            for cert in load(os.path.join(ca_dir, rel)):
                add(vendor, cert, sources.get(rel, rel), False)
    for bundle, curated in ((BUNDLE_ROOTS, True), (BUNDLE_INTERMEDIATES, False)):
        for owner, cert in bundle_entries(os.path.join(ca_dir, "bundles", bundle)):
            vendor = OWNER_VENDOR.get(owner, owner.lower())
            add(vendor, cert, BUNDLE_SOURCE + bundle.split("_", 1)[1], curated)

    rows = []
    used_names = set()
    for fp, e in sorted(certs.items(), key=lambda kv: (kv[1]["vendor"], kv[1]["cert"].cn, kv[0])):
        c = e["cert"]
        self_signed = c.subject == c.issuer
        anchor = self_signed or e["curated_root"] or c.cn in EXTRA_ANCHORS
        role = "roots" if anchor else "intermediates"
        base = f"{slug(c.cn)}-{fp[:8]}.pem"
        rel = f"{e['vendor']}/{role}/{base}"
        assert rel not in used_names
        used_names.add(rel)
        path = os.path.join(out_dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        why = "self-signed" if self_signed else (
            "curated root (issuer not distributed)" if e["curated_root"] or c.cn in EXTRA_ANCHORS
            else "intermediate")
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"# Subject: {c.subject}\n")
            f.write(f"# Issuer: {c.issuer}\n")
            f.write(f"# Validity: {c.not_before:%Y-%m-%d} to {c.not_after:%Y-%m-%d}\n")
            f.write(f"# SHA-256: {fp}\n")
            f.write(f"# Role: {role[:-1] if role == 'roots' else 'intermediate'} ({why})\n")
            for s in sorted(set(e["sources"])):
                f.write(f"# Source: {s}\n")
            f.write(c.pem())
        rows.append((e["vendor"], role, base, c, fp, why, sorted(set(e["sources"]))))

    with open(os.path.join(out_dir, "SOURCES.md"), "w", encoding="utf-8") as f:
        f.write(SOURCES_HEAD.format(date=datetime.date.today().isoformat()))
        vendor = None
        for v, role, base, c, fp, why, srcs in rows:
            if v != vendor:
                vendor = v
                f.write(f"\n## {v}\n\n| file | subject | role | expires | SHA-256 | source |\n|---|---|---|---|---|---|\n")
            f.write(f"| `{role}/{base}` | {c.subject} | {why} | "
                    f"{c.not_after:%Y-%m-%d} | `{fp[:16]}…` | {'; '.join('`'+s+'`' for s in srcs)} |\n")


SOURCES_HEAD = """# Default EK trust store: sources

Generated by `build-trust-store.py` from the vendor CA certificates of the
project's vector collection (`../shared/vectors/ca`, whose PROVENANCE.md
records the upstream repository and commit of every file). Every
certificate is a byte-identical copy; each PEM file starts with comment
lines giving its subject, issuer, validity, SHA-256 fingerprint, role and
sources. Regenerated {date}.

Layout: `<vendor>/roots/` holds trust anchors, `<vendor>/intermediates/`
holds CA certificates that may help build a chain but never end one
(`policy/default.json` lists both kinds of directory per vendor).

Rules:
- Anchors: self-signed roots; CAs that the curated tpm-ca-certificates root
  bundle lists as roots although they are not self-signed (their issuer is
  not distributed: AMD Pluton Global Factory ICA, STM TPM EK Root CA, STM TPM
  ECC Root CA 01); and Infineon's "IFX TPM EK Root CA", cross-signed by a
  VeriSign TPM root that is no longer published.
- Everything else is an intermediate. Certificates whose issuer is in no
  directory here stay intermediates (an operator adds the missing root to
  use them).
- Never imported: virtual-TPM CAs (Google Compute Engine, Alibaba Cloud).
  The virtual-TPM rules of the policy refuse those even when an operator
  adds them.
- Expiry: some intermediates here have expired; EK chains are checked
  without expiry by default (see common/ekcert_chain.h).
"""

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1], os.path.dirname(os.path.abspath(__file__)))
