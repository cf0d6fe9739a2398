/* The control API's options of probe and ctl (cli/ctl_opts.h). */
#include "cli/ctl_opts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int ctl_opt_control(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                    void *arg)
{
	if (ctl_target_parse(value, &CLI_OPT_FIELD(o, arg, struct ctl_opts_arg)->target) == 0)
		return 0;
	snprintf(
	    why, why_len,
	    "bad value '%s' (expected the edge's control socket, a path, or https://HOST:PORT)",
	    value);
	return EINVAL;
}

static bool readable(const char *dir, const char *file, char *path, size_t cap)
{
	snprintf(path, cap, "%s/%s", dir, file);
	return access(path, R_OK) == 0;
}

/* The client certificate: --control-cert, or pki's controller.pem and .key;
 * false when there is none. */
static bool client_cert(const struct ctl_opts_arg *c, const char *pki, struct ctl_target *t)
{
	if (c->cert) {
		snprintf(t->cert_file, sizeof(t->cert_file), "%s", c->cert);
		snprintf(t->key_file, sizeof(t->key_file), "%s", c->key);
		return true;
	}
	if (readable(pki, "controller.pem", t->cert_file, sizeof(t->cert_file)) &&
	    readable(pki, "controller.key", t->key_file, sizeof(t->key_file)))
		return true;
	t->cert_file[0] = t->key_file[0] = '\0';
	return false;
}

int ctl_opts_finish(struct ctl_opts_arg *c, const char *pki, const char *ca_file,
                    const char *edge_fqdn, bool need_credentials, char *why, size_t why_len)
{
	struct ctl_target *t = &c->target;
	if ((c->cert || c->key || c->token_file) && t->kind != CTL_HTTPS) {
		snprintf(why, why_len,
		         "--control-cert, --control-key and --control-token-file are for "
		         "--control https://HOST:PORT");
		return EINVAL;
	}
	if (t->kind != CTL_HTTPS)
		return 0;
	if (!c->cert != !c->key) {
		snprintf(why, why_len, "--control-cert and --control-key go together");
		return EINVAL;
	}
	int rc = c->token_file ? ctl_token_read(c->token_file, t->token, sizeof(t->token)) : 0;
	if (rc) {
		snprintf(why, why_len, "--control-token-file %s: %s", c->token_file,
		         rc == EINVAL ? "the first line must be 16-256 printable characters"
		                      : strerror(rc));
		return EINVAL;
	}
	/* A token is what was asked for: pki's certificate goes only without
	 * one, so that a run with a token tests the token. */
	bool cert = (c->cert || !c->token_file) && client_cert(c, pki, t);
	if (!cert && !c->token_file && need_credentials) {
		snprintf(why, why_len,
		         "--control %s needs credentials: --control-cert and --control-key, "
		         "--control-token-file, or controller.pem and controller.key in --pki %s",
		         t->spec, pki);
		return EINVAL;
	}
	snprintf(t->ca_file, sizeof(t->ca_file), "%s", ca_file);
	snprintf(t->server_name, sizeof(t->server_name), "%s", edge_fqdn);
	return 0;
}
