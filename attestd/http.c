/* libmicrohttpd glue. A request's body is collected into a buffer capped at
 * max_body (413 beyond), then the dispatch function runs once, on the
 * worker thread, and its response is queued. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "log.h"

struct http_request {
	struct MHD_Connection *conn;
	const char *method;
	const char *path;
	uint8_t *body;
	size_t body_len;
	size_t body_cap;
	bool too_large;
};

struct http_server {
	struct MHD_Daemon *daemon;
	struct http_server_config cfg;
	atomic_int in_flight;
	uint16_t port;
};

const char *http_method(const struct http_request *r)
{
	return r->method;
}

const char *http_path(const struct http_request *r)
{
	return r->path;
}

const char *http_header(const struct http_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const struct http_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const uint8_t *http_body(const struct http_request *r, size_t *len)
{
	*len = r->body_len;
	return r->body != NULL ? r->body : (const uint8_t *)"";
}

bool http_body_too_large(const struct http_request *r)
{
	return r->too_large;
}

void http_reply_text(struct http_response *resp, unsigned status, const char *content_type,
		     char *body, size_t len)
{
	free(resp->body);
	resp->status = status;
	resp->content_type = content_type;
	resp->body = body;
	resp->body_len = body != NULL ? len : 0;
}

void http_reply_json(struct http_response *resp, unsigned status, json_t *body)
{
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;

	json_decref(body);
	if (text == NULL) {
		http_reply_text(resp, 500, "application/json", strdup("{\"error\":\"internal\"}"),
				20);
		return;
	}
	http_reply_text(resp, status, "application/json", text, strlen(text));
}

void http_reply_error(struct http_response *resp, err_t e)
{
	http_reply_json(resp, err_http_status(e),
			json_pack("{s:s, s:s}", "error", err_code_str(e), "detail", err_detail()));
}

void http_reply_empty(struct http_response *resp, unsigned status)
{
	http_reply_text(resp, status, NULL, NULL, 0);
}

void http_add_header(struct http_response *resp, const char *name, const char *value)
{
	if (resp->nheaders == HTTP_MAX_RESPONSE_HEADERS)
		return;
	resp->headers[resp->nheaders].name = name;
	snprintf(resp->headers[resp->nheaders].value, sizeof(resp->headers[0].value), "%s", value);
	resp->nheaders++;
}

static enum MHD_Result queue(struct MHD_Connection *conn, struct http_response *resp)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(resp->body);
		return MHD_NO;
	}
	resp->body = NULL; /* owned by libmicrohttpd now */
	if (resp->content_type != NULL)
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	(void)MHD_add_response_header(r, "Cache-Control", "no-store");
	(void)MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	for (size_t i = 0; i < resp->nheaders; i++)
		(void)MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
	ret = MHD_queue_response(conn, resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Grows the body buffer geometrically, never beyond max. */
static bool body_append(struct http_request *req, const char *data, size_t n, size_t max)
{
	if (n > max - req->body_len) {
		req->too_large = true;
		return true; /* keep reading (and discarding) so we can answer 413 */
	}
	if (req->body_len + n > req->body_cap) {
		size_t cap = req->body_cap != 0 ? req->body_cap : 4096;
		uint8_t *p;

		while (cap < req->body_len + n)
			cap = cap > max / 2 ? max : cap * 2;
		p = realloc(req->body, cap);
		if (p == NULL)
			return false;
		req->body = p;
		req->body_cap = cap;
	}
	memcpy(req->body + req->body_len, data, n);
	req->body_len += n;
	return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct http_request *req = *con_cls;
	struct http_response resp = {0};
	enum MHD_Result ret;

	(void)version;
	if (req == NULL) {
		const char *len_hdr;

		req = calloc(1, sizeof(*req));
		if (req == NULL)
			return MHD_NO;
		req->conn = conn;
		req->method = method;
		req->path = url;
		*con_cls = req;
		atomic_fetch_add(&s->in_flight, 1);
		/* Refuse early when the client announces an oversized body, and
		 * size the buffer once when it announces a fitting one (a quote
		 * with its event log is ~40 KB). */
		len_hdr = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						      MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (len_hdr != NULL) {
			unsigned long long announced = strtoull(len_hdr, NULL, 10);

			if (announced > s->cfg.max_body) {
				req->too_large = true;
			} else if (announced > 0) {
				req->body = malloc((size_t)announced);
				req->body_cap = req->body != NULL ? (size_t)announced : 0;
			}
		}
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		if (!req->too_large &&
		    !body_append(req, upload_data, *upload_data_size, s->cfg.max_body))
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	err_clear();
	s->cfg.dispatch(s->cfg.app, req, &resp);
	if (resp.status == 0)
		http_reply_empty(&resp, 500);
	ret = queue(conn, &resp);
	free(resp.body);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct http_request *req = *con_cls;

	(void)conn;
	(void)toe;
	if (req == NULL)
		return;
	free(req->body);
	free(req);
	*con_cls = NULL;
	atomic_fetch_sub(&s->in_flight, 1);
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_warn("http: %s", msg);
}

err_t http_start(const struct http_server_config *cfg, struct http_server **out)
{
	struct http_server *s = calloc(1, sizeof(*s));
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	unsigned flags =
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;

	if (s == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	s->cfg = *cfg;
	if (inet_pton(AF_INET, cfg->addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(cfg->port);
	} else if (inet_pton(AF_INET6, cfg->addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(cfg->port);
		flags |= MHD_USE_IPv6;
	} else {
		free(s);
		return err_fail(ERR_BAD_REQUEST, "listen address '%s' is not numeric", cfg->addr);
	}
	if (cfg->tls_cert_pem != NULL)
		flags |= MHD_USE_TLS;

	errno = 0;
	s->daemon = MHD_start_daemon(
	    flags, cfg->port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
	    NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
	    cfg->threads, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MAX_HEADER_MEMORY,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONNECTION_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	    cfg->tls_cert_pem != NULL ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
	    cfg->tls_cert_pem, MHD_OPTION_HTTPS_MEM_KEY, cfg->tls_key_pem, MHD_OPTION_END);
	if (s->daemon == NULL) {
		int e = errno;

		free(s);
		return err_fail(ERR_UNAVAILABLE, "cannot listen on %s:%u: %s", cfg->addr,
				(unsigned)cfg->port,
				e == EADDRINUSE ? "address already in use"
				: e != 0	? strerror(e)
						: "bad TLS certificate or key, or listen failure");
	}
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info != NULL ? info->port : cfg->port;
	*out = s;
	return ERR_OK;
}

uint16_t http_port(const struct http_server *s)
{
	return s->port;
}

void http_stop(struct http_server *s, unsigned grace_s)
{
	struct timespec tick = {0, 20 * 1000 * 1000};
	MHD_socket listen_fd;

	if (s == NULL)
		return;
	/* Stop accepting; connections already open finish their request. */
	listen_fd = MHD_quiesce_daemon(s->daemon);
	if (listen_fd != MHD_INVALID_SOCKET)
		close(listen_fd);
	for (unsigned i = 0; i < grace_s * 50 && atomic_load(&s->in_flight) > 0; i++)
		nanosleep(&tick, NULL);
	if (atomic_load(&s->in_flight) > 0)
		log_warn("stopping with %d requests still open", atomic_load(&s->in_flight));
	MHD_stop_daemon(s->daemon);
	free(s);
}
