/* edgelab serve's command line (--config, --check-config, a flag per
 * config key) and its configuration: the file or the embedded defaults,
 * the flags over it, the checks of keys that need each other and of what
 * the control API will read, and, at the first start, the lab PKI that
 * tls_generate asks for. A start, a --check-config and a SIGHUP reload all
 * go through serve_conf_load. */
#ifndef EDGELAB_CLI_SERVE_CONF_H
#define EDGELAB_CLI_SERVE_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/conf.h"

#define SERVE_OVERRIDES_MAX 64

struct serve_args {
	const char *config_path; /* NULL: embedded defaults */
	/* Flags are re-applied on every reload so they keep precedence. */
	const char *override_key[SERVE_OVERRIDES_MAX];
	const char *override_value[SERVE_OVERRIDES_MAX];
	size_t n_overrides;
};

/* Parses argv into a; --help prints and exits. 0, or EINVAL (reported);
 * ENOSPC or ENAMETOOLONG when the key table outgrew the flag table (a build
 * error, reported). */
int serve_args_parse(struct serve_args *a, int argc, char **argv, bool *check_only);

enum serve_load {
	SERVE_LOAD_START,  /* also writes tls_generate's PKI */
	SERVE_LOAD_CHECK,  /* --check-config: certificates still to be generated are fine */
	SERVE_LOAD_RELOAD, /* SIGHUP */
};

/* The file (or the defaults) with the flags over it, checked; 0 and *confp,
 * or an errno with a sentence in err: SERVE_ERR_PKI when the configuration
 * is right but the first start could not write tls_generate's PKI (a full
 * disk: serve could not start, status 1, not a configuration error; a
 * partial set mounted is one: EEXIST). */
#define SERVE_ERR_PKI (-1)
int serve_conf_load(const struct serve_args *a, enum serve_load purpose, struct conf **confp,
                    char *err, size_t err_len);

/* Whether tls_generate will write the certificates at the first start (they
 * are not there yet). */
bool serve_pki_pending(const struct conf *conf);

#endif
