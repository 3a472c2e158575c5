/* Configuration file parser: `key = value` lines, '#' comments, unknown keys
 * refused so a typo cannot silently leave a default in force. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bodies larger than this are never useful: a 30 KB event log plus
 * certificates is ~60 KB; 64 MiB bounds the memory one request can pin. */
#define CONFIG_MAX_BODY_LIMIT ((size_t)64 * 1024 * 1024)
#define CONFIG_MAX_THREADS    1024

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen_addr, sizeof(c->listen_addr), "127.0.0.1");
	c->listen_port = 8443;
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/attestd");
	snprintf(c->store, sizeof(c->store), "sqlite:/var/lib/attestd/attestd.db");
	snprintf(c->policy, sizeof(c->policy), "/etc/attestd/policy.json");
	c->max_body = (size_t)4 * 1024 * 1024; /* DESIGN.md's default */
	c->threads = 0;			       /* 0: 8 per online CPU */
	c->log_level = LOG_LVL_INFO;
	snprintf(c->token_issuer, sizeof(c->token_issuer), "attestd");
	snprintf(c->token_audience, sizeof(c->token_audience), "attest-gateway");
}

static err_t set_string(char *dst, size_t cap, const char *key, const char *value)
{
	if (strlen(value) >= cap)
		return err_fail(ERR_BAD_REQUEST, "%s: value longer than %zu bytes", key, cap - 1);
	memcpy(dst, value, strlen(value) + 1);
	return ERR_OK;
}

static err_t set_bool(bool *dst, const char *key, const char *value)
{
	if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0) {
		*dst = true;
		return ERR_OK;
	}
	if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0) {
		*dst = false;
		return ERR_OK;
	}
	return err_fail(ERR_BAD_REQUEST, "%s: expected true or false, got '%s'", key, value);
}

static err_t set_uint(unsigned long long *dst, const char *key, const char *value,
		      unsigned long long min, unsigned long long max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!isdigit((unsigned char)value[0]))
		return err_fail(ERR_BAD_REQUEST, "%s: expected a number, got '%s'", key, value);
	v = strtoull(value, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return err_fail(ERR_BAD_REQUEST, "%s: expected a number in %llu..%llu, got '%s'",
				key, min, max, value);
	*dst = v;
	return ERR_OK;
}

/* "ADDR:PORT" or "[V6ADDR]:PORT" */
static err_t set_listen(struct config *c, const char *value)
{
	const char *colon = strrchr(value, ':');
	char addr[sizeof(c->listen_addr)];
	unsigned long long port;
	size_t alen;
	const char *astart = value;
	unsigned char probe[sizeof(struct in6_addr)];

	if (colon == NULL)
		return err_fail(ERR_BAD_REQUEST, "listen: expected ADDR:PORT, got '%s'", value);
	alen = (size_t)(colon - value);
	if (alen >= 2 && value[0] == '[' && value[alen - 1] == ']') {
		astart++;
		alen -= 2;
	}
	if (alen == 0 || alen >= sizeof(addr))
		return err_fail(ERR_BAD_REQUEST, "listen: bad address in '%s'", value);
	memcpy(addr, astart, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, probe) != 1 && inet_pton(AF_INET6, addr, probe) != 1)
		return err_fail(ERR_BAD_REQUEST, "listen: '%s' is not a numeric IP address", addr);
	TRY(set_uint(&port, "listen", colon + 1, 0, 65535));
	memcpy(c->listen_addr, addr, alen + 1);
	c->listen_port = (uint16_t)port;
	return ERR_OK;
}

err_t config_set(struct config *c, const char *key, const char *value)
{
	unsigned long long n;

	if (strcmp(key, "listen") == 0)
		return set_listen(c, value);
	if (strcmp(key, "tls_cert") == 0)
		return set_string(c->tls_cert, sizeof(c->tls_cert), key, value);
	if (strcmp(key, "tls_key") == 0)
		return set_string(c->tls_key, sizeof(c->tls_key), key, value);
	if (strcmp(key, "allow_plain_http") == 0)
		return set_bool(&c->allow_plain_http, key, value);
	if (strcmp(key, "state_dir") == 0)
		return set_string(c->state_dir, sizeof(c->state_dir), key, value);
	if (strcmp(key, "store") == 0) {
		bool sqlite = strncmp(value, "sqlite:", 7) == 0 && value[7] != '\0';
		bool pg = (strncmp(value, "postgresql://", 13) == 0 && value[13] != '\0') ||
			  (strncmp(value, "postgres://", 11) == 0 && value[11] != '\0');

		/* The value is not echoed: a PostgreSQL URI may hold a password. */
		if (!sqlite && !pg)
			return err_fail(ERR_BAD_REQUEST,
					"store: expected sqlite:PATH or postgresql://...");
		return set_string(c->store, sizeof(c->store), key, value);
	}
	if (strcmp(key, "policy") == 0)
		return set_string(c->policy, sizeof(c->policy), key, value);
	if (strcmp(key, "max_body") == 0) {
		TRY(set_uint(&n, key, value, 1024, CONFIG_MAX_BODY_LIMIT));
		c->max_body = (size_t)n;
		return ERR_OK;
	}
	if (strcmp(key, "threads") == 0) {
		TRY(set_uint(&n, key, value, 0, CONFIG_MAX_THREADS));
		c->threads = (unsigned)n;
		return ERR_OK;
	}
	if (strcmp(key, "log_level") == 0) {
		if (!log_level_from_str(value, &c->log_level))
			return err_fail(ERR_BAD_REQUEST,
					"log_level: expected error, warn, info or debug, got '%s'",
					value);
		return ERR_OK;
	}
	if (strcmp(key, "token_issuer") == 0)
		return set_string(c->token_issuer, sizeof(c->token_issuer), key, value);
	if (strcmp(key, "token_audience") == 0)
		return set_string(c->token_audience, sizeof(c->token_audience), key, value);
	if (strcmp(key, "admission_requires_key") == 0)
		return set_bool(&c->admission_requires_key, key, value);
	return err_fail(ERR_BAD_REQUEST, "unknown option '%s'", key);
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

err_t config_load(const char *path, struct config *c)
{
	char line[CONFIG_MAX_LINE + 2];
	unsigned lineno = 0;
	err_t rc = ERR_OK;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return err_fail(ERR_BAD_REQUEST, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		char *key, *value, *eq;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			rc = err_fail(ERR_BAD_REQUEST, "%s:%u: line longer than %d bytes", path,
				      lineno, CONFIG_MAX_LINE);
			goto out;
		}
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			rc = err_fail(ERR_BAD_REQUEST, "%s:%u: expected 'key = value'", path,
				      lineno);
			goto out;
		}
		*eq = '\0';
		key = trim(key);
		value = trim(eq + 1);
		rc = config_set(c, key, value);
		if (rc != ERR_OK) {
			char detail[ERR_DETAIL_MAX];

			snprintf(detail, sizeof(detail), "%s", err_detail());
			rc = err_fail(rc, "%s:%u: %s", path, lineno, detail);
			goto out;
		}
	}
	if (ferror(f))
		rc = err_fail(ERR_BAD_REQUEST, "%s: read error", path);
out:
	fclose(f);
	return rc;
}

bool config_is_loopback(const char *addr)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (inet_pton(AF_INET, addr, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &v6) == 1)
		return memcmp(&v6, &in6addr_loopback, sizeof(v6)) == 0;
	return false;
}
