/* Configuration file parser: `key = value` lines, '#' comments, unknown keys
 * refused so a typo cannot silently leave a default in force. */
#include "config.h"

#include "conffile.h"

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
	TRY(conffile_number("listen", colon + 1, 0, 65535, &port));
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
		return conffile_string(key, value, c->tls_cert, sizeof(c->tls_cert));
	if (strcmp(key, "tls_key") == 0)
		return conffile_string(key, value, c->tls_key, sizeof(c->tls_key));
	if (strcmp(key, "allow_plain_http") == 0)
		return conffile_bool(key, value, &c->allow_plain_http);
	if (strcmp(key, "state_dir") == 0)
		return conffile_string(key, value, c->state_dir, sizeof(c->state_dir));
	if (strcmp(key, "store") == 0) {
		bool sqlite = strncmp(value, "sqlite:", 7) == 0 && value[7] != '\0';
		bool pg = (strncmp(value, "postgresql://", 13) == 0 && value[13] != '\0') ||
			  (strncmp(value, "postgres://", 11) == 0 && value[11] != '\0');

		/* The value is not echoed: a PostgreSQL URI may hold a password. */
		if (!sqlite && !pg)
			return err_fail(ERR_BAD_REQUEST,
					"store: expected sqlite:PATH or postgresql://...");
		return conffile_string(key, value, c->store, sizeof(c->store));
	}
	if (strcmp(key, "policy") == 0)
		return conffile_string(key, value, c->policy, sizeof(c->policy));
	if (strcmp(key, "max_body") == 0) {
		TRY(conffile_number(key, value, 1024, CONFIG_MAX_BODY_LIMIT, &n));
		c->max_body = (size_t)n;
		return ERR_OK;
	}
	if (strcmp(key, "threads") == 0) {
		TRY(conffile_number(key, value, 0, CONFIG_MAX_THREADS, &n));
		c->threads = (unsigned)n;
		return ERR_OK;
	}
	if (strcmp(key, "log_level") == 0)
		return conffile_log_level(key, value, &c->log_level);
	if (strcmp(key, "token_issuer") == 0)
		return conffile_string(key, value, c->token_issuer, sizeof(c->token_issuer));
	if (strcmp(key, "token_audience") == 0)
		return conffile_string(key, value, c->token_audience, sizeof(c->token_audience));
	if (strcmp(key, "admission_requires_key") == 0)
		return conffile_bool(key, value, &c->admission_requires_key);
	return err_fail(ERR_BAD_REQUEST, "unknown option '%s'", key);
}

static err_t config_set_cb(void *ctx, const char *key, const char *value)
{
	return config_set(ctx, key, value);
}

err_t config_load(const char *path, struct config *c)
{
	return conffile_load(path, config_set_cb, c);
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
