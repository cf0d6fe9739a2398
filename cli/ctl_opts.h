/* The control API's options that `edgelab probe` and `edgelab ctl` share:
 * where it is (--control), who we are over HTTPS (--control-cert,
 * --control-key, --control-token-file) and how the edge's certificate is
 * checked (--ca, --edge-fqdn). o->offset points at a struct ctl_opts_arg
 * inside the verb's arguments (the edge's certificate options: at the
 * verb's own fields); ctl_opts_finish turns them into the ctl_target that
 * requests go to. */
#ifndef EDGELAB_CLI_CTL_OPTS_H
#define EDGELAB_CLI_CTL_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/opts.h"
#include "probe/control_client.h"

struct ctl_opts_arg {
	struct ctl_target target; /* kind CTL_NONE until --control (or the verb) sets it */
	const char *cert, *key;   /* --control-cert, --control-key, or NULL */
	const char *token_file;   /* --control-token-file, or NULL */
};

cli_opt_set_h ctl_opt_control; /* ctl_opts_arg.target: a path or https://HOST:PORT */

/* Once every option is in: --control-cert with --control-key, the three
 * only with an HTTPS target; over HTTPS the token read, the client
 * certificate (--control-cert, else pki's controller.pem and .key when both
 * are there) and ca_file and edge_fqdn into c->target. need_credentials:
 * HTTPS without a certificate or a token is refused (every request but GET
 * /healthz needs one). 0, or EINVAL with why. */
int ctl_opts_finish(struct ctl_opts_arg *c, const char *pki, const char *ca_file,
                    const char *edge_fqdn, bool need_credentials, char *why, size_t why_len);

/* --control (its help: what the verb does with it, after what it is),
 * --control-cert, --control-key, --control-token-file; at: the offsetof()
 * of the verb's struct ctl_opts_arg. */
#define CTL_OPTS_CONTROL(at, control_help)                                                         \
	{.name = "control",                                                                        \
	 .arg = "PATH|URL",                                                                        \
	 .set = ctl_opt_control,                                                                   \
	 .offset = (at),                                                                           \
	 .help = "the edge's control socket (a path) or https://HOST:PORT (the\n"                  \
	         "edge's certificate checked against --ca and --edge-fqdn)" control_help},         \
	    {.name = "control-cert",                                                               \
	     .arg = "FILE",                                                                        \
	     .set = cli_opt_string,                                                                \
	     .offset = (at) + offsetof(struct ctl_opts_arg, cert),                                 \
	     .help = "HTTPS: our client certificate (default: controller.pem of --pki)"},          \
	    {.name = "control-key",                                                                \
	     .arg = "FILE",                                                                        \
	     .set = cli_opt_string,                                                                \
	     .offset = (at) + offsetof(struct ctl_opts_arg, key),                                  \
	     .help = "HTTPS: its private key (default: controller.key of --pki)"},                 \
	{                                                                                          \
		.name = "control-token-file", .arg = "FILE", .set = cli_opt_string,                \
		.offset = (at) + offsetof(struct ctl_opts_arg, token_file),                        \
		.help = "HTTPS: send the first line of FILE as Authorization: Bearer"              \
	}

/* --ca and --edge-fqdn into the verb's char arrays (ca_at, fqdn_at: their
 * offsetof(); the sizes: their sizeof()). */
#define CTL_OPTS_EDGE_CERT(ca_at, ca_size, fqdn_at, fqdn_size)                                     \
	{.name = "ca",                                                                             \
	 .arg = "FILE",                                                                            \
	 .set = cli_opt_text,                                                                      \
	 .offset = (ca_at),                                                                        \
	 .size = (ca_size),                                                                        \
	 .help = "the CA the edge's certificate must chain to"},                                   \
	{                                                                                          \
		.name = "edge-fqdn", .arg = "NAME", .set = cli_opt_dns_name, .offset = (fqdn_at),  \
		.size = (fqdn_size), .expect = "a DNS name",                                       \
		.help = "the name the edge's certificate must carry (sip.edge.example)"            \
	}

#endif
