/* TPM commands through ESAPI. The only file that includes tss2_esys.h.
 *
 * Ownership: t->ek, t->ak and t->policy are ESYS_TR_NONE or held by t;
 * release_object() is the one place that lets go of an object (flush for
 * transient, close for persistent), and tpmdev_close calls it for each. */
#include "tpm.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "log.h"
#include "templates.h"
#include "tpm_crypto.h"

/* TPM_RH_NULL etc. aside, NV indices are 0x01xxxxxx (TPM 2.0 Part 2 §7.4). */
#define NV_INDEX_FIRST 0x01000000u
#define NV_INDEX_LAST  0x01ffffffu

/* A PCR may be extended between reading it and quoting it (a late boot
 * event); a third mismatch in a row means something keeps extending it. */
#define QUOTE_ATTEMPTS 3

/* NV reads go in chunks of TPM2_PT_NV_BUFFER_MAX; when a TPM does not say,
 * 512 bytes is the smallest value the PC Client profile allows. */
#define NV_CHUNK_FALLBACK 512

/* PCRs fit in 3 selection bytes on PC Client TPMs (PCR_COUNT == 24). */
#define PCR_SELECT_BYTES 3

struct tpmdev {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
	ESYS_TR ek;
	bool ek_transient;
	ESYS_TR ak;
	bool ak_transient;
	ESYS_TR policy; /* PolicySecret(endorsement) session for the EK */
};

static err_t tpm_failed(const char *command, TSS2_RC rc)
{
	return err_fail(ERR_INTERNAL, "%s: %s", command, Tss2_RC_Decode(rc));
}

static void release_object(struct tpmdev *t, ESYS_TR *h, bool transient)
{
	TSS2_RC rc;

	if (*h == ESYS_TR_NONE)
		return;
	rc = transient ? Esys_FlushContext(t->esys, *h) : Esys_TR_Close(t->esys, h);
	if (rc != TSS2_RC_SUCCESS)
		log_warn("TPM: releasing a %s object failed: %s",
			 transient ? "transient" : "persistent", Tss2_RC_Decode(rc));
	*h = ESYS_TR_NONE;
}

err_t tpmdev_open(const char *tcti, struct tpmdev **out)
{
	struct tpmdev *t = calloc(1, sizeof(*t));
	TSS2_RC rc;

	*out = NULL;
	if (t == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	t->ek = t->ak = t->policy = ESYS_TR_NONE;
	rc = Tss2_TctiLdr_Initialize(tcti, &t->tcti);
	if (rc != TSS2_RC_SUCCESS) {
		free(t);
		return err_fail(ERR_INTERNAL, "cannot open the TPM through TCTI '%s': %s", tcti,
				Tss2_RC_Decode(rc));
	}
	rc = Esys_Initialize(&t->esys, t->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		Tss2_TctiLdr_Finalize(&t->tcti);
		free(t);
		return tpm_failed("Esys_Initialize", rc);
	}
	*out = t;
	return ERR_OK;
}

void tpmdev_close(struct tpmdev *t)
{
	if (t == NULL)
		return;
	release_object(t, &t->ak, t->ak_transient);
	release_object(t, &t->ek, t->ek_transient);
	release_object(t, &t->policy, true);
	Esys_Finalize(&t->esys);
	Tss2_TctiLdr_Finalize(&t->tcti);
	free(t);
}

/* One TPM2_GetCapability(TPM_CAP_HANDLES) page from `from`. */
static err_t handles_from(struct tpmdev *t, uint32_t from, TPMS_CAPABILITY_DATA **data)
{
	TPMI_YES_NO more;
	TSS2_RC rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
					TPM2_CAP_HANDLES, from, TPM2_MAX_CAP_HANDLES, &more, data);

	return rc == TSS2_RC_SUCCESS ? ERR_OK : tpm_failed("TPM2_GetCapability(handles)", rc);
}

err_t tpmdev_nv_list(struct tpmdev *t, uint32_t first, uint32_t last, uint32_t *out, size_t cap,
		     size_t *count)
{
	uint32_t from = first;

	*count = 0;
	/* Each page starts after the last handle of the one before, so the
	 * loop ends when a page is empty or runs past `last`. */
	for (;;) {
		TPMS_CAPABILITY_DATA *data = NULL;
		uint32_t n;

		TRY(handles_from(t, from, &data));
		n = data->data.handles.count;
		for (uint32_t i = 0; i < n; i++) {
			uint32_t h = data->data.handles.handle[i];

			if (h < from || h > last || h > NV_INDEX_LAST) {
				n = 0; /* outside the range: done */
				break;
			}
			if (*count == cap) {
				Esys_Free(data);
				return err_fail(ERR_INTERNAL,
						"more than %zu NV indices in "
						"0x%08x..0x%08x",
						cap, first, last);
			}
			out[(*count)++] = h;
			from = h + 1;
		}
		Esys_Free(data);
		if (n == 0 || from == 0 || from > last)
			return ERR_OK;
	}
}

err_t tpmdev_persistent_exists(struct tpmdev *t, uint32_t handle, bool *exists)
{
	TPMS_CAPABILITY_DATA *data = NULL;

	TRY(handles_from(t, handle, &data));
	*exists = data->data.handles.count > 0 && data->data.handles.handle[0] == handle;
	Esys_Free(data);
	return ERR_OK;
}

static size_t nv_chunk_size(struct tpmdev *t)
{
	TPMS_CAPABILITY_DATA *data = NULL;
	TPMI_YES_NO more;
	size_t chunk = NV_CHUNK_FALLBACK;
	TSS2_RC rc =
	    Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
			       TPM2_CAP_TPM_PROPERTIES, TPM2_PT_NV_BUFFER_MAX, 1, &more, &data);

	if (rc == TSS2_RC_SUCCESS && data->data.tpmProperties.count == 1 &&
	    data->data.tpmProperties.tpmProperty[0].property == TPM2_PT_NV_BUFFER_MAX &&
	    data->data.tpmProperties.tpmProperty[0].value > 0)
		chunk = data->data.tpmProperties.tpmProperty[0].value;
	Esys_Free(data);
	/* The response buffer of ESAPI holds no more than this either. */
	return chunk < TPM2_MAX_NV_BUFFER_SIZE ? chunk : TPM2_MAX_NV_BUFFER_SIZE;
}

static err_t nv_read_all(struct tpmdev *t, ESYS_TR nv, ESYS_TR auth, uint8_t *buf, size_t len)
{
	size_t chunk = nv_chunk_size(t);

	for (size_t off = 0; off < len;) {
		TPM2B_MAX_NV_BUFFER *data = NULL;
		size_t want = len - off < chunk ? len - off : chunk;
		TSS2_RC rc = Esys_NV_Read(t->esys, auth, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE,
					  ESYS_TR_NONE, (UINT16)want, (UINT16)off, &data);

		if (rc != TSS2_RC_SUCCESS)
			return tpm_failed("TPM2_NV_Read", rc);
		if (data->size != want) {
			Esys_Free(data);
			return err_fail(ERR_INTERNAL, "TPM2_NV_Read: asked for %zu bytes, got %u",
					want, data->size);
		}
		memcpy(buf + off, data->buffer, want);
		Esys_Free(data);
		off += want;
	}
	return ERR_OK;
}

err_t tpmdev_nv_read(struct tpmdev *t, uint32_t index, size_t max, uint8_t **out, size_t *len)
{
	ESYS_TR nv = ESYS_TR_NONE, auth;
	TPM2B_NV_PUBLIC *pub = NULL;
	uint8_t *buf = NULL;
	size_t size;
	err_t rc = ERR_OK;
	TSS2_RC trc;

	*out = NULL;
	*len = 0;
	trc = Esys_TR_FromTPMPublic(t->esys, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nv);
	if (trc != TSS2_RC_SUCCESS)
		return tpm_failed("TPM2_NV_ReadPublic", trc);
	trc = Esys_NV_ReadPublic(t->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL);
	if (trc != TSS2_RC_SUCCESS) {
		rc = tpm_failed("TPM2_NV_ReadPublic", trc);
		goto out;
	}
	size = pub->nvPublic.dataSize;
	if (size == 0 || size > max) {
		rc = err_fail(ERR_INTERNAL, "NV 0x%08x holds %zu bytes (expected 1..%zu)", index,
			      size, max);
		goto out;
	}
	/* EK certificate indices are readable with their own empty auth
	 * (TPMA_NV_AUTHREAD) and by the owner; the platform is not ours. */
	if (pub->nvPublic.attributes & TPMA_NV_AUTHREAD) {
		auth = nv;
	} else if (pub->nvPublic.attributes & TPMA_NV_OWNERREAD) {
		auth = ESYS_TR_RH_OWNER;
	} else {
		rc = err_fail(ERR_INTERNAL,
			      "NV 0x%08x is readable by neither its auth nor "
			      "the owner",
			      index);
		goto out;
	}
	buf = malloc(size);
	if (buf == NULL) {
		rc = err_fail(ERR_INTERNAL, "out of memory");
		goto out;
	}
	TRY_OUT(rc, nv_read_all(t, nv, auth, buf, size));
	*out = buf;
	*len = size;
	buf = NULL;
out:
	free(buf);
	Esys_Free(pub);
	Esys_TR_Close(t->esys, &nv);
	return rc;
}

/* A persistent object as an ESYS_TR, and its public area. */
static err_t open_persistent(struct tpmdev *t, uint32_t handle, ESYS_TR *obj, TPM2B_PUBLIC *pub)
{
	TPM2B_PUBLIC *p = NULL;
	TSS2_RC rc =
	    Esys_TR_FromTPMPublic(t->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, obj);

	if (rc != TSS2_RC_SUCCESS) {
		*obj = ESYS_TR_NONE;
		return err_fail(ERR_INTERNAL, "persistent handle 0x%08x: %s", handle,
				Tss2_RC_Decode(rc));
	}
	rc = Esys_ReadPublic(t->esys, *obj, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &p, NULL,
			     NULL);
	if (rc != TSS2_RC_SUCCESS) {
		Esys_TR_Close(t->esys, obj);
		*obj = ESYS_TR_NONE;
		return tpm_failed("TPM2_ReadPublic", rc);
	}
	*pub = *p;
	Esys_Free(p);
	return ERR_OK;
}

err_t tpmdev_ek_use_persistent(struct tpmdev *t, uint32_t handle, TPM2B_PUBLIC *pub)
{
	release_object(t, &t->ek, t->ek_transient);
	TRY(open_persistent(t, handle, &t->ek, pub));
	t->ek_transient = false;
	return ERR_OK;
}

err_t tpmdev_ek_create(struct tpmdev *t, enum client_key_alg alg, TPM2B_PUBLIC *pub)
{
	TPM2B_SENSITIVE_CREATE sensitive = {0};
	TPM2B_PUBLIC template;
	TPM2B_DATA outside = {0};
	TPML_PCR_SELECTION creation_pcrs = {0};
	TPM2B_PUBLIC *p = NULL;
	TSS2_RC rc;

	release_object(t, &t->ek, t->ek_transient);
	template_ek(alg, &template);
	rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				ESYS_TR_NONE, &sensitive, &template, &outside, &creation_pcrs,
				&t->ek, &p, NULL, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		t->ek = ESYS_TR_NONE;
		return tpm_failed("TPM2_CreatePrimary(EK)", rc);
	}
	t->ek_transient = true;
	*pub = *p;
	Esys_Free(p);
	return ERR_OK;
}

/* Satisfies the EK's authPolicy (PolicySecret on the endorsement hierarchy)
 * for the next command. The session is started once and restarted before
 * each use, so a command that failed midway cannot leave a digest behind
 * that the next PolicySecret would extend. */
static err_t ek_policy(struct tpmdev *t)
{
	TPMT_SYM_DEF none = {.algorithm = TPM2_ALG_NULL};
	TSS2_RC rc;

	if (t->policy == ESYS_TR_NONE) {
		rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
					   ESYS_TR_NONE, ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &none,
					   TPM2_ALG_SHA256, &t->policy);
		if (rc != TSS2_RC_SUCCESS) {
			t->policy = ESYS_TR_NONE;
			return tpm_failed("TPM2_StartAuthSession", rc);
		}
	} else {
		rc = Esys_PolicyRestart(t->esys, t->policy, ESYS_TR_NONE, ESYS_TR_NONE,
					ESYS_TR_NONE);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_failed("TPM2_PolicyRestart", rc);
	}
	rc = Esys_PolicySecret(t->esys, ESYS_TR_RH_ENDORSEMENT, t->policy, ESYS_TR_PASSWORD,
			       ESYS_TR_NONE, ESYS_TR_NONE, NULL, NULL, NULL, 0, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_failed("TPM2_PolicySecret(endorsement)", rc);
	return ERR_OK;
}

static err_t need_ek(const struct tpmdev *t)
{
	if (t->ek == ESYS_TR_NONE)
		return err_fail(ERR_INTERNAL, "no EK loaded");
	return ERR_OK;
}

static err_t need_ak(const struct tpmdev *t)
{
	if (t->ak == ESYS_TR_NONE)
		return err_fail(ERR_INTERNAL, "no AK loaded");
	return ERR_OK;
}

err_t tpmdev_ak_create(struct tpmdev *t, enum client_key_alg alg, TPM2B_PUBLIC *pub)
{
	TPM2B_SENSITIVE_CREATE sensitive = {0};
	TPM2B_PUBLIC template;
	TPM2B_DATA outside = {0};
	TPML_PCR_SELECTION creation_pcrs = {0};
	TPM2B_PRIVATE *priv = NULL;
	TPM2B_PUBLIC *p = NULL;
	err_t rc = ERR_OK;
	TSS2_RC trc;

	TRY(need_ek(t));
	release_object(t, &t->ak, t->ak_transient);
	template_ak(alg, &template);
	TRY(ek_policy(t));
	trc = Esys_Create(t->esys, t->ek, t->policy, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive,
			  &template, &outside, &creation_pcrs, &priv, &p, NULL, NULL, NULL);
	if (trc != TSS2_RC_SUCCESS)
		return tpm_failed("TPM2_Create(AK)", trc);
	TRY_OUT(rc, ek_policy(t));
	trc = Esys_Load(t->esys, t->ek, t->policy, ESYS_TR_NONE, ESYS_TR_NONE, priv, p, &t->ak);
	if (trc != TSS2_RC_SUCCESS) {
		t->ak = ESYS_TR_NONE;
		rc = tpm_failed("TPM2_Load(AK)", trc);
		goto out;
	}
	t->ak_transient = true;
	*pub = *p;
out:
	Esys_Free(priv);
	Esys_Free(p);
	return rc;
}

err_t tpmdev_ak_use_persistent(struct tpmdev *t, uint32_t handle, TPM2B_PUBLIC *pub)
{
	release_object(t, &t->ak, t->ak_transient);
	TRY(open_persistent(t, handle, &t->ak, pub));
	t->ak_transient = false;
	return ERR_OK;
}

err_t tpmdev_ak_load_context(struct tpmdev *t, const TPMS_CONTEXT *ctx, TPM2B_PUBLIC *pub)
{
	TPM2B_PUBLIC *p = NULL;
	TSS2_RC rc;

	release_object(t, &t->ak, t->ak_transient);
	rc = Esys_ContextLoad(t->esys, ctx, &t->ak);
	if (rc != TSS2_RC_SUCCESS) {
		t->ak = ESYS_TR_NONE;
		return tpm_failed("TPM2_ContextLoad(AK)", rc);
	}
	t->ak_transient = true;
	rc = Esys_ReadPublic(t->esys, t->ak, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &p, NULL,
			     NULL);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_failed("TPM2_ReadPublic(AK)", rc);
	*pub = *p;
	Esys_Free(p);
	return ERR_OK;
}

err_t tpmdev_activate_credential(struct tpmdev *t, const TPM2B_ID_OBJECT *blob,
				 const TPM2B_ENCRYPTED_SECRET *encrypted, TPM2B_DIGEST *secret)
{
	TPM2B_DIGEST *info = NULL;
	TSS2_RC rc;

	TRY(need_ek(t));
	TRY(need_ak(t));
	TRY(ek_policy(t));
	/* The AK (ADMIN role, empty authValue) by password, the EK by policy. */
	rc = Esys_ActivateCredential(t->esys, t->ak, t->ek, ESYS_TR_PASSWORD, t->policy,
				     ESYS_TR_NONE, blob, encrypted, &info);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_failed("TPM2_ActivateCredential", rc);
	*secret = *info;
	OPENSSL_cleanse(info, sizeof(*info));
	Esys_Free(info);
	return ERR_OK;
}

static void selection_to_tpm(uint16_t bank, uint32_t mask, TPML_PCR_SELECTION *out)
{
	memset(out, 0, sizeof(*out));
	out->count = 1;
	out->pcrSelections[0].hash = bank;
	out->pcrSelections[0].sizeofSelect = PCR_SELECT_BYTES;
	for (unsigned i = 0; i < PCR_COUNT; i++) {
		if (mask & (1u << i))
			out->pcrSelections[0].pcrSelect[i / 8] |= (uint8_t)(1u << (i % 8));
	}
}

/* Takes the values one TPM2_PCR_Read returned, in the order of its
 * selection, into out; every returned PCR must be one still wanted. */
static err_t take_pcr_values(const TPML_PCR_SELECTION *sel, const TPML_DIGEST *values,
			     uint32_t *wanted, struct pcr_bank *out)
{
	uint32_t v = 0;

	for (uint32_t s = 0; s < sel->count && s < TPM2_NUM_PCR_BANKS; s++) {
		const TPMS_PCR_SELECTION *e = &sel->pcrSelections[s];

		for (unsigned i = 0; i < e->sizeofSelect && i < TPM2_PCR_SELECT_MAX; i++) {
			for (unsigned bit = 0; bit < 8; bit++) {
				unsigned pcr = i * 8 + bit;

				if (!(e->pcrSelect[i] & (1u << bit)))
					continue;
				if (e->hash != out->alg || pcr >= PCR_COUNT ||
				    !(*wanted & (1u << pcr)) || v >= values->count ||
				    values->digests[v].size != out->digest_len)
					return err_fail(ERR_INTERNAL, "TPM2_PCR_Read answered "
								      "PCRs it was not asked for");
				memcpy(out->value[pcr], values->digests[v].buffer, out->digest_len);
				out->present |= 1u << pcr;
				*wanted &= ~(1u << pcr);
				v++;
			}
		}
	}
	if (v != values->count)
		return err_fail(ERR_INTERNAL, "TPM2_PCR_Read: more values than PCRs");
	return ERR_OK;
}

err_t tpmdev_pcr_read(struct tpmdev *t, const struct pcr_selection *sel, struct pcr_bank *out)
{
	uint32_t wanted = sel->mask;

	memset(out, 0, sizeof(*out));
	out->alg = sel->bank;
	out->digest_len = tpm_hash_size(sel->bank);
	if (out->digest_len == 0 || out->digest_len > PCR_DIGEST_MAX)
		return err_fail(ERR_INTERNAL, "PCR bank 0x%04x not supported", sel->bank);
	/* A TPM answers at most 8 PCRs per read; each round takes what it
	 * answered off the wanted set, and a round answering none ends it. */
	while (wanted != 0) {
		TPML_PCR_SELECTION in, *got = NULL;
		TPML_DIGEST *values = NULL;
		uint32_t before = wanted;
		err_t rc;
		TSS2_RC trc;

		selection_to_tpm(sel->bank, wanted, &in);
		trc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &in, NULL,
				    &got, &values);
		if (trc != TSS2_RC_SUCCESS)
			return tpm_failed("TPM2_PCR_Read", trc);
		rc = take_pcr_values(got, values, &wanted, out);
		Esys_Free(got);
		Esys_Free(values);
		TRY(rc);
		if (wanted == before)
			return err_fail(ERR_INTERNAL,
					"the TPM has no %s PCR bank with the "
					"selected PCRs",
					pcr_bank_name(sel->bank) ? pcr_bank_name(sel->bank)
								 : "such");
	}
	return ERR_OK;
}

/* True when the quote covers exactly sel and its digest is H(values), H the
 * AK's signing hash: the values are the ones the TPM signed. */
static err_t quote_matches(const struct tpmdev_quote *q, const struct pcr_selection *sel,
			   bool *match)
{
	TPMS_ATTEST attest;
	size_t off = 0;
	uint8_t digest[TPM_HASH_MAX];
	unsigned digest_len = 0;
	const EVP_MD *md = tpm_hash_md(q->signature.signature.any.hashAlg);
	EVP_MD_CTX *ctx;
	bool ok;

	*match = false;
	memset(&attest, 0, sizeof(attest));
	if (Tss2_MU_TPMS_ATTEST_Unmarshal(q->attest.attestationData, q->attest.size, &off,
					  &attest) != TSS2_RC_SUCCESS ||
	    off != q->attest.size || attest.type != TPM2_ST_ATTEST_QUOTE)
		return err_fail(ERR_INTERNAL, "TPM2_Quote returned no quote structure");
	if (md == NULL)
		return err_fail(ERR_INTERNAL, "the AK signs with an unsupported hash");
	if (!pcr_selection_equals(sel, &attest.attested.quote.pcrSelect))
		return err_fail(ERR_INTERNAL, "TPM2_Quote covered another PCR selection");
	ctx = EVP_MD_CTX_new();
	ok = ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1;
	for (unsigned i = 0; ok && i < PCR_COUNT; i++) {
		if (sel->mask & (1u << i))
			ok = EVP_DigestUpdate(ctx, q->pcrs.value[i], q->pcrs.digest_len) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(ctx, digest, &digest_len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return err_fail(ERR_INTERNAL, "hashing the PCR values failed");
	*match = attest.attested.quote.pcrDigest.size == digest_len &&
		 memcmp(attest.attested.quote.pcrDigest.buffer, digest, digest_len) == 0;
	return ERR_OK;
}

err_t tpmdev_quote(struct tpmdev *t, const uint8_t nonce[static QUOTE_NONCE_SIZE],
		   const struct pcr_selection *sel, struct tpmdev_quote *out)
{
	TPM2B_DATA qualifying = {.size = QUOTE_NONCE_SIZE};
	TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_NULL}; /* the AK's own */
	TPML_PCR_SELECTION tpm_sel;

	TRY(need_ak(t));
	memcpy(qualifying.buffer, nonce, QUOTE_NONCE_SIZE);
	selection_to_tpm(sel->bank, sel->mask, &tpm_sel);
	for (int attempt = 1; attempt <= QUOTE_ATTEMPTS; attempt++) {
		TPM2B_ATTEST *attest = NULL;
		TPMT_SIGNATURE *sig = NULL;
		bool match;
		TSS2_RC rc;

		memset(out, 0, sizeof(*out));
		TRY(tpmdev_pcr_read(t, sel, &out->pcrs));
		rc = Esys_Quote(t->esys, t->ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
				&qualifying, &scheme, &tpm_sel, &attest, &sig);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_failed("TPM2_Quote", rc);
		out->attest = *attest;
		out->signature = *sig;
		Esys_Free(attest);
		Esys_Free(sig);
		TRY(quote_matches(out, sel, &match));
		if (match)
			return ERR_OK;
		log_info("a PCR changed while quoting; quoting again");
	}
	return err_fail(ERR_INTERNAL, "PCRs kept changing during %d quotes", QUOTE_ATTEMPTS);
}
