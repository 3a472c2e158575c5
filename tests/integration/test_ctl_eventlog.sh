#!/usr/bin/env bash
# attestctl eventlog and attestctl policy capture as an operator runs them on
# real logs: every vector shows and replays (exit 0) to the PCR values its
# source read from the TPM, in the vectors' own JSON shape; tpm2_eventlog, an
# independent implementation, agrees where it has no known bug; malformed
# logs and bad usage exit 1 and 2; capture pins a physical machine's boot,
# refuses a VM unless told it is a lab, and refuses PCRs the log does not
# reproduce.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "$0")/lib.sh"

it_need_tool python3 tpm2_eventlog
it_tmpdir
ctl=$(it_build_path attestd/attestctl)
logs=$(it_source_path tests/data/eventlogs)

# exit_status CMD...: the command's exit status, whatever it is.
exit_status() {
	local rc=0
	"$@" >/dev/null 2>&1 || rc=$?
	echo "$rc"
}

# same_pcrs REPLAY_JSON SIDECAR: every sidecar PCR of a bank the replay has
# matches, except PCR 10 (Linux IMA, never in a firmware log).
same_pcrs() {
	python3 - "$1" "$2" <<'PY'
import json, sys
mine = json.load(open(sys.argv[1]))["banks"]
theirs = json.load(open(sys.argv[2]))["banks"]
checked = 0
for bank, pcrs in theirs.items():
    if bank not in mine:
        continue
    for pcr, value in pcrs.items():
        if pcr == "10":
            continue
        if mine[bank].get(pcr, "").lower() != value.lower():
            sys.exit(f"{bank} PCR {pcr}: replay {mine[bank].get(pcr)} != TPM {value}")
        checked += 1
if checked == 0:
    sys.exit("no PCR compared")
PY
}

it_step "every vector: show and replay exit 0; replay --json equals the TPM's PCRs"
n=0
for log in "$logs"/*.bin; do
	name=$(basename "$log")
	"$ctl" eventlog show "$log" >"$IT_TMP/show" || it_fail "show $name"
	head -n 1 "$IT_TMP/show" | grep -q "events, banks" || it_fail "show $name: no header"
	"$ctl" eventlog replay "$log" --json >"$IT_TMP/replay.json" || it_fail "replay $name"
	[ "$name" = ga_ebs_event_missing_eventlog.bin ] && continue # PCR 5: see test_evlog
	if [ -e "$log.pcrs.json" ]; then
		same_pcrs "$IT_TMP/replay.json" "$log.pcrs.json" || it_fail "$name replays wrong"
		n=$((n + 1))
	fi
done
[ "$n" -ge 20 ] || it_fail "only $n vectors with TPM values compared"
it_ok "$n vectors replay to their TPM values"

it_step "tpm2_eventlog agrees on logs without the features it gets wrong"
for name in tt_event-postcode.bin qemu_ovmf_q35.bin canonical_tcglog_binary_bios_measurements.bin; do
	tpm2_eventlog "$logs/$name" 2>/dev/null | python3 -c '
import re, sys, json
banks, bank = {}, None
for line in sys.stdin:
    m = re.match(r"^  (sha\d+):$", line)
    if m:
        bank = banks.setdefault(m.group(1), {})
        continue
    m = re.match(r"^    (\d+)\s*: 0x([0-9a-fA-F]+)$", line)
    if m and bank is not None:
        bank[m.group(1)] = m.group(2).lower()
json.dump({"banks": banks}, sys.stdout)' >"$IT_TMP/theirs.json"
	"$ctl" eventlog replay "$logs/$name" --json >"$IT_TMP/mine.json"
	same_pcrs "$IT_TMP/mine.json" "$IT_TMP/theirs.json" || it_fail "tpm2_eventlog disagrees on $name"
done
it_ok "tpm2_eventlog and attestctl agree"

it_step "text output names events and banks"
"$ctl" eventlog show "$logs/gtt_glinux-alex.bin" --digests >"$IT_TMP/show"
grep -q "StartupLocality 3" "$IT_TMP/show" || it_fail "StartupLocality not shown"
grep -q "EV_EFI_VARIABLE_DRIVER_CONFIG *SecureBoot" "$IT_TMP/show" || it_fail "SecureBoot not decoded"
grep -q '^            sha256  ' "$IT_TMP/show" || it_fail "digests not shown"
"$ctl" eventlog replay "$logs/gtt_glinux-alex.bin" >"$IT_TMP/replay.txt"
grep -q '^sha256:$' "$IT_TMP/replay.txt" || it_fail "text replay lacks the sha256 bank"
it_ok "show and replay text"

it_step "malformed logs and bad usage are refused with the documented exit codes"
head -c 1000 "$logs/gtt_glinux-alex.bin" >"$IT_TMP/cut.bin"
[ "$(exit_status "$ctl" eventlog replay "$IT_TMP/cut.bin")" = 1 ] || it_fail "cut log not exit 1"
"$ctl" eventlog show "$IT_TMP/cut.bin" >/dev/null 2>"$IT_TMP/err" && it_fail "cut log shown"
grep -q "eventlog_invalid: event .* at offset" "$IT_TMP/err" || it_fail "cut log: no eventlog_invalid detail"
[ "$(exit_status "$ctl" eventlog show "$IT_TMP/missing.bin")" = 1 ] || it_fail "missing file not exit 1"
[ "$(exit_status "$ctl" eventlog frobnicate x)" = 2 ] || it_fail "unknown action not exit 2"
[ "$(exit_status "$ctl" eventlog replay)" = 2 ] || it_fail "missing FILE not exit 2"
[ "$(exit_status "$ctl" eventlog show a b)" = 2 ] || it_fail "extra argument not exit 2"
[ "$(exit_status "$ctl" eventlog --help)" = 0 ] || it_fail "--help not exit 0"
[ "$(exit_status "$ctl" policy capture --help)" = 0 ] || it_fail "policy --help not exit 0"
[ "$(exit_status "$ctl" policy capture)" = 2 ] || it_fail "capture without LOG not exit 2"
[ "$(exit_status "$ctl" policy capture x --bank md5)" = 2 ] || it_fail "bad bank not exit 2"
it_ok "exit codes"

it_step "policy capture pins a physical machine (Supermicro) checked against its TPM PCRs"
sm=$logs/tt_event-postcode.bin
"$ctl" policy capture "$sm" --pcrs "$sm.pcrs.json" -o "$IT_TMP/policy.json" ||
	it_fail "capture failed"
python3 - "$IT_TMP/policy.json" <<'PY' || it_fail "captured policy has the wrong shape"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["pcr_selection"].startswith("sha256:0,1,2,3,4,5,6,7"), p["pcr_selection"]
b = p["boot"]
assert b["secure_boot"] is True and b["bank"] == "sha256"
assert set(b["variables"]) == {"PK", "KEK", "db", "dbx"}
assert len(b["components"]) >= 1 and all(len(c["digest"]) == 64 for c in b["components"])
assert set(b["pcrs"]["sha256"]) >= {str(i) for i in range(8)}
assert "virtual_platform" not in b
PY
it_ok "captured policy"

it_step "capture refuses PCRs the log does not reproduce (another machine's)"
"$ctl" policy capture "$sm" --pcrs "$logs/gtt_glinux-alex.bin.pcrs.json" >/dev/null 2>"$IT_TMP/err" &&
	it_fail "capture accepted foreign PCRs"
grep -q eventlog_replay_mismatch "$IT_TMP/err" || it_fail "no eventlog_replay_mismatch"
it_ok "foreign PCRs refused"

it_step "capture refuses a VM (qemu OVMF) unless --allow-virtual switches its rules off"
vm=$logs/qemu_ovmf_q35.bin
"$ctl" policy capture "$vm" --pcrs "$vm.pcrs.json" >/dev/null 2>"$IT_TMP/err" &&
	it_fail "VM captured without --allow-virtual"
grep -q "virtual_platform: rule " "$IT_TMP/err" || it_fail "no virtual_platform detail"
"$ctl" policy capture "$vm" --pcrs "$vm.pcrs.json" --allow-virtual >"$IT_TMP/vm.json" 2>/dev/null ||
	it_fail "--allow-virtual capture failed"
python3 -c 'import json, sys
b = json.load(open(sys.argv[1]))["boot"]
assert b["virtual_platform"] and not any(b["virtual_platform"].values())' "$IT_TMP/vm.json" ||
	it_fail "lab policy does not switch the firing rules off"
it_ok "VM capture"

it_step "capture from evidence JSON (attest-client --dry-run's shape), checked against its PCRs"
evidence() { # evidence LOG PCRS_SIDECAR OUT [TAMPER]: {"quote": {pcrs, event_log}}
	python3 - "$@" <<'PY'
import base64, json, sys
log, sidecar, out = sys.argv[1:4]
pcrs = json.load(open(sidecar))["banks"]
if len(sys.argv) > 4:
    pcrs["sha256"]["7"] = "00" * 32
json.dump({"quote": {"pcr_selection": "sha256:0,1,2,3,4,5,6,7", "pcrs": pcrs,
                     "event_log": base64.b64encode(open(log, "rb").read()).decode()}},
          open(out, "w"))
PY
}
evidence "$sm" "$sm.pcrs.json" "$IT_TMP/evidence.json"
"$ctl" policy capture "$IT_TMP/evidence.json" -o "$IT_TMP/from-evidence.json" 2>"$IT_TMP/err" ||
	{ cat "$IT_TMP/err"; it_fail "capture from evidence failed"; }
grep -q warning "$IT_TMP/err" && it_fail "evidence PCRs were not used for the check"
cmp -s "$IT_TMP/policy.json" "$IT_TMP/from-evidence.json" ||
	it_fail "evidence and log+pcrs captures differ"
it_ok "the same policy as from the log and its PCR file"
evidence "$sm" "$sm.pcrs.json" "$IT_TMP/tampered.json" tamper
"$ctl" policy capture "$IT_TMP/tampered.json" >/dev/null 2>"$IT_TMP/err" &&
	it_fail "capture accepted evidence whose PCRs the log does not reproduce"
grep -q eventlog_replay_mismatch "$IT_TMP/err" || it_fail "no eventlog_replay_mismatch"
it_ok "evidence with a PCR the log does not explain is refused"
