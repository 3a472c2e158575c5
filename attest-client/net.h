/* HTTP to the verifier through libcurl, the only file that includes curl.h:
 * TLS with certificate and host name verification against a CA bundle,
 * plain http:// only where the configuration asks for it, bounded answers,
 * no redirects. One connection is kept for both calls of an attestation. */
#ifndef ATTEST_CLIENT_NET_H
#define ATTEST_CLIENT_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

/* The verifier's answers are a few KiB (a token, a sealed session); more
 * than this is not attestd talking. */
#define NET_MAX_RESPONSE ((size_t)256 * 1024)

/* Connecting takes at most this long, or the request timeout if shorter:
 * an unreachable verifier is retried rather than waited for. */
#define NET_CONNECT_TIMEOUT_S 10

struct net_options {
	const char *url;       /* base URL: "https://attestd.example:8443" */
	const char *ca_bundle; /* PEM file; NULL or "" for the system's store */
	bool insecure_http;    /* plain http:// to a host that is not loopback */
	unsigned timeout_s;    /* whole request */
};

/* ERR_OK when url is https://, or http:// with insecure_http or a loopback
 * host (127.0.0.0/8, ::1, localhost); ERR_BAD_REQUEST saying why not. */
err_t net_check_url(const char *url, bool insecure_http) WARN_UNUSED;

struct net;

err_t net_open(const struct net_options *opt, struct net **out) WARN_UNUSED;
void net_close(struct net *n);

struct net_response {
	long status;
	uint8_t *body; /* malloc'd, NUL-terminated one past len */
	size_t len;
};

/* POSTs body as JSON to the base URL + path ("/v1/attest/challenge").
 * ERR_OK when an HTTP answer came, whatever its status. ERR_UNAVAILABLE
 * when none came and trying again may help (refused, reset, timeout, name
 * resolution); ERR_INTERNAL when it cannot (TLS verification failed, an
 * answer over NET_MAX_RESPONSE, a local error). */
err_t net_post_json(struct net *n, const char *path, const json_t *body,
		    struct net_response *out) WARN_UNUSED;

void net_response_free(struct net_response *r);

#endif
