/* Sealed challenge sessions: the server's state between the challenge and
 * the quote call, encrypted and authenticated (AES-256-GCM) under a server
 * key and handed to the client, so no instance holds per-session memory. */
#ifndef ATTEST_SESSION_H
#define ATTEST_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SESSION_KEY_LEN	   32
#define SESSION_ID_LEN	   16
#define SESSION_SECRET_LEN 32 /* DESIGN.md: the credential secret is 32 random bytes */
#define SESSION_NONCE_LEN  32
/* A TPM2B_PUBLIC of a supported AK is < 400 bytes (RSA-2048 modulus 256 B
 * plus template); 1 KiB leaves room without letting sessions grow. */
#define SESSION_MAX_AK_PUB 1024
/* DESIGN.md: host metadata is at most 4 KiB. */
#define SESSION_MAX_HOST 4096
/* Longest sealed session string we accept: header + fields (host metadata
 * and AK public at their caps), base64url. */
#define SESSION_MAX_SEALED 8192

struct session {
	uint8_t id[SESSION_ID_LEN];
	int64_t expires_at; /* Unix seconds */
	uint8_t secret[SESSION_SECRET_LEN];
	uint8_t nonce[SESSION_NONCE_LEN];
	char pcr_selection[128];	    /* "sha256:0,1,2,3,4,5,6,7" */
	char machine_id[80];		    /* "sha256:<64 hex>" */
	char ek_manufacturer[136];	    /* from the EK certificate's SAN, for the record */
	char ek_issuer[256];		    /* EK certificate issuer DN, for the record */
	char host[SESSION_MAX_HOST + 1];    /* client's host metadata (JSON), for the record */
	uint8_t ak_pub[SESSION_MAX_AK_PUB]; /* TPM2B_PUBLIC as the client sent it */
	size_t ak_pub_len;
};

struct session_key {
	uint8_t key[SESSION_KEY_LEN];
};

/* Loads state_dir/session.key, creating it (0600, random) on first start.
 * Several instances sharing the state dir share the key. */
err_t session_key_load(const char *state_dir, struct session_key *out) WARN_UNUSED;

/* Fills id, secret and nonce with fresh random bytes. */
err_t session_randomize(struct session *s) WARN_UNUSED;

/* Seals s into a NUL-terminated base64url string (malloc'd). */
err_t session_seal(const struct session_key *k, const struct session *s, char **out) WARN_UNUSED;

/* Opens a sealed string: ERR_SESSION_INVALID if it is not one of ours
 * (forged, truncated, other key), ERR_SESSION_EXPIRED if now >= expiry.
 * The caller checks single use against the store. */
err_t session_open(const struct session_key *k, const char *sealed, size_t sealed_len, int64_t now,
		   struct session *out) WARN_UNUSED;

/* Wipes the secret material in s. */
void session_wipe(struct session *s);

#endif
