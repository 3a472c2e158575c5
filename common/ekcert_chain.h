/* EK certificate chains: a trust store (anchors, intermediates, CRLs) built
 * once when a policy loads, and the verification of an EK certificate
 * against it, with intermediates the client sent.
 *
 * Trust model, and why:
 * - Anchors are exactly the certificates an operator puts in an anchors
 *   file or directory, self-signed or not. Some manufacturers' top CAs are
 *   cross-certified by roots nobody distributes any more (Infineon's "IFX
 *   TPM EK Root CA" by a VeriSign TPM root, AMD's Pluton factory CA by "AMD
 *   Root CA R4"), so requiring a self-signed anchor would refuse real TPMs.
 *   The store holds anchors only and verification uses
 *   X509_V_FLAG_PARTIAL_CHAIN, which in OpenSSL means "any certificate in
 *   the trusted store ends the chain": with nothing but anchors in that
 *   store, that is exactly "configured anchors are trusted".
 * - Intermediates (from the policy's directories and from the client) are
 *   only ever candidates for building a path: they never end a chain, so a
 *   root sent by a client is ignored (self-signed certificates from the
 *   client are dropped before the search).
 * - Anchors must be CA certificates, so a leaf can never vouch for itself.
 * - Several CAs with one name but different keys (Google's two "EK/AK CA
 *   Intermediate") are told apart by OpenSSL by key identifier and
 *   signature; names are compared in OpenSSL's canonical form (case and
 *   insignificant spaces folded, RFC 5280 7.1), and signatures are checked
 *   over the bytes as received, so non-DER-ordered names verify.
 * - Time: an EK is a key burnt into the chip for its life. The TCG EK
 *   Credential Profile lets EK certificates outlive their notAfter, and
 *   keylime and go-attestation do not check it; several vendor
 *   intermediates in the field have expired while their TPMs are in use.
 *   By default EKCERT_EXPIRED_ALLOW accepts an expired certificate anywhere
 *   in the chain (a certificate not yet valid is still refused: it is a
 *   clock or issuance error, never the normal life of a TPM). Revocation is
 *   the way to withdraw trust. EKCERT_EXPIRED_DENY checks every date.
 * - CRLs are checked where configured: a certificate whose issuer has a
 *   configured CRL is checked against it (revoked: ERR_EK_REVOKED); an
 *   issuer without one is not a failure (vendors publish few CRLs). A CRL
 *   past its nextUpdate is still used (it still lists what it lists).
 *
 * A built trust store is read-only and may be used by many threads at once.
 */
#ifndef ATTEST_EKCERT_CHAIN_H
#define ATTEST_EKCERT_CHAIN_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

#include "ekcert.h"
#include "err.h"

/* Longest chain built, leaf and anchor included. Real EK chains have 2 to
 * 4 certificates; the cap bounds the work a hostile chain can cause. */
#define EKCERT_MAX_CHAIN_DEPTH 6

/* Most intermediates taken from a client: two more than the deepest real
 * chain needs; more only cost path-building work. */
#define EKCERT_MAX_SENT_CHAIN 8

/* Largest trust-store file (a bundle of every vendor CA is ~350 KiB) and
 * most certificates in one trust store (the complete vendor set is a few
 * hundred; Microsoft's TPM bundle has ~1,600). */
#define EKCERT_TRUST_MAX_FILE  (4 * 1024 * 1024)
#define EKCERT_TRUST_MAX_CERTS 8192

enum ekcert_expired { EKCERT_EXPIRED_ALLOW, EKCERT_EXPIRED_DENY };

struct ekcert_trust;

err_t ekcert_trust_new(enum ekcert_expired expired, struct ekcert_trust **out) WARN_UNUSED;
void ekcert_trust_free(struct ekcert_trust *t);

/* Each takes a file (PEM with any number of certificates or CRLs, or one
 * DER) or a directory (its *.pem, *.crt, *.cer, *.der, *.crl files, not
 * recursive). A path that does not exist, an unreadable file, a file with
 * nothing in it, or a non-CA anchor: ERR_BAD_REQUEST naming the path. */
err_t ekcert_trust_add_anchors(struct ekcert_trust *t, const char *path) WARN_UNUSED;
err_t ekcert_trust_add_intermediates(struct ekcert_trust *t, const char *path) WARN_UNUSED;
err_t ekcert_trust_add_crls(struct ekcert_trust *t, const char *path) WARN_UNUSED;

size_t ekcert_trust_anchor_count(const struct ekcert_trust *t);
size_t ekcert_trust_intermediate_count(const struct ekcert_trust *t);

/* Every certificate in a file, as ekcert_trust_add_* reads it (also for
 * attestctl's INTERMEDIATE arguments). *out: sk_X509_pop_free(*out,
 * X509_free). */
err_t ekcert_load_certs(const char *path, STACK_OF(X509) * *out) WARN_UNUSED;

/* Verifies leaf up to an anchor, using the store's intermediates and `sent`
 * (may be NULL; any order; self-signed ones ignored; at most
 * EKCERT_MAX_SENT_CHAIN). ERR_EK_CHAIN_UNTRUSTED or ERR_EK_REVOKED with a
 * detail naming the failing certificate. On success, when chain is not
 * NULL, *chain is the path, leaf first, anchor last (sk_X509_pop_free). */
err_t ekcert_verify_chain(const struct ekcert_trust *t, X509 *leaf, STACK_OF(X509) * sent,
			  STACK_OF(X509) * *chain) WARN_UNUSED;

#endif
