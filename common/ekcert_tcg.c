/* The TCG facts of an EK certificate (TCG EK Credential Profile, section
 * 3): TPM manufacturer, model and version from the subject alternative
 * name, the TPM specification from the subject directory attributes, and
 * the TCG vendor registry. OpenSSL does all the ASN.1; the two structures
 * OpenSSL 3.0 does not know are declared here as its templates. */
#include "ekcert_tcg.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

/* ---- TCG object identifiers (TCG EK Credential Profile, section 3) ---- */

enum tcg_attr { TCG_MANUFACTURER, TCG_MODEL, TCG_VERSION, TCG_SPEC, TCG_ATTR_COUNT };

/* clang-format off */
static const char *const tcg_oid_text[TCG_ATTR_COUNT] = {
	[TCG_MANUFACTURER] = "2.23.133.2.1", /* tcg-at-tpmManufacturer */
	[TCG_MODEL] = "2.23.133.2.2",        /* tcg-at-tpmModel */
	[TCG_VERSION] = "2.23.133.2.3",      /* tcg-at-tpmVersion */
	[TCG_SPEC] = "2.23.133.2.16",        /* tcg-at-tpmSpecification */
};
/* clang-format on */

/* Made once and kept for the life of the process: OBJ_txt2obj allocates, and
 * the certificate path runs on every challenge. */
static ASN1_OBJECT *tcg_oid[TCG_ATTR_COUNT];
static bool tcg_oid_ok;
static pthread_once_t tcg_oid_once = PTHREAD_ONCE_INIT;

static void tcg_oid_init(void)
{
	for (int i = 0; i < TCG_ATTR_COUNT; i++) {
		tcg_oid[i] = OBJ_txt2obj(tcg_oid_text[i], 1);
		if (tcg_oid[i] == NULL)
			return;
	}
	tcg_oid_ok = true;
}

static bool tcg_oids(void)
{
	return pthread_once(&tcg_oid_once, tcg_oid_init) == 0 && tcg_oid_ok;
}

/* TPMSpecification ::= SEQUENCE { family UTF8String, level INTEGER,
 * revision INTEGER } and SubjectDirectoryAttributes ::= SEQUENCE OF
 * Attribute, as OpenSSL templates (no hand-written DER). */
typedef struct {
	ASN1_UTF8STRING *family;
	ASN1_INTEGER *level;
	ASN1_INTEGER *revision;
} TPM_SPECIFICATION;

/* OpenSSL's template macros are not C that clang-format can lay out. */
/* clang-format off */
ASN1_SEQUENCE(TPM_SPECIFICATION) = {
	ASN1_SIMPLE(TPM_SPECIFICATION, family, ASN1_UTF8STRING),
	ASN1_SIMPLE(TPM_SPECIFICATION, level, ASN1_INTEGER),
	ASN1_SIMPLE(TPM_SPECIFICATION, revision, ASN1_INTEGER),
} static_ASN1_SEQUENCE_END(TPM_SPECIFICATION)

typedef STACK_OF(X509_ATTRIBUTE) SUBJECT_DIR_ATTRS;

ASN1_ITEM_TEMPLATE(SUBJECT_DIR_ATTRS) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, SubjectDirectoryAttributes, X509_ATTRIBUTE)
static_ASN1_ITEM_TEMPLATE_END(SUBJECT_DIR_ATTRS)

/* ---- TCG vendor registry ---- */

static const struct {
	uint32_t id;
	const char *name;
} tcg_vendors[] = {
	{0x00001014, "IBM (PCI vendor id; swtpm/libtpms default)"},
	{0x414D4400, "AMD"},
	{0x41544D4C, "Atmel"},
	{0x4252434D, "Broadcom"},
	{0x4353434F, "Cisco"},
	{0x464C5953, "Flyslice"},
	{0x474F4F47, "Google"},
	{0x48495349, "Huawei"},
	{0x48504500, "HPE"},
	{0x48504900, "HP"},
	{0x49424D00, "IBM"},
	{0x49465800, "Infineon"},
	{0x494E5443, "Intel"},
	{0x4C454E00, "Lenovo"},
	{0x4D534654, "Microsoft"},
	{0x4E534700, "NSING"},
	{0x4E534D20, "National Semiconductor"},
	{0x4E544300, "Nuvoton"},
	{0x4E545A00, "Nationz"},
	{0x51434F4D, "Qualcomm"},
	{0x524F4343, "Fuzhou Rockchip"},
	{0x534D5343, "SMSC"},
	{0x534D534E, "Samsung"},
	{0x534E5300, "Sinosun"},
	{0x53544D20, "STMicroelectronics"},
	{0x54584E00, "Texas Instruments"},
	{0x57454300, "Winbond"},
};
/* clang-format on */

const char *ekcert_vendor_name(uint32_t manufacturer)
{
	for (size_t i = 0; i < sizeof(tcg_vendors) / sizeof(tcg_vendors[0]); i++) {
		if (tcg_vendors[i].id == manufacturer)
			return tcg_vendors[i].name;
	}
	return NULL;
}

/* ---- SAN fields ---- */

static err_t invalid(const char *what)
{
	ERR_clear_error();
	return err_fail(ERR_EK_CERT_INVALID, "%s", what);
}

/* Copies an attribute value as UTF-8; control bytes become '?' so the value
 * can be printed and logged as it is. */
static err_t tcg_string(const ASN1_STRING *s, char out[static EKCERT_TCG_STR_MAX + 1])
{
	unsigned char *utf8 = NULL;
	int n = ASN1_STRING_to_UTF8(&utf8, s);

	if (n < 0)
		return invalid("TCG attribute is not a string");
	if ((size_t)n > EKCERT_TCG_STR_MAX) {
		OPENSSL_free(utf8);
		return invalid("TCG attribute value too long");
	}
	for (int i = 0; i < n; i++)
		out[i] = (utf8[i] < 0x20 || utf8[i] == 0x7f) ? '?' : (char)utf8[i];
	out[n] = '\0';
	OPENSSL_free(utf8);
	return ERR_OK;
}

/* Every value of attribute `obj` in a directoryName. A second, different
 * value anywhere in the SAN makes the certificate ambiguous: a rule could
 * match one and miss the other, so it is refused. */
static err_t tcg_collect(const X509_NAME *dn, const ASN1_OBJECT *obj, bool *seen,
			 char out[static EKCERT_TCG_STR_MAX + 1])
{
	char value[EKCERT_TCG_STR_MAX + 1];

	for (int i = X509_NAME_get_index_by_OBJ(dn, obj, -1); i >= 0;
	     i = X509_NAME_get_index_by_OBJ(dn, obj, i)) {
		TRY(tcg_string(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(dn, i)), value));
		if (*seen && strcmp(value, out) != 0)
			return invalid("SAN has two different values for one TCG attribute");
		memcpy(out, value, sizeof(value));
		*seen = true;
	}
	return ERR_OK;
}

bool ekcert_parse_tcg_id(const char *s, uint32_t *out)
{
	size_t n;

	if (strncmp(s, "id:", 3) != 0)
		return false;
	s += 3;
	n = strspn(s, "0123456789abcdefABCDEF");
	if (n == 0 || n > 8 || s[n] != '\0')
		return false;
	*out = (uint32_t)strtoul(s, NULL, 16);
	return true;
}

/* The four id bytes as text when they are printable ASCII, trailing spaces
 * and NULs dropped ("STM ", "IFX\0" -> "STM", "IFX"). */
static void vendor_code(uint32_t id, char out[static 5])
{
	char code[5] = {0};
	size_t n = 0;
	bool ended = false;

	out[0] = '\0';
	for (int shift = 24; shift >= 0; shift -= 8) {
		unsigned char b = (unsigned char)(id >> shift);
		if (b == 0 || b == ' ') {
			ended = true;
			continue;
		}
		if (ended || b < 0x21 || b > 0x7e)
			return; /* not text, or text after a gap */
		code[n++] = (char)b;
	}
	memcpy(out, code, sizeof(code));
}

static err_t read_tcg_san(X509 *x, struct ekcert_tpm_info *t)
{
	int crit = -1;
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	bool seen[3] = {false, false, false};
	err_t rc = ERR_OK;

	if (names == NULL) {
		/* -1: no SAN (allowed, e.g. GCE vTPM certificates); otherwise the
		 * extension is repeated or does not decode. */
		return crit == -1 ? ERR_OK : invalid("subjectAltName is repeated or malformed");
	}
	for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		if (gn->type != GEN_DIRNAME)
			continue;
		TRY_OUT(rc, tcg_collect(gn->d.directoryName, tcg_oid[TCG_MANUFACTURER], &seen[0],
					t->manufacturer_str));
		TRY_OUT(rc,
			tcg_collect(gn->d.directoryName, tcg_oid[TCG_MODEL], &seen[1], t->model));
		TRY_OUT(rc, tcg_collect(gn->d.directoryName, tcg_oid[TCG_VERSION], &seen[2],
					t->version));
	}
	t->has_tcg_san = seen[0] || seen[1] || seen[2];
	if (seen[0] && ekcert_parse_tcg_id(t->manufacturer_str, &t->manufacturer)) {
		t->manufacturer_ok = true;
		vendor_code(t->manufacturer, t->vendor_code);
		t->vendor_name = ekcert_vendor_name(t->manufacturer);
	}
out:
	GENERAL_NAMES_free(names);
	return rc;
}

/* ---- TPM specification (informational: a malformed one is reported as
 * absent, since no decision depends on it) ---- */

static bool small_uint(const ASN1_INTEGER *i, uint32_t *out)
{
	uint64_t v;

	if (ASN1_INTEGER_get_uint64(&v, i) != 1 || v > UINT32_MAX) {
		ERR_clear_error();
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

static void read_spec_attribute(const X509_ATTRIBUTE *attr, struct ekcert_tpm_info *t)
{
	ASN1_TYPE *value = X509_ATTRIBUTE_get0_type((X509_ATTRIBUTE *)attr, 0);
	TPM_SPECIFICATION *spec;

	if (value == NULL || value->type != V_ASN1_SEQUENCE)
		return;
	spec = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(TPM_SPECIFICATION), value);
	if (spec == NULL) {
		ERR_clear_error();
		return;
	}
	if (tcg_string(spec->family, t->spec_family) == ERR_OK &&
	    small_uint(spec->level, &t->spec_level) &&
	    small_uint(spec->revision, &t->spec_revision))
		t->has_spec = true;
	else
		err_clear();
	ASN1_item_free((ASN1_VALUE *)spec, ASN1_ITEM_rptr(TPM_SPECIFICATION));
}

static void read_tpm_spec(X509 *x, struct ekcert_tpm_info *t)
{
	int idx = X509_get_ext_by_NID(x, NID_subject_directory_attributes, -1);
	const ASN1_OCTET_STRING *data;
	const unsigned char *p;
	SUBJECT_DIR_ATTRS *attrs;

	if (idx < 0)
		return;
	data = X509_EXTENSION_get_data(X509_get_ext(x, idx));
	p = ASN1_STRING_get0_data(data);
	attrs = (SUBJECT_DIR_ATTRS *)ASN1_item_d2i(NULL, &p, ASN1_STRING_length(data),
						   ASN1_ITEM_rptr(SUBJECT_DIR_ATTRS));
	if (attrs == NULL) {
		ERR_clear_error();
		return;
	}
	for (int i = 0; i < sk_X509_ATTRIBUTE_num(attrs) && !t->has_spec; i++) {
		const X509_ATTRIBUTE *a = sk_X509_ATTRIBUTE_value(attrs, i);
		if (OBJ_cmp(X509_ATTRIBUTE_get0_object((X509_ATTRIBUTE *)a), tcg_oid[TCG_SPEC]) ==
		    0)
			read_spec_attribute(a, t);
	}
	ASN1_item_free((ASN1_VALUE *)attrs, ASN1_ITEM_rptr(SUBJECT_DIR_ATTRS));
}

err_t ekcert_tcg_read(X509 *x, struct ekcert_tpm_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!tcg_oids())
		return err_fail(ERR_INTERNAL, "cannot make TCG object identifiers");
	TRY(read_tcg_san(x, out));
	read_tpm_spec(x, out);
	return ERR_OK;
}
