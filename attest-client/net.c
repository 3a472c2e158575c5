/* libcurl glue. */
#include "net.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "log.h"

/* "https://" + host + port + path prefix; paths are short constants. */
#define NET_URL_MAX 4352

struct net {
	CURL *curl;
	struct curl_slist *headers;
	char base[NET_URL_MAX];
	char errbuf[CURL_ERROR_SIZE];
};

static bool host_is_loopback(const char *host)
{
	struct in_addr v4;
	struct in6_addr v6;
	char bare[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	/* curl gives IPv6 hosts in brackets */
	if (n >= 2 && n < sizeof(bare) && host[0] == '[' && host[n - 1] == ']') {
		memcpy(bare, host + 1, n - 2);
		bare[n - 2] = '\0';
		return inet_pton(AF_INET6, bare, &v6) == 1 &&
		       memcmp(&v6, &in6addr_loopback, sizeof(v6)) == 0;
	}
	return false;
}

err_t net_check_url(const char *url, bool insecure_http)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	err_t rc = ERR_OK;

	if (u == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	if (strlen(url) >= NET_URL_MAX - 64 ||
	    curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		rc = err_fail(ERR_BAD_REQUEST, "url: '%s' is not a URL", url);
		goto out;
	}
	if (strcmp(scheme, "https") == 0)
		goto out;
	if (strcmp(scheme, "http") != 0)
		rc = err_fail(ERR_BAD_REQUEST, "url: scheme %s; expected https", scheme);
	else if (!insecure_http && !host_is_loopback(host))
		rc = err_fail(ERR_BAD_REQUEST,
			      "url: plain http to %s would send the evidence and "
			      "receive the token unprotected; use https, or "
			      "--insecure-http if the network is trusted",
			      host);
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

void net_close(struct net *n)
{
	if (n == NULL)
		return;
	curl_slist_free_all(n->headers);
	curl_easy_cleanup(n->curl);
	free(n);
	curl_global_cleanup();
}

err_t net_open(const struct net_options *opt, struct net **out)
{
	struct net *n;
	bool https = strncmp(opt->url, "https:", 6) == 0;
	size_t base_len;
	bool ok;

	*out = NULL;
	TRY(net_check_url(opt->url, opt->insecure_http));
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_fail(ERR_INTERNAL, "libcurl initialization failed");
	n = calloc(1, sizeof(*n));
	if (n == NULL) {
		curl_global_cleanup();
		return err_fail(ERR_INTERNAL, "out of memory");
	}
	/* The base without trailing slashes; paths start with one. */
	base_len = strlen(opt->url);
	while (base_len > 0 && opt->url[base_len - 1] == '/')
		base_len--;
	memcpy(n->base, opt->url, base_len);
	n->base[base_len] = '\0';
	n->curl = curl_easy_init();
	n->headers = curl_slist_append(NULL, "Content-Type: application/json");
	n->headers = n->headers ? curl_slist_append(n->headers, "Accept: application/json") : NULL;
	/* No "Expect: 100-continue" round trip before the body. */
	n->headers = n->headers ? curl_slist_append(n->headers, "Expect:") : NULL;
	ok = n->curl != NULL && n->headers != NULL;
	ok = ok && curl_easy_setopt(n->curl, CURLOPT_HTTPHEADER, n->headers) == CURLE_OK &&
	     curl_easy_setopt(n->curl, CURLOPT_ERRORBUFFER, n->errbuf) == CURLE_OK &&
	     curl_easy_setopt(n->curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	     curl_easy_setopt(n->curl, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
	     curl_easy_setopt(n->curl, CURLOPT_PROTOCOLS_STR, https ? "https" : "http") ==
		 CURLE_OK &&
	     curl_easy_setopt(n->curl, CURLOPT_USERAGENT, "attest-client/" ATTEST_VERSION) ==
		 CURLE_OK &&
	     curl_easy_setopt(n->curl, CURLOPT_TIMEOUT, (long)opt->timeout_s) == CURLE_OK &&
	     curl_easy_setopt(n->curl, CURLOPT_CONNECTTIMEOUT,
			      (long)(opt->timeout_s < NET_CONNECT_TIMEOUT_S
					 ? opt->timeout_s
					 : NET_CONNECT_TIMEOUT_S)) == CURLE_OK &&
	     curl_easy_setopt(n->curl, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
	     curl_easy_setopt(n->curl, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
	     curl_easy_setopt(n->curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) ==
		 CURLE_OK;
	if (ok && opt->ca_bundle != NULL && opt->ca_bundle[0] != '\0')
		ok = curl_easy_setopt(n->curl, CURLOPT_CAINFO, opt->ca_bundle) == CURLE_OK;
	if (!ok) {
		net_close(n);
		return err_fail(ERR_INTERNAL, "libcurl setup failed");
	}
	*out = n;
	return ERR_OK;
}

struct sink {
	uint8_t *buf;
	size_t len;
	bool too_large;
};

static size_t sink_write(char *data, size_t size, size_t nmemb, void *user)
{
	struct sink *s = user;
	size_t n = size * nmemb; /* libcurl guarantees size == 1 */
	uint8_t *bigger;

	if (n > NET_MAX_RESPONSE - s->len) {
		s->too_large = true;
		return 0; /* aborts the transfer */
	}
	bigger = realloc(s->buf, s->len + n + 1);
	if (bigger == NULL)
		return 0;
	s->buf = bigger;
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

/* Failures another try cannot mend: the peer is not who the CA bundle
 * vouches for, or our own setup is wrong. */
static bool permanent_failure(CURLcode cc)
{
	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_OUT_OF_MEMORY:
		return true;
	default:
		return false;
	}
}

err_t net_post_json(struct net *n, const char *path, const json_t *body, struct net_response *out)
{
	char url[NET_URL_MAX];
	char *text = json_dumps(body, JSON_COMPACT);
	struct sink sink = {0};
	CURLcode cc;
	err_t rc = ERR_OK;

	memset(out, 0, sizeof(*out));
	if (text == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	if (snprintf(url, sizeof(url), "%s%s", n->base, path) >= (int)sizeof(url)) {
		free(text);
		return err_fail(ERR_INTERNAL, "URL too long");
	}
	n->errbuf[0] = '\0';
	if (curl_easy_setopt(n->curl, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(n->curl, CURLOPT_POSTFIELDS, text) != CURLE_OK ||
	    curl_easy_setopt(n->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(text)) !=
		CURLE_OK ||
	    curl_easy_setopt(n->curl, CURLOPT_WRITEFUNCTION, sink_write) != CURLE_OK ||
	    curl_easy_setopt(n->curl, CURLOPT_WRITEDATA, &sink) != CURLE_OK) {
		rc = err_fail(ERR_INTERNAL, "libcurl setup failed");
		goto out;
	}
	log_debug("POST %s (%zu bytes)", url, strlen(text));
	cc = curl_easy_perform(n->curl);
	if (sink.too_large) {
		rc = err_fail(ERR_INTERNAL, "POST %s: answer larger than %zu bytes", url,
			      NET_MAX_RESPONSE);
	} else if (cc != CURLE_OK) {
		rc = err_fail(permanent_failure(cc) ? ERR_INTERNAL : ERR_UNAVAILABLE, "POST %s: %s",
			      url, n->errbuf[0] != '\0' ? n->errbuf : curl_easy_strerror(cc));
	} else {
		curl_easy_getinfo(n->curl, CURLINFO_RESPONSE_CODE, &out->status);
		out->body = sink.buf;
		out->len = sink.len;
		sink.buf = NULL;
		if (out->body == NULL) {
			out->body = calloc(1, 1);
			if (out->body == NULL)
				rc = err_fail(ERR_INTERNAL, "out of memory");
		}
		log_debug("POST %s: HTTP %ld, %zu bytes", url, out->status, out->len);
	}
out:
	/* The body may carry the activated secret: wipe it before freeing. */
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	free(sink.buf);
	return rc;
}

void net_response_free(struct net_response *r)
{
	if (r == NULL)
		return;
	if (r->body != NULL)
		OPENSSL_cleanse(r->body, r->len); /* it may hold the token */
	free(r->body);
	memset(r, 0, sizeof(*r));
}
