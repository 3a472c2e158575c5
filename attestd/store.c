/* Backend dispatch and the backend-independent hash chain. */
#include "store.h"

#include <string.h>

#include <openssl/evp.h>

#include "store_pg.h"
#include "store_sqlite.h"

err_t store_open(const char *spec, struct store **out)
{
	if (strncmp(spec, "sqlite:", 7) == 0)
		return store_sqlite_open(spec + 7, out);
	/* The whole URI goes to libpq, which reads both schemes. */
	if (strncmp(spec, "postgresql://", 13) == 0 || strncmp(spec, "postgres://", 11) == 0)
		return store_pg_open(spec, out);
	/* Not echoed: a mistyped PostgreSQL URI may hold a password. */
	return err_fail(ERR_BAD_REQUEST,
			"unknown store (expected sqlite:PATH or postgresql://...)");
}

bool store_machine_id_valid(const char *id)
{
	if (id == NULL || strncmp(id, "sha256:", 7) != 0 || strlen(id) != 7 + 64)
		return false;
	for (const char *c = id + 7; *c != '\0'; c++) {
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return false;
	}
	return true;
}

const char *store_outcome_str(bool admitted)
{
	return admitted ? "admitted" : "refused";
}

static bool hash_u64(EVP_MD_CTX *md, uint64_t v)
{
	uint8_t be[8];

	for (int i = 7; i >= 0; i--) {
		be[i] = (uint8_t)v;
		v >>= 8;
	}
	return EVP_DigestUpdate(md, be, sizeof(be)) == 1;
}

/* Length-prefixed, so ("ab","c") and ("a","bc") hash differently. */
static bool hash_str(EVP_MD_CTX *md, const char *s)
{
	size_t n = strlen(s);

	return hash_u64(md, n) && EVP_DigestUpdate(md, s, n) == 1;
}

err_t store_row_hash(const struct attestation_record *r, uint8_t out[STORE_HASH_LEN])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int len = 0;
	bool ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
		  EVP_DigestUpdate(md, "attestd-row-v1", 14) == 1 &&
		  EVP_DigestUpdate(md, r->prev_hash, STORE_HASH_LEN) == 1 &&
		  hash_u64(md, (uint64_t)r->id) && hash_u64(md, (uint64_t)r->time) &&
		  hash_str(md, r->phase) && hash_str(md, r->machine_id) &&
		  hash_str(md, r->ek_issuer) && hash_str(md, r->ek_manufacturer) &&
		  hash_u64(md, r->admitted) && hash_str(md, r->error) && hash_str(md, r->detail) &&
		  hash_str(md, r->policy) && hash_str(md, r->pcr_digest) &&
		  hash_u64(md, (uint64_t)r->reset_count) &&
		  hash_u64(md, (uint64_t)r->restart_count) && hash_str(md, r->host) &&
		  hash_str(md, r->token_jti) && EVP_DigestFinal_ex(md, out, &len) == 1 &&
		  len == STORE_HASH_LEN;

	EVP_MD_CTX_free(md);
	return ok ? ERR_OK : err_fail(ERR_INTERNAL, "hashing a history row failed");
}
