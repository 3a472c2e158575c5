/* Feeds outside bytes to the EK certificate parser (the wire's DER with NV
 * padding, and files' PEM), then to everything that reads a parsed
 * certificate: TCG fields, machine id, name printing and the virtual-TPM
 * rules (which glob-match attacker-chosen strings). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ekcert.h"
#include "vtpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One rule of each kind, with patterns that make fnmatch work. */
static const char rules_json[] =
	"[{\"name\": \"ca\", \"ca\": {\"CN\": \"*swtpm*local?a*\", \"O\": \"*\"}},"
	" {\"name\": \"issuer-o\", \"ca\": {\"O\": \"[A-Z]*[!a-z] LLC\"}},"
	" {\"name\": \"id\", \"tpm\": {\"manufacturer\": \"id:00001014\"}},"
	" {\"name\": \"model\", \"tpm\": {\"model\": \"*v[Tt]PM*\", \"version\": \"id:*\"}}]";

static struct vtpm_rules *rules(void)
{
	static struct vtpm_rules *r;

	if (r == NULL) {
		json_t *j = json_loads(rules_json, 0, NULL);
		if (j == NULL || vtpm_rules_load(j, &r) != ERR_OK)
			abort();
		json_decref(j);
	}
	return r;
}

static void use(const struct ekcert *c)
{
	char id[EKCERT_MACHINE_ID_SIZE];
	char line[256];
	const struct ekcert_tpm_info *t = ekcert_tpm_info(c);

	if (ekcert_machine_id(c, id) == ERR_OK && strlen(id) != EKCERT_MACHINE_ID_SIZE - 1)
		abort();
	ekcert_name_line(X509_get_issuer_name(ekcert_x509(c)), line, sizeof(line));
	ekcert_name_line(X509_get_subject_name(ekcert_x509(c)), line, sizeof(line));
	if (strlen(t->model) > EKCERT_TCG_STR_MAX || strlen(t->manufacturer_str) > EKCERT_TCG_STR_MAX)
		abort();
	(void)vtpm_check_leaf(rules(), c);
	(void)vtpm_check_ca(rules(), ekcert_x509(c), "fuzz");
	(void)ekcert_check_key(c, ekcert_key(c));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ekcert *c = NULL;

	if (ekcert_parse_der(data, size, &c) == ERR_OK) {
		use(c);
		ekcert_free(c);
	}
	if (ekcert_parse(data, size, &c) == ERR_OK) {
		use(c);
		ekcert_free(c);
	}
	return 0;
}
