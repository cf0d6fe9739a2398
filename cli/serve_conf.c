/* edgelab serve's command line and configuration (cli/serve_conf.h). */
#include "cli/serve_conf.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "control/control.h"
#include "core/log.h"
#include "pki/pki.h"

/* A key's flag: its name with dashes; 0, or ENAMETOOLONG (cut). */
static int flag_of(const char *key, char flag[CONF_KEY_NAME_MAX])
{
	int n = snprintf(flag, CONF_KEY_NAME_MAX, "%s", key);
	for (char *p = flag; *p; p++)
		if (*p == '_')
			*p = '-';
	return n < 0 || n >= CONF_KEY_NAME_MAX ? ENAMETOOLONG : 0;
}

/* getopt_long's table: serve's own options, a flag per key, the end. Sized
 * from the key table's bounds (core/conf.h), so a key added can never write
 * past it: a table grown past CONF_KEYS_MAX does not compile, and a name
 * too long is refused here. */
#define SERVE_OWN_OPTS 3
struct serve_opts {
	struct option opt[SERVE_OWN_OPTS + CONF_KEYS_MAX + 1];
	char name[CONF_KEYS_MAX][CONF_KEY_NAME_MAX];
};

static int serve_opts_build(struct serve_opts *o)
{
	size_t nkeys = conf_key_count();
	if (nkeys > CONF_KEYS_MAX)
		return ENOSPC;
	o->opt[0] = (struct option){"config", required_argument, NULL, 'c'};
	o->opt[1] = (struct option){"check-config", no_argument, NULL, 'n'};
	o->opt[2] = (struct option){"help", no_argument, NULL, 'h'};
	for (size_t i = 0; i < nkeys; i++) {
		if (flag_of(conf_key_at(i)->name, o->name[i]))
			return ENAMETOOLONG;
		o->opt[SERVE_OWN_OPTS + i] =
		    (struct option){o->name[i], required_argument, NULL, 1000 + (int)i};
	}
	o->opt[SERVE_OWN_OPTS + nkeys] = (struct option){0};
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: edgelab serve [--config FILE] [--check-config] [--KEY VALUE ...]\n\n"
	             "Runs the edge. Without --config it runs on the embedded defaults.\n"
	             "  -c, --config FILE   key value lines (see conf/edgelab.conf)\n"
	             "  -n, --check-config  check the configuration, print it, and exit\n"
	             "Every config key is also a flag that overrides the file:\n");
	for (size_t i = 0; i < conf_key_count(); i++) {
		const struct conf_key_info *k = conf_key_at(i);
		char flag[CONF_KEY_NAME_MAX];
		flag_of(k->name, flag);
		fprintf(out, "  --%-26s %s (default: %s)\n", flag, k->help, k->default_value);
	}
	fprintf(out, "Signals: SIGTERM/SIGINT stop, SIGHUP reloads the config file.\n");
}

int serve_args_parse(struct serve_args *a, int argc, char **argv, bool *check_only)
{
	struct serve_opts o;
	int c = serve_opts_build(&o);
	if (c) {
		fprintf(stderr, "edgelab serve: the key table does not fit: %s\n", strerror(c));
		return c;
	}
	while ((c = getopt_long(argc, argv, "c:nh", o.opt, NULL)) != -1) {
		if (c == 'c') {
			a->config_path = optarg;
		} else if (c == 'n') {
			*check_only = true;
		} else if (c == 'h') {
			usage(stdout);
			exit(EXIT_OK);
		} else if (c >= 1000 && a->n_overrides < SERVE_OVERRIDES_MAX) {
			a->override_key[a->n_overrides] = conf_key_at((size_t)c - 1000)->name;
			a->override_value[a->n_overrides++] = optarg;
		} else {
			usage(stderr);
			return EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "edgelab serve: unexpected argument '%s'\n", argv[optind]);
		return EINVAL;
	}
	return 0;
}

/* tls_generate at start: a lab PKI where the certificates would be, when
 * none are there (an image's empty volume). Before the control API's check,
 * which reads the same files. */
static int generate_pki(const struct conf *conf, char *err, size_t err_len)
{
	char dir[CONF_PATH_MAX];
	struct pki_err perr = {{0}};
	bool wrote;
	if (conf_pki_dir(conf, dir, sizeof(dir)))
		return EINVAL; /* conf_check refused it already */
	int rc = pki_lab_first_start(dir, conf->edge_fqdn, conf->sip_domain, &wrote, &perr);
	if (rc) /* the reason may be longer than err: cut, never a warning */
		snprintf(err, err_len, "tls_generate: %.*s", (int)(err_len > 15 ? err_len - 15 : 0),
		         perr.msg);
	if (wrote) {
		/* the first line serve logs: in the format the config asks for */
		log_set_level(conf->log_level);
		log_set_json(conf->log_json);
		log_warn(
		    "tls_generate: no certificates in %s: wrote a lab PKI there (a new CA; the "
		    "edge %s; partner, client and controller certificates). Mount your own "
		    "edge.pem, edge.key and ca.pem there to use them",
		    dir, conf->edge_fqdn);
	}
	return rc;
}

bool serve_pki_pending(const struct conf *conf)
{
	return conf->tls_generate && access(conf->tls_certificate, F_OK) != 0;
}

int serve_conf_load(const struct serve_args *a, enum serve_load purpose, struct conf **confp,
                    char *err, size_t err_len)
{
	struct conf *conf;
	int rc = a->config_path ? conf_load_file(a->config_path, &conf, err, err_len)
	                        : conf_defaults(&conf);
	if (rc)
		return rc;
	for (size_t i = 0; i < a->n_overrides; i++) {
		char why[CONF_ERR_MAX - 16];
		rc = conf_set(conf, a->override_key[i], a->override_value[i], why, sizeof(why));
		if (rc) {
			snprintf(err, err_len, "command line: %s", why);
			conf_unref(conf);
			return rc;
		}
	}
	/* Keys that need each other, then what the control API will read (the
	 * token file, the HTTPS certificates): a start, a --check-config and a
	 * reload all refuse a conf here, before anything uses it. */
	rc = conf_check(conf, err, err_len);
	if (!rc && purpose == SERVE_LOAD_START && conf->tls_generate) {
		rc = generate_pki(conf, err, err_len);
		/* EEXIST: a partial set mounted, the user's to mend (status 2);
		 * anything else: the files could not be written (status 1). */
		if (rc && rc != EEXIST && rc != EINVAL)
			rc = SERVE_ERR_PKI;
	}
	/* --check-config before the first start: the control API cannot read
	 * certificates that tls_generate has yet to write. */
	if (!rc && !(purpose == SERVE_LOAD_CHECK && serve_pki_pending(conf)))
		rc = control_conf_check(conf, err, err_len);
	if (rc) {
		conf_unref(conf);
		return rc;
	}
	*confp = conf;
	return 0;
}
