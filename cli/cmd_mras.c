/* edgelab mras: issues MRAS-style relay credentials (core/mras.h) by hand,
 * as serve's SIP SERVICE answer does, for clients that cannot ask for them
 * (libnice, scripts). The secret and duration come from the configuration
 * serve runs with, or from the command line. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cmd.h"
#include "cli/opts.h"
#include "core/conf.h"
#include "core/mras.h"

struct mras_args {
	const char *config, *secret, *duration, *identity;
};

#define AT(field) offsetof(struct mras_args, field)

/* The secret and the duration are checked by conf_set, as serve's keys. */
static const struct cli_opt mras_options[] = {
    {.name = "config",
     .letter = 'c',
     .arg = "FILE",
     .set = cli_opt_string,
     .offset = AT(config),
     .help = "take mras_secret and mras_duration from serve's file"},
    {.name = "secret",
     .letter = 's',
     .arg = "S",
     .set = cli_opt_string,
     .offset = AT(secret),
     .help = "the secret (overrides the file's)"},
    {.name = "duration",
     .letter = 'd',
     .arg = "MIN",
     .set = cli_opt_string,
     .offset = AT(duration),
     .help = "minutes, 1..10080 (overrides the file's; default 480)"},
    {.name = "identity",
     .letter = 'i',
     .arg = "URI",
     .set = cli_opt_string,
     .offset = AT(identity),
     .help = "whom they are for [sip:lab@edgelab]"},
    {0},
};

static const struct cli_opts mras_verb = {
    .verb = "mras",
    .synopsis = "[--config FILE] [--secret S] [--duration MIN] [--identity URI]",
    .about = "Issues MRAS-style relay credentials, as serve's answer to SIP SERVICE does:\n"
             "a username (a token signed with mras_secret, valid mras_duration minutes) and\n"
             "its password, raw and in base64 (what MRAS's XML and libnice carry).\n",
    .opts = mras_options,
    .notes = "Output, one per line: username, password, username_base64, password_base64,\n"
             "expires (UTC). Exit 0, or 2 on bad arguments or no secret.\n",
};

/* serve's configuration (or the defaults) with the command line's secret
 * and duration over it, checked as serve checks them. 0 or an errno code
 * with err written. */
static int conf_with_args(const struct mras_args *a, struct conf **confp, char *err, size_t err_len)
{
	struct conf *conf;
	int rc = a->config ? conf_load_file(a->config, &conf, err, err_len) : conf_defaults(&conf);
	if (rc)
		return rc;
	if (a->secret)
		rc = conf_set(conf, "mras_secret", a->secret, err, err_len);
	if (!rc && a->duration)
		rc = conf_set(conf, "mras_duration", a->duration, err, err_len);
	if (rc) {
		conf_unref(conf);
		return rc;
	}
	*confp = conf;
	return 0;
}

static void credentials_print(const char *user, const char *pass, time_t expires)
{
	char user64[MRAS_USERNAME_B64_MAX], pass64[MRAS_PASSWORD_B64_MAX], when[32];
	struct tm tm;
	mras_base64(user, strlen(user), user64);
	mras_base64(pass, strlen(pass), pass64);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&expires, &tm));
	printf("username %s\npassword %s\nusername_base64 %s\npassword_base64 %s\nexpires %s\n",
	       user, pass, user64, pass64, when);
}

int cmd_mras(int argc, char **argv)
{
	struct mras_args a = {.identity = "sip:lab@edgelab"};
	struct conf *conf;
	char err[CONF_ERR_MAX] = "out of memory";
	char user[MRAS_USERNAME_MAX], pass[MRAS_PASSWORD_LEN + 1];
	int status;
	if (!cli_opts_parse(&mras_verb, argc, argv, &a, &status))
		return status;
	if (conf_with_args(&a, &conf, err, sizeof(err))) {
		fprintf(stderr, "edgelab mras: %s\n", err);
		return EXIT_USAGE;
	}
	time_t now = time(NULL);
	if (!conf->mras_secret[0] ||
	    mras_issue(conf->mras_secret, now, conf->mras_duration, a.identity, user, pass)) {
		fprintf(stderr,
		        "edgelab mras: no mras_secret (--secret, or mras_secret in --config)\n");
		status = EXIT_USAGE;
	} else {
		credentials_print(user, pass, now + (time_t)conf->mras_duration * 60);
		status = EXIT_OK;
	}
	conf_unref(conf);
	return status;
}
