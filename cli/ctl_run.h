/* edgelab ctl's arguments (cli/cmd_ctl.c parses and checks them) and its
 * requests (cli/ctl_run.c), all through probe/control_client.h. */
#ifndef EDGELAB_CLI_CTL_RUN_H
#define EDGELAB_CLI_CTL_RUN_H

#include "cli/ctl_opts.h"
#include "core/conf.h"
#include "core/rows.h"

enum ctl_cmd { CTL_CMD_NONE, CTL_CMD_HEALTHZ, CTL_CMD_METRICS, CTL_CMD_ROW };

struct ctl_args {
	struct ctl_opts_arg ctl; /* where, and the credentials: checked and resolved */
	const char *config;      /* --config: its control_socket, or NULL */
	const char *pki;
	char ca_file[256]; /* "": the --pki directory's ca.pem */
	char edge_fqdn[CONF_NAME_MAX + 1];
	unsigned timeout_ms; /* each request: connecting and the answer */
	enum ctl_cmd cmd;
	int row;                          /* row N: 2, 4 or 5 */
	const char *target;               /* rows 4 and 5, as given (checked) */
	char marker[ROWS_MARKER_MAX + 1]; /* "": a fresh one */
	char partner[CONF_NAME_MAX + 1];  /* row 2; "": the edge's only partner */
	const char *dialect;              /* row 5; NULL: the edge's default */
	unsigned wait_ms;                 /* how long row N's flow is followed */
};

/* Asks what a says, prints the answer on stdout and any failure on stderr
 * ("edgelab ctl: ..."); returns the exit status (cli/cmd.h). */
int ctl_run(const struct ctl_args *a);

#endif
