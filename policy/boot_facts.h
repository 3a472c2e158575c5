/* The events boot policy judges and whether they can be believed: shared by
 * evaluation (boot_eval.c) and capture (boot_capture.c). */
#ifndef ATTEST_BOOT_FACTS_H
#define ATTEST_BOOT_FACTS_H

#include <stdbool.h>
#include <stddef.h>

#include "boot.h"
#include "evlog.h"

/* PCR 7 carries the Secure Boot state and keys, PCR 4 the boot
 * applications, PCR 9 the kernel and initrd (grub, the Linux EFI stub). */
#define BOOT_PCR_SECURE_BOOT 7
#define BOOT_PCR_BOOT_APPS   4
#define BOOT_PCR_KERNEL	     9

/* "PK", "KEK", "db", "dbx". */
const char *boot_var_name(enum boot_var v);

/* The EV_EFI_VARIABLE_DRIVER_CONFIG event in PCR 7 measuring the variable
 * ("SecureBoot" or a boot_var_name), or NULL; *count says how many there
 * were (firmware measures each once; more is ambiguous). */
const struct evlog_event *boot_find_config_var(const struct evlog *log, const char *name,
					       size_t *index, size_t *count);

/* Boot components: EV_EFI_BOOT_SERVICES_APPLICATION in PCR 4 (shim, grub,
 * systemd-boot, a kernel started by LoadImage) and the files grub or the
 * EFI stub measured into PCR 9 (EV_IPL, EV_EVENT_TAG: kernel, initrd). */
bool boot_is_component(const struct evlog_event *ev);

/* The event is in a PCR of `bank` that matched the quote, and carries a
 * digest in that bank. */
bool boot_event_verified(const struct evlog_pcrs *replayed, const struct evlog_event *ev,
			 enum evlog_bank bank);

/* The event's digest in `bank` is the hash of its data, so the data is what
 * was measured (true for variable events; not for images, whose digest is
 * an Authenticode hash of code the log does not carry). */
bool boot_event_data_bound(const struct evlog_event *ev, enum evlog_bank bank);

#endif
