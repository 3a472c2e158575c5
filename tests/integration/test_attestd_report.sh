#!/usr/bin/env bash
# The monthly audit report on a store filled by real runs: a software-TPM
# "physical" machine admitted (attest-client), a stock-swtpm "VM" refused as
# a virtual TPM with the host metadata it reported, a machine enrolled and
# revoked; as Markdown, HTML (client text escaped) and CSV, from attestctl
# and from the auditor API.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attestd_lib.sh"
it_need_tool curl python3

it_swtpm_start phys
it_swtpm_start vm --stock
. "$IT_TMP/vm/env"
VM_TCTI=$TPM2TOOLS_TCTI
VM_CERT=$EK_CERT_RSA
. "$IT_TMP/phys/env"
"$ATTEST_SOURCE_ROOT/scripts/fake-boot" --out "$IT_TMP/boot.log" --tcti "$TPM2TOOLS_TCTI"
at_policy "$IT_TMP/policy.json"
at_start main "$IT_TMP/policy.json"

it_step "fill the store with real runs"
"$(it_build_path attest-client/attest-client)" --url "$AT_URL" --tcti "$TPM2TOOLS_TCTI" \
	--event-log "$IT_TMP/boot.log" -o "$IT_TMP/token" --print-token >"$IT_TMP/token.out" ||
	it_fail "the physical machine was not admitted"
machine=$(python3 -c 'import base64,json,sys; t=open(sys.argv[1]).read().split(".")[1]; print(json.loads(base64.urlsafe_b64decode(t+"=="))["sub"])' "$IT_TMP/token")
hostile='<script>alert(1)</script>|vm-42'
at_client --tcti "$VM_TCTI" --ek-cert "$VM_CERT" --hostname "$hostile" >"$IT_TMP/vm.json"
at_expect "$IT_TMP/vm.json" challenge.body.error ek_virtual_tpm "the stock swtpm VM is refused"
other=sha256:$(printf '%064x' 7)
at_ctl machines enroll "$other" --note "spare" >/dev/null
at_ctl machines revoke "$other" --reason "decommissioned" >/dev/null
month=$(date -u +%Y-%m)

it_step "Markdown"
at_ctl report --month "$month" >"$IT_TMP/report.md"
check() { grep -qF -- "$2" "$IT_TMP/$1" || { cat "$IT_TMP/$1"; it_fail "$1 lacks: $2"; }; }
check report.md "# attestd audit report $month"
check report.md "| attestations | 2 |"
check report.md "| $machine | 1 | 0 | admitted |"
check report.md "| ek\\_virtual\\_tpm | 1 |"
check report.md "&lt;script>alert(1)&lt;/script>\\|vm-42"
check report.md "| $other |"
check report.md "decommissioned"
check report.md "| audit chain | OK (2 rows verified) |"
it_ok "machines, refusals by reason, the VM attempt with its host, new and revoked machines, audit status"

it_step "HTML escapes what clients reported"
at_ctl report --month "$month" --format html -o "$IT_TMP/report.html"
check report.html "&lt;script&gt;alert(1)&lt;/script&gt;|vm-42"
grep -q "<script>" "$IT_TMP/report.html" && it_fail "a client's <script> reached the HTML"
it_ok "no client markup in the HTML report"

it_step "CSV through the auditor API"
key=$(at_ctl apikeys add auditor reports)
curl -fsS -H "X-API-Key: $key" "$AT_URL/v1/reports/monthly?month=$month&format=csv" >"$IT_TMP/report.csv"
check report.csv '"refusal_reason","ek_virtual_tpm","1"'
check report.csv '"virtual_machine_attempt"'
check report.csv '"revoked_machine","'"$other"'"'
it_ok "CSV report from GET /v1/reports/monthly"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $key" "$AT_URL/v1/reports/monthly?month=2026-13")
[ "$code" = 400 ] || it_fail "month 2026-13 answered $code"
it_ok "a bad month: 400"

it_step "a broken chain shows in the report"
sqlite3 "$IT_TMP/main/attestd.db" "DROP TRIGGER attestations_no_update; UPDATE attestations SET outcome='admitted' WHERE id=2"
at_ctl report --month "$month" >"$IT_TMP/broken.md"
check broken.md "| audit chain | BROKEN at row 2"
it_ok "the report says where the history was edited"
