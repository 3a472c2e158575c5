/* attest-client's HTTP side against a one-shot server in a thread: which
 * URLs it will talk to, what counts as an answer, what is worth a retry,
 * and the cap on what a server may send back. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "net.h"

static void test_plain_http_only_where_asked_for(void **state)
{
	(void)state;
	assert_int_equal(net_check_url("https://attestd.example:8443", false), ERR_OK);
	assert_int_equal(net_check_url("https://10.1.2.3/prefix/", false), ERR_OK);
	/* Loopback never leaves the machine. */
	assert_int_equal(net_check_url("http://127.0.0.1:8080", false), ERR_OK);
	assert_int_equal(net_check_url("http://127.9.9.9", false), ERR_OK);
	assert_int_equal(net_check_url("http://[::1]:8080", false), ERR_OK);
	assert_int_equal(net_check_url("http://localhost:8080", false), ERR_OK);
	/* Anywhere else plain HTTP would carry the token in the clear. */
	assert_int_equal(net_check_url("http://10.1.2.3:8080", false), ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), "--insecure-http"));
	assert_int_equal(net_check_url("http://128.0.0.1", false), ERR_BAD_REQUEST);
	assert_int_equal(net_check_url("http://localhost.evil.example", false), ERR_BAD_REQUEST);
	assert_int_equal(net_check_url("http://[::2]", false), ERR_BAD_REQUEST);
	assert_int_equal(net_check_url("http://10.1.2.3:8080", true), ERR_OK);
	/* Only these two schemes, and only URLs. */
	assert_int_equal(net_check_url("ftp://127.0.0.1", true), ERR_BAD_REQUEST);
	assert_int_equal(net_check_url("file:///etc/passwd", true), ERR_BAD_REQUEST);
	assert_int_equal(net_check_url("attestd.example", false), ERR_BAD_REQUEST);
	assert_int_equal(net_check_url("", false), ERR_BAD_REQUEST);
}

/* ------------------------------------------------- a one-shot server */

struct server {
	int fd;
	uint16_t port;
	const char *answer; /* written after the request; NULL: close at once */
	size_t answer_len;
	char request[8192]; /* what the client sent, cut to fit */
	pthread_t thread;
};

static void *serve_once(void *arg)
{
	struct server *s = arg;
	size_t have = 0;
	int c = accept(s->fd, NULL, NULL);

	if (c < 0)
		return NULL;
	/* Reads until the request's body has come (Content-Length) or the
	 * buffer is full; the client's requests are small. */
	for (;;) {
		ssize_t n = read(c, s->request + have, sizeof(s->request) - 1 - have);
		char *end, *cl;

		if (n <= 0)
			break;
		have += (size_t)n;
		s->request[have] = '\0';
		end = strstr(s->request, "\r\n\r\n");
		cl = strcasestr(s->request, "Content-Length:");
		if (end != NULL && cl != NULL &&
		    have >= (size_t)(end + 4 - s->request) + strtoul(cl + 15, NULL, 10))
			break;
		if (have == sizeof(s->request) - 1)
			break;
	}
	if (s->answer != NULL) {
		size_t off = 0;

		while (off < s->answer_len) {
			ssize_t n = write(c, s->answer + off, s->answer_len - off);

			if (n <= 0)
				break;
			off += (size_t)n;
		}
	}
	close(c);
	return NULL;
}

static void server_start(struct server *s, const char *answer, size_t len)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->answer = answer;
	s->answer_len = len;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 1), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve_once, s), 0);
}

static void server_stop(struct server *s)
{
	pthread_join(s->thread, NULL);
	close(s->fd);
}

/* POSTs {"k": "v"} to the server's /v1/attest/challenge. */
static err_t post_to(uint16_t port, struct net_response *r)
{
	char url[64];
	struct net_options opt = {url, NULL, false, 5};
	struct net *n = NULL;
	json_t *body = json_pack("{s:s}", "k", "v");
	err_t rc;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", port);
	assert_int_equal(net_open(&opt, &n), ERR_OK);
	err_clear();
	rc = net_post_json(n, "/v1/attest/challenge", body, r);
	net_close(n);
	json_decref(body);
	return rc;
}

static void test_an_answer_is_an_answer_whatever_its_status(void **state)
{
	static const char answer[] = "HTTP/1.1 403 Forbidden\r\n"
				     "Content-Type: application/json\r\n"
				     "Content-Length: 26\r\nConnection: close\r\n\r\n"
				     "{\"error\":\"ek_virtual_tpm\"}";
	struct server s;
	struct net_response r;

	(void)state;
	server_start(&s, answer, sizeof(answer) - 1);
	assert_int_equal(post_to(s.port, &r), ERR_OK);
	server_stop(&s);
	assert_int_equal(r.status, 403);
	assert_int_equal(r.len, 26);
	assert_string_equal((char *)r.body, "{\"error\":\"ek_virtual_tpm\"}");
	/* The request: a POST of compact JSON to the path under the base URL
	 * (its trailing slash dropped), no 100-continue round trip. */
	assert_non_null(strstr(s.request, "POST /v1/attest/challenge HTTP/1.1\r\n"));
	assert_non_null(strstr(s.request, "Content-Type: application/json\r\n"));
	assert_null(strstr(s.request, "Expect:"));
	assert_non_null(strstr(s.request, "\r\n\r\n{\"k\":\"v\"}"));
	net_response_free(&r);
}

static void test_no_answer_is_worth_a_retry(void **state)
{
	struct server s;
	struct net_response r;
	uint16_t port;

	(void)state;
	/* The connection closes without a word: the verifier restarted. */
	server_start(&s, NULL, 0);
	assert_int_equal(post_to(s.port, &r), ERR_UNAVAILABLE);
	server_stop(&s);
	/* Nobody listens any more: connection refused. */
	port = s.port;
	assert_int_equal(post_to(port, &r), ERR_UNAVAILABLE);
	assert_null(r.body);
}

static void test_an_oversized_answer_is_refused(void **state)
{
	size_t body = NET_MAX_RESPONSE + 1;
	char *answer = malloc(body + 128);
	int head;
	struct server s;
	struct net_response r;

	(void)state;
	assert_non_null(answer);
	head =
	    snprintf(answer, 128,
		     "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", body);
	memset(answer + head, 'x', body);
	server_start(&s, answer, (size_t)head + body);
	/* Not a retry: the same server would send the same again. */
	assert_int_equal(post_to(s.port, &r), ERR_INTERNAL);
	assert_non_null(strstr(err_detail(), "larger than"));
	assert_null(r.body);
	server_stop(&s);
	free(answer);
}

static void test_plain_http_elsewhere_cannot_be_opened(void **state)
{
	struct net_options opt = {"http://192.0.2.1:8080", NULL, false, 5};
	struct net *n = NULL;

	(void)state;
	assert_int_equal(net_open(&opt, &n), ERR_BAD_REQUEST);
	assert_null(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_http_only_where_asked_for),
	    cmocka_unit_test(test_an_answer_is_an_answer_whatever_its_status),
	    cmocka_unit_test(test_no_answer_is_worth_a_retry),
	    cmocka_unit_test(test_an_oversized_answer_is_refused),
	    cmocka_unit_test(test_plain_http_elsewhere_cannot_be_opened),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
