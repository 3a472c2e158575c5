/* What several attestctl subcommands share: the daemon's configuration
 * (attestctl -c FILE, else /etc/attestd/attestd.conf, else defaults) and
 * the store it names. */
#include <stdio.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "store.h"

#define CTL_DEFAULT_CONFIG "/etc/attestd/attestd.conf"

static const char *ctl_config_path;
static struct config ctl_cfg;
static bool ctl_cfg_loaded;

void ctl_set_config_path(const char *path)
{
	ctl_config_path = path;
}

const struct config *ctl_config(void)
{
	const char *path = ctl_config_path;

	if (ctl_cfg_loaded)
		return &ctl_cfg;
	config_defaults(&ctl_cfg);
	if (path == NULL && access(CTL_DEFAULT_CONFIG, F_OK) == 0)
		path = CTL_DEFAULT_CONFIG;
	if (path != NULL && config_load(path, &ctl_cfg) != ERR_OK) {
		fprintf(stderr, "attestctl: configuration: %s\n", err_detail());
		return NULL;
	}
	ctl_cfg_loaded = true;
	return &ctl_cfg;
}

int ctl_open_store(struct store **out)
{
	const struct config *cfg = ctl_config();

	if (cfg == NULL)
		return CTL_EXIT_FAIL;
	if (store_open(cfg->store, out) != ERR_OK) {
		fprintf(stderr, "attestctl: %s\n", err_detail());
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

int ctl_fail(err_t e)
{
	fprintf(stderr, "attestctl: %s: %s\n", err_code_str(e), err_detail());
	return CTL_EXIT_FAIL;
}
