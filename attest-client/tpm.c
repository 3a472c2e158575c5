/* TPM commands through ESAPI. The only file that includes tss2_esys.h.
 *
 * Ownership: t->ek, t->ak and t->policy are empty (ESYS_TR_NONE) or held by
 * t; release() is the one place that lets go of an object (flush for
 * transient, close for persistent), and tpmdev_close calls it for each. */
#include "tpm.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "log.h"
#include "quote_pcrs.h"
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

/* An object the client holds, and how to let go of it. */
struct held {
	ESYS_TR h;
	bool transient; /* flushed; a persistent object is only closed */
};

struct tpmdev {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
	struct held ek;
	struct held ak;
	struct held policy; /* PolicySecret(endorsement) session for the EK */
};

static err_t tpm_failed(const char *command, TSS2_RC rc)
{
	return err_fail(ERR_INTERNAL, "%s: %s", command, Tss2_RC_Decode(rc));
}

static void release(struct tpmdev *t, struct held *o)
{
	TSS2_RC rc;

	if (o->h == ESYS_TR_NONE)
		return;
	rc = o->transient ? Esys_FlushContext(t->esys, o->h) : Esys_TR_Close(t->esys, &o->h);
	if (rc != TSS2_RC_SUCCESS)
		log_warn("TPM: releasing a %s object failed: %s",
			 o->transient ? "transient" : "persistent", Tss2_RC_Decode(rc));
	o->h = ESYS_TR_NONE;
}

/* Takes a new transient object or session into o (empty beforehand). */
static void hold_transient(struct held *o, ESYS_TR h)
{
	o->h = h;
	o->transient = true;
}

err_t tpmdev_open(const char *tcti, struct tpmdev **out)
{
	struct tpmdev *t = calloc(1, sizeof(*t));
	TSS2_RC rc;

	*out = NULL;
	if (t == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	t->ek.h = t->ak.h = t->policy.h = ESYS_TR_NONE;
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
	release(t, &t->ak);
	release(t, &t->ek);
	release(t, &t->policy);
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

static err_t read_public(struct tpmdev *t, ESYS_TR obj, TPM2B_PUBLIC *pub)
{
	TPM2B_PUBLIC *p = NULL;
	TSS2_RC rc =
	    Esys_ReadPublic(t->esys, obj, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &p, NULL, NULL);

	if (rc != TSS2_RC_SUCCESS)
		return tpm_failed("TPM2_ReadPublic", rc);
	*pub = *p;
	Esys_Free(p);
	return ERR_OK;
}

/* Makes o the persistent object at handle (letting go of what o held) and
 * gives its public area. */
static err_t hold_persistent(struct tpmdev *t, struct held *o, uint32_t handle, TPM2B_PUBLIC *pub)
{
	TSS2_RC rc;

	release(t, o);
	o->transient = false;
	rc =
	    Esys_TR_FromTPMPublic(t->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &o->h);
	if (rc != TSS2_RC_SUCCESS) {
		o->h = ESYS_TR_NONE;
		return err_fail(ERR_INTERNAL, "persistent handle 0x%08x: %s", handle,
				Tss2_RC_Decode(rc));
	}
	return read_public(t, o->h, pub);
}

err_t tpmdev_ek_use_persistent(struct tpmdev *t, uint32_t handle, TPM2B_PUBLIC *pub)
{
	return hold_persistent(t, &t->ek, handle, pub);
}

err_t tpmdev_ek_create(struct tpmdev *t, enum client_key_alg alg, TPM2B_PUBLIC *pub)
{
	TPM2B_SENSITIVE_CREATE sensitive = {0};
	TPM2B_PUBLIC template;
	TPM2B_DATA outside = {0};
	TPML_PCR_SELECTION creation_pcrs = {0};
	TPM2B_PUBLIC *p = NULL;
	ESYS_TR ek = ESYS_TR_NONE;
	TSS2_RC rc;

	release(t, &t->ek);
	template_ek(alg, &template);
	rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				ESYS_TR_NONE, &sensitive, &template, &outside, &creation_pcrs, &ek,
				&p, NULL, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_failed("TPM2_CreatePrimary(EK)", rc);
	hold_transient(&t->ek, ek);
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

	if (t->policy.h == ESYS_TR_NONE) {
		ESYS_TR session = ESYS_TR_NONE;

		rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
					   ESYS_TR_NONE, ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &none,
					   TPM2_ALG_SHA256, &session);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_failed("TPM2_StartAuthSession", rc);
		hold_transient(&t->policy, session);
	} else {
		rc = Esys_PolicyRestart(t->esys, t->policy.h, ESYS_TR_NONE, ESYS_TR_NONE,
					ESYS_TR_NONE);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_failed("TPM2_PolicyRestart", rc);
	}
	rc = Esys_PolicySecret(t->esys, ESYS_TR_RH_ENDORSEMENT, t->policy.h, ESYS_TR_PASSWORD,
			       ESYS_TR_NONE, ESYS_TR_NONE, NULL, NULL, NULL, 0, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_failed("TPM2_PolicySecret(endorsement)", rc);
	return ERR_OK;
}

static err_t need_ek(const struct tpmdev *t)
{
	if (t->ek.h == ESYS_TR_NONE)
		return err_fail(ERR_INTERNAL, "no EK loaded");
	return ERR_OK;
}

static err_t need_ak(const struct tpmdev *t)
{
	if (t->ak.h == ESYS_TR_NONE)
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
	ESYS_TR ak = ESYS_TR_NONE;
	err_t rc = ERR_OK;
	TSS2_RC trc;

	TRY(need_ek(t));
	release(t, &t->ak);
	template_ak(alg, &template);
	TRY(ek_policy(t));
	trc = Esys_Create(t->esys, t->ek.h, t->policy.h, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive,
			  &template, &outside, &creation_pcrs, &priv, &p, NULL, NULL, NULL);
	if (trc != TSS2_RC_SUCCESS)
		return tpm_failed("TPM2_Create(AK)", trc);
	TRY_OUT(rc, ek_policy(t));
	trc = Esys_Load(t->esys, t->ek.h, t->policy.h, ESYS_TR_NONE, ESYS_TR_NONE, priv, p, &ak);
	if (trc != TSS2_RC_SUCCESS) {
		rc = tpm_failed("TPM2_Load(AK)", trc);
		goto out;
	}
	hold_transient(&t->ak, ak);
	*pub = *p;
out:
	Esys_Free(priv);
	Esys_Free(p);
	return rc;
}

err_t tpmdev_ak_use_persistent(struct tpmdev *t, uint32_t handle, TPM2B_PUBLIC *pub)
{
	return hold_persistent(t, &t->ak, handle, pub);
}

err_t tpmdev_ak_load_context(struct tpmdev *t, const TPMS_CONTEXT *ctx, TPM2B_PUBLIC *pub)
{
	ESYS_TR ak = ESYS_TR_NONE;
	TSS2_RC rc;

	release(t, &t->ak);
	rc = Esys_ContextLoad(t->esys, ctx, &ak);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_failed("TPM2_ContextLoad(AK)", rc);
	hold_transient(&t->ak, ak);
	return read_public(t, t->ak.h, pub);
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
	rc = Esys_ActivateCredential(t->esys, t->ak.h, t->ek.h, ESYS_TR_PASSWORD, t->policy.h,
				     ESYS_TR_NONE, blob, encrypted, &info);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_failed("TPM2_ActivateCredential", rc);
	*secret = *info;
	OPENSSL_cleanse(info, sizeof(*info));
	Esys_Free(info);
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

		quote_pcrs_selection(sel->bank, wanted, &in);
		trc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &in, NULL,
				    &got, &values);
		if (trc != TSS2_RC_SUCCESS)
			return tpm_failed("TPM2_PCR_Read", trc);
		rc = quote_pcrs_take(got, values, &wanted, out);
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

err_t tpmdev_quote(struct tpmdev *t, const uint8_t nonce[static QUOTE_NONCE_SIZE],
		   const struct pcr_selection *sel, struct tpmdev_quote *out)
{
	TPM2B_DATA qualifying = {.size = QUOTE_NONCE_SIZE};
	TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_NULL}; /* the AK's own */
	TPML_PCR_SELECTION tpm_sel;

	TRY(need_ak(t));
	memcpy(qualifying.buffer, nonce, QUOTE_NONCE_SIZE);
	quote_pcrs_selection(sel->bank, sel->mask, &tpm_sel);
	for (int attempt = 1; attempt <= QUOTE_ATTEMPTS; attempt++) {
		TPM2B_ATTEST *attest = NULL;
		TPMT_SIGNATURE *sig = NULL;
		bool match;
		TSS2_RC rc;

		memset(out, 0, sizeof(*out));
		TRY(tpmdev_pcr_read(t, sel, &out->pcrs));
		rc = Esys_Quote(t->esys, t->ak.h, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
				&qualifying, &scheme, &tpm_sel, &attest, &sig);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_failed("TPM2_Quote", rc);
		out->attest = *attest;
		out->signature = *sig;
		Esys_Free(attest);
		Esys_Free(sig);
		TRY(quote_pcrs_covered(&out->attest, &out->signature, sel, &out->pcrs, &match));
		if (match)
			return ERR_OK;
		log_info("a PCR changed while quoting; quoting again");
	}
	return err_fail(ERR_INTERNAL, "PCRs kept changing during %d quotes", QUOTE_ATTEMPTS);
}
