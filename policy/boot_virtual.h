/* Virtual-platform detection on a parsed event log: the rules named in
 * BOOT_VIRTUAL_RULES (boot.h), each looking for one kind of indicator that
 * the firmware which booted the machine was a hypervisor's. */
#ifndef ATTEST_BOOT_VIRTUAL_H
#define ATTEST_BOOT_VIRTUAL_H

#include <stdbool.h>
#include <stdint.h>

#include "boot.h"
#include "err.h"
#include "evlog.h"

const char *boot_virtual_rule_name(enum boot_virtual_rule rule);
bool boot_virtual_rule_from_name(const char *name, enum boot_virtual_rule *out) WARN_UNUSED;

/* Runs every rule not set in rules_off (bit 1u << rule), in table order:
 * ERR_VIRTUAL_PLATFORM for the first that fires, detail "rule NAME:
 * evidence (event N)"; ERR_OK when none does. */
err_t boot_virtual_check(const struct evlog *log, uint32_t rules_off) WARN_UNUSED;

/* Bit (1u << rule) for every rule that fires on the log, e.g. to switch
 * them off in a policy captured from a lab VM. */
uint32_t boot_virtual_fired(const struct evlog *log);

#endif
