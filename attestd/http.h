/* The HTTP server: libmicrohttpd behind a small interface (this is the only
 * part of the project that sees microhttpd.h). It bounds URL, headers and
 * body, collects the body, calls one dispatch function per request and
 * sends what it filled in. */
#ifndef ATTEST_HTTP_H
#define ATTEST_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

/* Per-connection memory for URL and headers; larger requests get 431/414
 * from libmicrohttpd itself. Our URLs and headers are short; a token in
 * Authorization is < 1 KiB. */
#define HTTP_MAX_HEADER_MEMORY (64 * 1024)
/* Idle connections are dropped after this many seconds. */
#define HTTP_CONNECTION_TIMEOUT_S 30
/* Simultaneous connections, bounding memory (each may hold a max_body). */
#define HTTP_MAX_CONNECTIONS	  1024
#define HTTP_MAX_RESPONSE_HEADERS 4

struct http_request;

const char *http_method(const struct http_request *r);
const char *http_path(const struct http_request *r);
/* NULL when absent. */
const char *http_header(const struct http_request *r, const char *name);
const char *http_query(const struct http_request *r, const char *name);
const uint8_t *http_body(const struct http_request *r, size_t *len);
/* The body exceeded max_body and was discarded: dispatch answers 413. */
bool http_body_too_large(const struct http_request *r);

struct http_header_field {
	const char *name;
	char value[160];
};

struct http_response {
	unsigned status;
	const char *content_type; /* static string */
	char *body;		  /* malloc'd, freed by the server */
	size_t body_len;
	struct http_header_field headers[HTTP_MAX_RESPONSE_HEADERS];
	size_t nheaders;
};

/* Helpers that fill a response. Each replaces any body set before. */
void http_reply_json(struct http_response *resp, unsigned status, json_t *body /* stolen */);
void http_reply_error(struct http_response *resp, err_t e); /* detail from err_detail() */
void http_reply_empty(struct http_response *resp, unsigned status);
void http_reply_text(struct http_response *resp, unsigned status, const char *content_type,
		     char *body /* stolen */, size_t len);
void http_add_header(struct http_response *resp, const char *name, const char *value);

typedef void (*http_dispatch_fn)(void *app, struct http_request *req, struct http_response *resp);

struct http_server_config {
	const char *addr;
	uint16_t port;
	const char *tls_cert_pem; /* NULL: plain HTTP */
	const char *tls_key_pem;
	unsigned threads;
	size_t max_body;
	http_dispatch_fn dispatch;
	void *app;
};

struct http_server;

/* Starts listening; a clear error (address in use, bad TLS key) on failure. */
err_t http_start(const struct http_server_config *cfg, struct http_server **out) WARN_UNUSED;

/* Stops accepting, lets requests in progress finish (up to grace_s seconds),
 * then stops. */
void http_stop(struct http_server *s, unsigned grace_s);

/* The port actually bound (useful with port 0). */
uint16_t http_port(const struct http_server *s);

#endif
