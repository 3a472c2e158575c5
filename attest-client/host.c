/* Host metadata and the event log, read from sysfs and securityfs. */
#include "host.h"

#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The world-readable identification strings of /sys/class/dmi/id. */
static const char *const dmi_fields[] = {
    "sys_vendor",   "product_name",   "product_version", "product_family",  "product_sku",
    "board_vendor", "board_name",     "board_version",	 "bios_vendor",	    "bios_version",
    "bios_date",    "chassis_vendor", "chassis_type",	 "chassis_version",
};

/* Reads a short text file as printable ASCII: other bytes become '?',
 * trailing white space goes. False when absent, unreadable or empty. */
static bool read_clean(const char *path, char *out, size_t cap)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	do {
		n = read(fd, out, cap - 1);
	} while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return false;
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	for (ssize_t i = 0; i < n; i++) {
		if (out[i] < 0x20 || out[i] > 0x7e)
			out[i] = '?';
	}
	out[n] = '\0';
	return n > 0;
}

static size_t json_size(const json_t *j)
{
	return json_dumpb(j, NULL, 0, JSON_COMPACT);
}

/* Sets key to text in obj unless root would then exceed HOST_MAX_JSON. */
static bool add_bounded(json_t *root, json_t *obj, const char *key, const char *text)
{
	json_t *v = json_string(text);

	if (v == NULL || json_object_set_new(obj, key, v) != 0)
		return false;
	if (json_size(root) > HOST_MAX_JSON)
		json_object_del(obj, key);
	return true;
}

json_t *host_metadata(const char *hostname, const char *dmi_dir)
{
	json_t *root = json_object(), *dmi = json_object();
	char value[HOST_DMI_VALUE_MAX + 1];
	char clean_host[HOST_DMI_VALUE_MAX + 1];
	bool ok = root != NULL && dmi != NULL;

	if (ok && hostname != NULL && hostname[0] != '\0') {
		size_t n = strnlen(hostname, HOST_DMI_VALUE_MAX);

		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)hostname[i];

			clean_host[i] = ch < 0x20 || ch > 0x7e ? '?' : (char)ch;
		}
		clean_host[n] = '\0';
		ok = add_bounded(root, root, "hostname", clean_host);
	}
	ok = ok && json_object_set(root, "dmi", dmi) == 0;
	for (size_t i = 0; ok && i < sizeof(dmi_fields) / sizeof(dmi_fields[0]); i++) {
		char path[4096];

		if (snprintf(path, sizeof(path), "%s/%s", dmi_dir, dmi_fields[i]) >=
		    (int)sizeof(path))
			break;
		if (read_clean(path, value, sizeof(value)))
			ok = add_bounded(root, dmi, dmi_fields[i], value);
	}
	if (ok && json_object_size(dmi) == 0)
		json_object_del(root, "dmi");
	json_decref(dmi);
	if (!ok) {
		json_decref(root);
		return NULL;
	}
	return root;
}

err_t host_read_event_log(const char *path, uint8_t **out, size_t *len, bool *present)
{
	err_t rc;

	*out = NULL;
	*len = 0;
	*present = false;
	rc = fileio_read(path, HOST_EVENT_LOG_MAX, out, len);
	if (rc == ERR_NOT_FOUND)
		return ERR_OK; /* no firmware log (no TPM driver, a VM without one) */
	*present = rc == ERR_OK;
	return rc;
}
