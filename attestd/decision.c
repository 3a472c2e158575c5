/* Decision recording around the store. */
#include "decision.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "policy.h"

void decision_begin(struct app *app, struct attestation_record *r, const char *phase)
{
	memset(r, 0, sizeof(*r));
	r->time = time(NULL);
	snprintf(r->phase, sizeof(r->phase), "%s", phase);
	snprintf(r->policy, sizeof(r->policy), "%s", policy_name(app->policy));
	r->reset_count = -1;
	r->restart_count = -1;
}

err_t decision_commit(struct app *app, struct attestation_record *r, const uint8_t *session_id,
		      int64_t session_expires_at, err_t verdict)
{
	char detail[ERR_DETAIL_MAX];
	err_t rc;

	snprintf(detail, sizeof(detail), "%s", err_detail());
	r->admitted = verdict == ERR_OK;
	snprintf(r->error, sizeof(r->error), "%s", verdict == ERR_OK ? "" : err_code_str(verdict));
	snprintf(r->detail, sizeof(r->detail), "%s", verdict == ERR_OK ? "" : detail);
	rc = app->store->ops->commit_decision(app->store, session_id, session_expires_at, r);
	if (rc == ERR_OK) {
		/* Put the verdict's detail back for the answer. */
		if (verdict != ERR_OK)
			(void)err_fail(verdict, "%s", detail);
		rc = verdict;
	}
	metrics_decision(&app->metrics,
			 strcmp(r->phase, "quote") == 0 ? METRICS_QUOTE : METRICS_CHALLENGE, rc);
	if (rc != ERR_OK)
		log_info("%s %s: %s (%s)", r->phase, r->machine_id[0] ? r->machine_id : "-",
			 err_code_str(rc), err_detail());
	return rc;
}

void decision_refuse(struct app *app, struct attestation_record *r, const uint8_t *session_id,
		     int64_t session_expires_at, err_t verdict, struct http_response *resp)
{
	err_t rc = decision_commit(app, r, session_id, session_expires_at, verdict);

	http_reply_error(resp, rc);
}

err_t decision_check_machine(struct app *app, const char *machine_id)
{
	struct machine m;
	err_t rc = app->store->ops->machine_get(app->store, machine_id, &m);

	if (rc == ERR_NOT_FOUND)
		m = (struct machine){0};
	else if (rc != ERR_OK)
		return rc;
	if (m.revoked_at != 0)
		return err_fail(ERR_MACHINE_REVOKED, "machine %s is revoked", machine_id);
	if (app->policy->enrollment_required && !m.enrolled)
		return err_fail(ERR_NOT_ENROLLED, "machine %s is not enrolled", machine_id);
	return ERR_OK;
}
