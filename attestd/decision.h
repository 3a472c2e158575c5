/* Recording a decision: every challenge refusal and every quote outcome is
 * one history row, committed before the answer leaves. Shared by the two
 * attestation handlers. */
#ifndef ATTEST_DECISION_H
#define ATTEST_DECISION_H

#include <stdint.h>

#include "app.h"
#include "store.h"

/* Starts a record for this request: time, phase, policy name. */
void decision_begin(struct app *app, struct attestation_record *r, const char *phase);

/* Records verdict (ERR_OK: admitted) with err_detail() as its detail, and
 * consumes session_id when given. Returns the verdict that stands: the
 * given one, ERR_SESSION_REPLAYED when the session turned out to be used,
 * or ERR_UNAVAILABLE when nothing could be recorded (then nothing may be
 * answered but 503). The detail of the returned code is current. */
err_t decision_commit(struct app *app, struct attestation_record *r, const uint8_t *session_id,
		      int64_t session_expires_at, err_t verdict) WARN_UNUSED;

/* The machine's standing in the store: ERR_MACHINE_REVOKED when revoked,
 * ERR_NOT_ENROLLED when the policy requires enrollment and it has none. */
err_t decision_check_machine(struct app *app, const char *machine_id) WARN_UNUSED;

/* Records a refusal and answers it (or 503 when it could not be recorded). */
void decision_refuse(struct app *app, struct attestation_record *r, const uint8_t *session_id,
		     int64_t session_expires_at, err_t verdict, struct http_response *resp);

#endif
