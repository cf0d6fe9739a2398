/* edgelab mras: issues MRAS-style relay credentials (core/mras.h) by hand,
 * as serve's SIP SERVICE answer does, for clients that cannot ask for them
 * (libnice, scripts). The secret and duration come from the configuration
 * serve runs with, or from the command line. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cmd.h"
#include "core/conf.h"
#include "core/mras.h"

static const struct option long_opts[] = {
    {"config", required_argument, NULL, 'c'},   {"secret", required_argument, NULL, 's'},
    {"duration", required_argument, NULL, 'd'}, {"identity", required_argument, NULL, 'i'},
    {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
};

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: edgelab mras [--config FILE] [--secret S] [--duration MIN] [--identity URI]\n"
	    "\n"
	    "Issues MRAS-style relay credentials, as serve's answer to SIP SERVICE does:\n"
	    "a username (a token signed with mras_secret, valid mras_duration minutes) and\n"
	    "its password, raw and in base64 (what MRAS's XML and libnice carry).\n"
	    "\n"
	    "  --config FILE     take mras_secret and mras_duration from serve's file\n"
	    "  --secret S        the secret (overrides the file's)\n"
	    "  --duration MIN    minutes, 1..10080 (overrides the file's; default 480)\n"
	    "  --identity URI    whom they are for [sip:lab@edgelab]\n"
	    "\n"
	    "Output, one per line: username, password, username_base64, password_base64,\n"
	    "expires (UTC). Exit 0, or 2 on bad arguments or no secret.\n");
}

int cmd_mras(int argc, char **argv)
{
	const char *config = NULL, *secret = NULL, *duration = NULL, *identity = "sip:lab@edgelab";
	int c;
	while ((c = getopt_long(argc, argv, ":c:s:d:i:h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 's':
			secret = optarg;
			break;
		case 'd':
			duration = optarg;
			break;
		case 'i':
			identity = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			fprintf(stderr, "edgelab mras: bad option (see --help)\n");
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "edgelab mras: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	struct conf *conf;
	char err[CONF_ERR_MAX] = "out of memory";
	if (config ? conf_load_file(config, &conf, err, sizeof(err)) : conf_defaults(&conf)) {
		fprintf(stderr, "edgelab mras: %s\n", err);
		return EXIT_USAGE;
	}
	if ((secret && conf_set(conf, "mras_secret", secret, err, sizeof(err))) ||
	    (duration && conf_set(conf, "mras_duration", duration, err, sizeof(err)))) {
		fprintf(stderr, "edgelab mras: %s\n", err);
		conf_unref(conf);
		return EXIT_USAGE;
	}
	char user[MRAS_USERNAME_MAX], pass[MRAS_PASSWORD_LEN + 1];
	time_t now = time(NULL);
	if (!conf->mras_secret[0] ||
	    mras_issue(conf->mras_secret, now, conf->mras_duration, identity, user, pass)) {
		fprintf(stderr,
		        "edgelab mras: no mras_secret (--secret, or mras_secret in --config)\n");
		conf_unref(conf);
		return EXIT_USAGE;
	}
	char user64[MRAS_USERNAME_B64_MAX], pass64[MRAS_PASSWORD_B64_MAX], when[32];
	time_t expires = now + (time_t)conf->mras_duration * 60;
	struct tm tm;
	mras_base64(user, strlen(user), user64);
	mras_base64(pass, strlen(pass), pass64);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&expires, &tm));
	printf("username %s\npassword %s\nusername_base64 %s\npassword_base64 %s\nexpires %s\n",
	       user, pass, user64, pass64, when);
	conf_unref(conf);
	return EXIT_OK;
}
