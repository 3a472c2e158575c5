/* A software twin of one machine's TPM (see soft_tpm.h): keys and TPM
 * structures from tests/unit/tpm_soft, the EK certificate issued here with
 * OpenSSL from the same extension text scripts/swtpm-fixture gives the
 * openssl CLI, and a synthetic measured boot whose PCRs are extended as the
 * log is written (independently of the verifier's replay). */
#include "soft_tpm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/conf.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <tss2/tss2_mu.h>

#include "abuf.h"
#include "efi_siglist.h"
#include "evlog.h"
#include "tpm_crypto.h"
#include "tpm_soft.h"
#include "tpm_wire.h"

/* Room for the synthetic log (~30 KB) with margin. */
#define SOFT_EVLOG_CAP (64 * 1024)
/* Scratch room for one event's data: dbx is the largest, ~24 KB. */
#define SOFT_EVENT_DATA_CAP (32 * 1024)
/* Revoked-image hashes in dbx. Real dbx updates carry 200-430 SHA-256
 * entries; 500 brings the whole log to the ~30 KB of a real UEFI boot
 * (NOTES-performance.md prices a 30 KB log). */
#define SOFT_DBX_ENTRIES 500
/* Hashes in db: a vendor db holds a few certificates; hashes keep every
 * signature list well-formed without shipping certificates. */
#define SOFT_DB_ENTRIES 40
/* EK certificates of real parts are valid for 10-30 years. */
#define SOFT_EK_CERT_DAYS 3650
#define SOFT_SHA256	  32

/* TCG EK Credential Profile: the L-1/L-2 templates' authPolicy, PolicyA
 * (PolicySecret(TPM_RH_ENDORSEMENT)) with SHA-256. */
static const uint8_t policy_a_sha256[SOFT_SHA256] = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa};

/* UEFI GUIDs in their on-disk (mixed-endian) byte order. */
static const uint8_t efi_global_variable[16] = {0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
						0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c};
static const uint8_t efi_image_security_database[16] = {
    0xcb, 0xb2, 0x19, 0xd7, 0x3a, 0x3d, 0x96, 0x45, 0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f};
/* Signature owner of the dbx entries (Microsoft's, as on real machines). */
static const uint8_t signature_owner[16] = {0xbd, 0x9a, 0xfa, 0x77, 0x59, 0x03, 0x32, 0x4d,
					    0xbd, 0x60, 0x28, 0xf4, 0xe7, 0x8f, 0x78, 0x4b};

/* The EK certificate extensions of scripts/swtpm-fixture (TCG EK Credential
 * Profile: critical SAN directoryName with tpmManufacturer/Model/Version,
 * EKU tcg-kp-EKCertificate, tpmSpecification in subjectDirectoryAttributes):
 * section ek for both key types, ek_rsa or ek_ecc for the key usage.
 * openssl drops a name's text up to its first '.', hence "1." before each
 * OID of the directory name. */
static const char ek_extensions[] = "[ek]\n"
				    "extendedKeyUsage = 2.23.133.8.1\n"
				    "basicConstraints = critical, CA:FALSE\n"
				    "subjectAltName = critical, dirName:tpm_device\n"
				    "authorityKeyIdentifier = keyid\n"
				    "certificatePolicies = 2.5.29.32.0\n"
				    "2.5.29.9 = ASN1:SEQUENCE:subject_directory_attributes\n"
				    "[ek_rsa]\n"
				    "keyUsage = critical, keyEncipherment\n"
				    "[ek_ecc]\n"
				    "keyUsage = critical, keyAgreement\n"
				    "[tpm_device]\n"
				    "1.2.23.133.2.1 = " SOFT_TPM_MANUFACTURER "\n"
				    "1.2.23.133.2.2 = " SOFT_TPM_MODEL "\n"
				    "1.2.23.133.2.3 = " SOFT_TPM_VERSION "\n"
				    "[subject_directory_attributes]\n"
				    "tpm_specification = SEQUENCE:tpm_specification_attribute\n"
				    "[tpm_specification_attribute]\n"
				    "type = OID:2.23.133.2.16\n"
				    "values = SET:tpm_specification_values\n"
				    "[tpm_specification_values]\n"
				    "value = SEQUENCE:tpm_specification\n"
				    "[tpm_specification]\n"
				    "family = UTF8:2.0\n"
				    "level = INT:0\n"
				    "revision = INT:159\n";

struct soft_tpm {
	EVP_PKEY *ek_key, *ak_key;
	struct tpm_ek ek; /* the EK public as MakeCredential saw it */
	TPM2B_NAME ak_name;
	uint8_t ek_pub[sizeof(TPM2B_PUBLIC)], ak_pub[sizeof(TPM2B_PUBLIC)];
	size_t ek_pub_len, ak_pub_len;
	uint8_t *ek_cert, *ek_chain;
	size_t ek_cert_len, ek_chain_len;
	uint8_t log[SOFT_EVLOG_CAP];
	size_t log_len;
	uint8_t pcr[EVLOG_PCR_COUNT][SOFT_SHA256];
	uint64_t clock_ms;
};

static void die(const char *what)
{
	fprintf(stderr, "soft_tpm: %s failed\n", what);
	abort();
}

/* ---- the EK certificate ---- */

static void *read_pem(const char *dir, const char *rel, bool key)
{
	char path[4096];
	BIO *in = NULL;
	void *obj;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, rel) >= sizeof(path) ||
	    (in = BIO_new_file(path, "r")) == NULL)
		die(rel);
	obj = key ? (void *)PEM_read_bio_PrivateKey(in, NULL, NULL, NULL)
		  : (void *)PEM_read_bio_X509(in, NULL, NULL, NULL);
	BIO_free(in);
	if (obj == NULL)
		die(rel);
	return obj;
}

static size_t to_der(X509 *x, uint8_t **out)
{
	int len = i2d_X509(x, out);

	if (len <= 0)
		die("i2d_X509");
	return (size_t)len;
}

static void issue_ek_cert(struct soft_tpm *t, enum soft_ek_type type, const char *pki_dir)
{
	bool rsa = type == SOFT_EK_RSA;
	X509 *ca = read_pem(pki_dir,
			    rsa ? "intermediates/rsa-intermediate.pem"
				: "intermediates/ecc-intermediate.pem",
			    false);
	EVP_PKEY *ca_key = read_pem(
	    pki_dir, rsa ? "private/rsa-intermediate.key" : "private/ecc-intermediate.key", true);
	BIO *text = BIO_new_mem_buf(ek_extensions, -1);
	CONF *conf = NCONF_new_ex(NULL, NULL);
	X509 *cert = X509_new();
	X509_NAME *empty = X509_NAME_new();
	BIGNUM *serial = BN_new();
	X509V3_CTX ctx;
	long errline = 0;

	/* Subject empty, as on STMicro parts; the SAN names the TPM. */
	if (text == NULL || conf == NULL || cert == NULL || empty == NULL || serial == NULL ||
	    NCONF_load_bio(conf, text, &errline) != 1 ||
	    X509_set_version(cert, X509_VERSION_3) != 1 ||
	    BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
	    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert)) == NULL ||
	    X509_set_issuer_name(cert, X509_get_subject_name(ca)) != 1 ||
	    X509_set_subject_name(cert, empty) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(cert), -86400) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(cert), SOFT_EK_CERT_DAYS, 0, NULL) == NULL ||
	    X509_set_pubkey(cert, t->ek_key) != 1)
		die("EK certificate fields");
	X509V3_set_ctx(&ctx, ca, cert, NULL, NULL, 0);
	X509V3_set_nconf(&ctx, conf);
	if (X509V3_EXT_add_nconf(conf, &ctx, rsa ? "ek_rsa" : "ek_ecc", cert) != 1 ||
	    X509V3_EXT_add_nconf(conf, &ctx, "ek", cert) != 1 ||
	    X509_sign(cert, ca_key, EVP_sha256()) <= 0)
		die("EK certificate extensions and signature");
	t->ek_cert_len = to_der(cert, &t->ek_cert);
	t->ek_chain_len = to_der(ca, &t->ek_chain);
	BN_free(serial);
	X509_NAME_free(empty);
	X509_free(cert);
	NCONF_free(conf);
	BIO_free(text);
	EVP_PKEY_free(ca_key);
	X509_free(ca);
}

/* ---- the measured boot ---- */

static void put_u16le(struct wbuf *w, uint16_t v)
{
	wbuf_u8(w, (uint8_t)v);
	wbuf_u8(w, (uint8_t)(v >> 8));
}

static void put_u64le(struct wbuf *w, uint64_t v)
{
	wbuf_u32le(w, (uint32_t)v);
	wbuf_u32le(w, (uint32_t)(v >> 32));
}

/* ASCII as UTF-16LE, with the terminating zero when asked. */
static void put_utf16(struct wbuf *w, const char *s, bool nul)
{
	for (; *s != '\0'; s++)
		put_u16le(w, (uint8_t)*s);
	if (nul)
		put_u16le(w, 0);
}

static void sha(const char *md, const void *p, size_t n, uint8_t *out)
{
	if (EVP_Digest(p, n, out, NULL, EVP_get_digestbyname(md), NULL) != 1)
		die("digest");
}

static void extend(uint8_t pcr[SOFT_SHA256], const uint8_t digest[SOFT_SHA256])
{
	uint8_t both[2 * SOFT_SHA256];

	memcpy(both, pcr, SOFT_SHA256);
	memcpy(both + SOFT_SHA256, digest, SOFT_SHA256);
	sha("SHA256", both, sizeof(both), pcr);
}

/* Appends a TCG_PCR_EVENT2 with SHA-1 and SHA-256 digests of `measured`
 * (the event data itself when NULL) and extends the SHA-256 PCR. */
static void log_event(struct soft_tpm *t, struct wbuf *log, uint32_t pcr, uint32_t type,
		      const uint8_t *data, size_t len, const uint8_t *measured, size_t measured_len)
{
	uint8_t d1[20], d256[SOFT_SHA256];

	if (measured == NULL) {
		measured = data;
		measured_len = len;
	}
	sha("SHA1", measured, measured_len, d1);
	sha("SHA256", measured, measured_len, d256);
	wbuf_u32le(log, pcr);
	wbuf_u32le(log, type);
	wbuf_u32le(log, 2);
	put_u16le(log, TPM2_ALG_SHA1);
	wbuf_put(log, d1, sizeof(d1));
	put_u16le(log, TPM2_ALG_SHA256);
	wbuf_put(log, d256, sizeof(d256));
	wbuf_u32le(log, (uint32_t)len);
	wbuf_put(log, data, len);
	extend(t->pcr[pcr], d256);
}

/* The first event of a crypto-agile log: TCG_PCClientPCREvent with the
 * "Spec ID Event03" structure declaring the SHA-1 and SHA-256 banks. */
static void log_spec_id(struct wbuf *log)
{
	static const uint8_t signature[16] = "Spec ID Event03";
	static const uint8_t version[] = {0, 2, 0, 2}; /* spec 2.0 errata 0, 64-bit UINTN */
	uint8_t body[64];
	struct wbuf b;

	wbuf_init(&b, body, sizeof(body));
	wbuf_put(&b, signature, sizeof(signature));
	wbuf_u32le(&b, 0); /* platformClass: client */
	wbuf_put(&b, version, sizeof(version));
	wbuf_u32le(&b, 2);
	put_u16le(&b, TPM2_ALG_SHA1);
	put_u16le(&b, 20);
	put_u16le(&b, TPM2_ALG_SHA256);
	put_u16le(&b, SOFT_SHA256);
	wbuf_u8(&b, 0); /* vendorInfoSize */
	if (!wbuf_ok(&b))
		die("Spec ID event");
	wbuf_u32le(log, 0);
	wbuf_u32le(log, EV_NO_ACTION);
	for (int i = 0; i < 20; i++)
		wbuf_u8(log, 0);
	wbuf_u32le(log, (uint32_t)b.len);
	wbuf_put(log, body, b.len);
}

/* UEFI_VARIABLE_DATA of a variable whose value the caller writes after. */
static void put_variable_head(struct wbuf *w, const uint8_t guid[16], const char *name,
			      size_t value_len)
{
	wbuf_put(w, guid, 16);
	put_u64le(w, strlen(name));
	put_u64le(w, value_len);
	put_utf16(w, name, false);
}

/* An EFI_SIGNATURE_LIST of `count` SHA-256 hashes of "<name> <i>". */
static void put_hash_list(struct wbuf *w, const char *name, unsigned count)
{
	const uint32_t sig_size = 16 + SOFT_SHA256;

	wbuf_put(w, efi_cert_sha256_guid, 16);
	wbuf_u32le(w, 28 + count * sig_size);
	wbuf_u32le(w, 0);
	wbuf_u32le(w, sig_size);
	for (unsigned i = 0; i < count; i++) {
		char seed[64];
		uint8_t h[SOFT_SHA256];
		int n = snprintf(seed, sizeof(seed), "%s %u", name, i);

		sha("SHA256", seed, (size_t)n, h);
		wbuf_put(w, signature_owner, 16);
		wbuf_put(w, h, sizeof(h));
	}
}

static void log_secure_boot_variable(struct soft_tpm *t, struct wbuf *log, const char *name,
				     unsigned entries)
{
	uint8_t *data = malloc(SOFT_EVENT_DATA_CAP);
	const uint8_t *guid = strcmp(name, "db") == 0 || strcmp(name, "dbx") == 0
				  ? efi_image_security_database
				  : efi_global_variable;
	struct wbuf w;

	if (data == NULL)
		die("allocation");
	wbuf_init(&w, data, SOFT_EVENT_DATA_CAP);
	put_variable_head(&w, guid, name, 28 + entries * (16 + SOFT_SHA256));
	put_hash_list(&w, name, entries);
	if (!wbuf_ok(&w))
		die(name);
	log_event(t, log, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, data, w.len, NULL, 0);
	free(data);
}

/* A hard-disk partition node (GPT), a file path node and the end node. */
static void put_device_path(struct wbuf *w, const char *file)
{
	static const uint8_t partition_guid[16] = {0x3c, 0x7a, 0x11, 0x52, 0x9e, 0x04, 0x4b, 0x4f,
						   0x8d, 0x61, 0x2a, 0xe5, 0x19, 0x7c, 0xd0, 0x44};
	static const uint8_t hard_drive[] = {4, 1}, file_path[] = {4, 4}, end[] = {0x7f, 0xff};
	static const uint8_t gpt_guid_signature[] = {2, 2};

	wbuf_put(w, hard_drive, 2);
	put_u16le(w, 42);
	wbuf_u32le(w, 1);
	put_u64le(w, 2048);
	put_u64le(w, 1050624);
	wbuf_put(w, partition_guid, 16);
	wbuf_put(w, gpt_guid_signature, 2);
	wbuf_put(w, file_path, 2);
	put_u16le(w, (uint16_t)(4 + 2 * (strlen(file) + 1)));
	put_utf16(w, file, true);
	wbuf_put(w, end, 2);
	put_u16le(w, 4);
}

static size_t device_path_len(const char *file)
{
	return 42 + 4 + 2 * (strlen(file) + 1) + 4;
}

static void log_boot_option(struct soft_tpm *t, struct wbuf *log)
{
	static const char file[] = "\\EFI\\debian\\shimx64.efi";
	uint8_t data[512];
	struct wbuf w;
	size_t option_len = 4 + 2 + 2 * (strlen("debian") + 1) + device_path_len(file);

	wbuf_init(&w, data, sizeof(data));
	put_variable_head(&w, efi_global_variable, "Boot0000", option_len);
	wbuf_u32le(&w, 1); /* LOAD_OPTION_ACTIVE */
	put_u16le(&w, (uint16_t)device_path_len(file));
	put_utf16(&w, "debian", true);
	put_device_path(&w, file);
	if (!wbuf_ok(&w))
		die("Boot0000");
	log_event(t, log, 1, EV_EFI_VARIABLE_BOOT, data, w.len, NULL, 0);

	wbuf_init(&w, data, sizeof(data));
	put_variable_head(&w, efi_global_variable, "BootOrder", 2);
	put_u16le(&w, 0);
	if (!wbuf_ok(&w))
		die("BootOrder");
	log_event(t, log, 1, EV_EFI_VARIABLE_BOOT, data, w.len, NULL, 0);
}

/* UEFI_IMAGE_LOAD_EVENT; the digest stands for the image's Authenticode
 * hash, here the hash of a stand-in body. */
static void log_image(struct soft_tpm *t, struct wbuf *log, const char *file, const char *body)
{
	uint8_t data[512];
	struct wbuf w;

	wbuf_init(&w, data, sizeof(data));
	put_u64le(&w, 0x7a000000);
	put_u64le(&w, 1u << 20);
	put_u64le(&w, 0);
	put_u64le(&w, device_path_len(file));
	put_device_path(&w, file);
	if (!wbuf_ok(&w))
		die(file);
	log_event(t, log, 4, EV_EFI_BOOT_SERVICES_APPLICATION, data, w.len, (const uint8_t *)body,
		  strlen(body));
}

static void log_text(struct soft_tpm *t, struct wbuf *log, uint32_t pcr, uint32_t type,
		     const char *text, const char *measured)
{
	log_event(t, log, pcr, type, (const uint8_t *)text, strlen(text), (const uint8_t *)measured,
		  measured != NULL ? strlen(measured) : 0);
}

/* A physical UEFI machine's boot as scripts/fake-boot plays it, with Secure
 * Boot key databases of real size. */
static void synthesize_boot(struct soft_tpm *t)
{
	static const uint8_t separator[4] = {0};
	static const uint8_t secure_boot_on[] = {1};
	uint8_t data[128], firmware[4096];
	struct wbuf log, w;

	/* PC Client TPMs reset PCRs 17-22 (the late-launch ones) to all ones. */
	for (unsigned pcr = 17; pcr <= 22; pcr++)
		memset(t->pcr[pcr], 0xff, SOFT_SHA256);
	wbuf_init(&log, t->log, sizeof(t->log));
	log_spec_id(&log);

	wbuf_init(&w, data, sizeof(data));
	put_utf16(&w, "1.21.0", true);
	log_event(t, &log, 0, EV_S_CRTM_VERSION, data, w.len, NULL, 0);
	memset(firmware, 0xa5, sizeof(firmware));
	wbuf_init(&w, data, sizeof(data));
	put_u64le(&w, 0xff000000);
	put_u64le(&w, sizeof(firmware));
	log_event(t, &log, 0, EV_EFI_PLATFORM_FIRMWARE_BLOB, data, w.len, firmware,
		  sizeof(firmware));

	wbuf_init(&w, data, sizeof(data));
	put_variable_head(&w, efi_global_variable, "SecureBoot", 1);
	wbuf_put(&w, secure_boot_on, 1);
	log_event(t, &log, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, data, w.len, NULL, 0);
	log_secure_boot_variable(t, &log, "PK", 1);
	log_secure_boot_variable(t, &log, "KEK", 2);
	log_secure_boot_variable(t, &log, "db", SOFT_DB_ENTRIES);
	log_secure_boot_variable(t, &log, "dbx", SOFT_DBX_ENTRIES);
	log_boot_option(t, &log);
	for (uint32_t pcr = 0; pcr < 8; pcr++)
		log_event(t, &log, pcr, EV_SEPARATOR, separator, sizeof(separator), NULL, 0);
	log_image(t, &log, "\\EFI\\debian\\shimx64.efi", "shim 15.8");
	log_image(t, &log, "\\EFI\\debian\\grubx64.efi", "grub 2.06");
	log_text(t, &log, 8, EV_IPL, "grub_cmd: linux /boot/vmlinuz root=/dev/sda2 ro quiet", NULL);
	log_text(t, &log, 9, EV_IPL, "/boot/vmlinuz", "kernel image");
	log_text(t, &log, 5, EV_EFI_ACTION, "Exit Boot Services Invocation", NULL);
	log_text(t, &log, 5, EV_EFI_ACTION, "Exit Boot Services Returned with Success", NULL);
	if (!wbuf_ok(&log))
		die("event log");
	t->log_len = log.len;
}

/* ---- keys, activation, quotes ---- */

struct soft_tpm *soft_tpm_new(enum soft_ek_type type, const char *pki_dir)
{
	struct soft_tpm *t = calloc(1, sizeof(*t));
	TPMT_PUBLIC ek_pub, ak_pub;

	if (t == NULL)
		die("allocation");
	t->ek_key = type == SOFT_EK_RSA ? soft_rsa_key(2048) : soft_ec_key("P-256");
	t->ak_key = soft_ec_key("P-256");
	soft_ek_public(t->ek_key, &ek_pub);
	ek_pub.authPolicy.size = sizeof(policy_a_sha256);
	memcpy(ek_pub.authPolicy.buffer, policy_a_sha256, sizeof(policy_a_sha256));
	soft_ak_public(t->ak_key, TPM2_ALG_ECDSA, &ak_pub);
	if (tpm_ek_load(&ek_pub, &t->ek) != ERR_OK ||
	    tpm_object_name(&ak_pub, &t->ak_name) != ERR_OK)
		die("EK load or AK name");
	t->ek_pub_len = soft_marshal_public(&ek_pub, t->ek_pub, sizeof(t->ek_pub));
	t->ak_pub_len = soft_marshal_public(&ak_pub, t->ak_pub, sizeof(t->ak_pub));
	issue_ek_cert(t, type, pki_dir);
	synthesize_boot(t);
	t->clock_ms = 3600000; /* an hour since power-on */
	return t;
}

void soft_tpm_free(struct soft_tpm *t)
{
	if (t == NULL)
		return;
	EVP_PKEY_free(t->ek_key);
	EVP_PKEY_free(t->ak_key);
	tpm_ek_release(&t->ek);
	OPENSSL_free(t->ek_cert);
	OPENSSL_free(t->ek_chain);
	free(t);
}

const uint8_t *soft_tpm_ek_cert(const struct soft_tpm *t, size_t *len)
{
	*len = t->ek_cert_len;
	return t->ek_cert;
}

const uint8_t *soft_tpm_ek_chain(const struct soft_tpm *t, size_t *len)
{
	*len = t->ek_chain_len;
	return t->ek_chain;
}

const uint8_t *soft_tpm_ek_pub(const struct soft_tpm *t, size_t *len)
{
	*len = t->ek_pub_len;
	return t->ek_pub;
}

const uint8_t *soft_tpm_ak_pub(const struct soft_tpm *t, size_t *len)
{
	*len = t->ak_pub_len;
	return t->ak_pub;
}

const uint8_t *soft_tpm_event_log(const struct soft_tpm *t, size_t *len)
{
	*len = t->log_len;
	return t->log;
}

const uint8_t *soft_tpm_pcr_sha256(const struct soft_tpm *t, unsigned index)
{
	return index < EVLOG_PCR_COUNT ? t->pcr[index] : NULL;
}

/* The sizes tpm_soft's activation relies on, checked before it reads:
 * whole TPM2B structures, an HMAC of the EK's name hash, a non-empty
 * encrypted secret, and an RSA block or a P-256 point of the EK's size. */
static bool credential_well_formed(const struct soft_tpm *t, const uint8_t *id, size_t id_len,
				   const uint8_t *secret, size_t secret_len)
{
	TPM2B_ID_OBJECT id_object;
	TPM2B_ENCRYPTED_SECRET enc;
	size_t off = 0, hmac_len = tpm_hash_size(t->ek.name_alg);

	if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(id, id_len, &off, &id_object) != TSS2_RC_SUCCESS ||
	    off != id_len || id_object.size < 2 + hmac_len + 2 ||
	    ((size_t)id_object.credential[0] << 8 | id_object.credential[1]) != hmac_len)
		return false;
	off = 0;
	if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(secret, secret_len, &off, &enc) !=
		TSS2_RC_SUCCESS ||
	    off != secret_len)
		return false;
	if (t->ek.pub.type == TPM2_ALG_RSA)
		return enc.size == t->ek.pub.unique.rsa.size;
	TPMS_ECC_POINT point;
	off = 0;
	return Tss2_MU_TPMS_ECC_POINT_Unmarshal(enc.secret, enc.size, &off, &point) ==
		   TSS2_RC_SUCCESS &&
	       off == enc.size && point.x.size == t->ek.pub.unique.ecc.x.size &&
	       point.y.size == point.x.size;
}

bool soft_tpm_activate(struct soft_tpm *t, const uint8_t *id_object, size_t id_object_len,
		       const uint8_t *encrypted_secret, size_t encrypted_secret_len, uint8_t *out,
		       size_t *out_len)
{
	struct tpm_credential cred;

	if (id_object_len > sizeof(cred.id_object) ||
	    encrypted_secret_len > sizeof(cred.encrypted_secret) ||
	    !credential_well_formed(t, id_object, id_object_len, encrypted_secret,
				    encrypted_secret_len))
		return false;
	memcpy(cred.id_object, id_object, id_object_len);
	cred.id_object_len = id_object_len;
	memcpy(cred.encrypted_secret, encrypted_secret, encrypted_secret_len);
	cred.encrypted_secret_len = encrypted_secret_len;
	return soft_activate(t->ek_key, &t->ek, &t->ak_name, &cred, out, out_len) == 1;
}

void soft_tpm_quote(struct soft_tpm *t, const uint8_t nonce[32], uint32_t mask, uint8_t *attest,
		    size_t *attest_len, uint8_t *sig, size_t *sig_len)
{
	uint8_t values[EVLOG_PCR_COUNT * SOFT_SHA256];
	size_t n = 0;
	TPMS_ATTEST a;
	TPMT_SIGNATURE s;

	for (unsigned i = 0; i < EVLOG_PCR_COUNT; i++) {
		if (mask & (1u << i))
			memcpy(values + SOFT_SHA256 * n++, t->pcr[i], SOFT_SHA256);
	}
	soft_quote(nonce, TPM2_ALG_SHA256, mask, values, SOFT_SHA256 * n, &a);
	a.qualifiedSigner = t->ak_name;
	t->clock_ms += 250;
	a.clockInfo.clock = t->clock_ms;
	*attest_len = soft_marshal_attest(&a, attest, SOFT_TPM_ATTEST_MAX);
	soft_sign(t->ak_key, TPM2_ALG_ECDSA, attest, *attest_len, &s);
	*sig_len = soft_marshal_signature(&s, sig, SOFT_TPM_SIGNATURE_MAX);
}
