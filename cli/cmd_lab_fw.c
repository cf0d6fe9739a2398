/* edgelab lab fw: this host becomes the lab's fw (lab/fw.h), for the
 * compose lab's fw container or a VM between two networks. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/cmd_labs.h"
#include "cli/lab_opts.h"
#include "cli/opts.h"
#include "lab/fw.h"
#include "lab/proc.h"

#define ERR_MAX 2048

struct fw_args {
	struct lab_rules_arg rules;
	const char *rules_from;
	const char *ready_file;
	bool stay;
};

static int fw_check(char *why, size_t why_len, void *arg)
{
	struct fw_args *a = arg;
	if (a->rules.n && a->rules_from) {
		snprintf(why, why_len, "--rules and --rules-from: one or the other");
		return EINVAL;
	}
	if (a->rules.fmt != RULESET_AUTO && a->rules_from)
		return 0; /* applied once the files are known */
	if (a->rules.fmt != RULESET_AUTO && !a->rules.n) {
		snprintf(
		    why, why_len,
		    "--rules-format says how to read --rules FILE or --rules-from PATH: give one");
		return EINVAL;
	}
	return lab_rules_finish(&a->rules, why, why_len) ? EINVAL : 0;
}

static const struct cli_opt fw_options[] = {
    LAB_OPT_RULES(offsetof(struct fw_args, rules)),
    {.name = "rules-from",
     .arg = "PATH",
     .set = cli_opt_string,
     .offset = offsetof(struct fw_args, rules_from),
     .help = "a ruleset file, or a directory of them (one nft file, or a\n"
             "rules.v4 and a rules.v6); a directory with only a file named\n" LAB_FW_POLICY_MARKER
             ": the lab's policy (an empty one is an error)"},
    {.name = "ready-file",
     .arg = "FILE",
     .set = cli_opt_string,
     .offset = offsetof(struct fw_args, ready_file),
     .help = "written once the ruleset is loaded (a health check's test);\n"
             "removed when --stay ends"},
    {.name = "stay",
     .set = cli_opt_flag,
     .offset = offsetof(struct fw_args, stay),
     .help = "then wait for SIGTERM or SIGINT (a container's main process)"},
    {0},
};

static const struct cli_opts fw_verb = {
    .verb = "lab fw",
    .synopsis = "[--rules FILE ... | --rules-from PATH] [--rules-format FMT]\n"
                "                      [--ready-file FILE] [--stay]",
    .about = "Makes this host (a container, a VM) the lab's fw: renames the interface\n"
             "that has 192.0.2.1 to outside0 and the one that has 198.51.100.1 to edge0\n"
             "(their routes put back), checks that IPv4 forwarding is on, and loads your\n"
             "ruleset (checked by its tool first) or, without one, the lab's policy\n"
             "(`edgelab rules --lab`). One ruleset thus serves the namespace lab and\n"
             "docker/compose.yaml alike.\n",
    .opts = fw_options,
    .notes = "Needs CAP_NET_ADMIN. Exit status: 0 loaded (with --stay: stopped by a\n"
             "signal), 2 usage, 4 not loaded (the tool's message is quoted).\n",
    .check = fw_check,
};

static int ready_write(const char *path, const struct ruleset *rs, size_t n)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return errno;
	if (n == 0)
		fprintf(f, "the lab's policy (edgelab rules --lab)\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s (%s)\n", rs[i].path, ruleset_format_name(rs[i].fmt));
	return fclose(f) ? errno : 0;
}

int cmd_lab_fw(int argc, char **argv)
{
	struct fw_args a = {0};
	struct lab_fw_files files;
	char err[ERR_MAX];
	int status, sig = 0;
	if (!cli_opts_parse(&fw_verb, argc, argv, &a, &status))
		return status;
	/* From here a signal waits: the load runs to its end (a flush without
	 * the restore after it would leave fw open), then --stay takes it. */
	proc_block_signals();
	proc_honour_interrupts(false);
	if (a.ready_file && unlink(a.ready_file) && errno != ENOENT) {
		fprintf(stderr, "edgelab lab fw: %s: %s\n", a.ready_file, strerror(errno));
		return EXIT_LAB;
	}
	if (a.rules_from) {
		if (lab_fw_files_from(a.rules_from, &files, err, sizeof(err))) {
			fprintf(stderr, "edgelab lab fw: %s\n", err);
			return EXIT_USAGE;
		}
		for (size_t i = 0; i < files.n; i++)
			a.rules.files[i] =
			    (struct ruleset){.path = files.path[i], .fmt = a.rules.fmt};
		a.rules.n = files.n;
	}
	if (lab_fw_here(a.rules.files, a.rules.n, err, sizeof(err))) {
		fprintf(stderr, "edgelab lab fw: %s\n", err);
		return EXIT_LAB;
	}
	printf("lab fw: forwarding between outside0 and edge0 under ");
	if (a.rules.n == 0)
		printf("the lab's policy (edgelab rules --lab)\n");
	for (size_t i = 0; i < a.rules.n; i++)
		printf("%s%s (%s)%s", i ? " and " : "", a.rules.files[i].path,
		       ruleset_format_name(a.rules.files[i].fmt), i + 1 == a.rules.n ? "\n" : "");
	fflush(stdout);
	if (a.ready_file && (status = ready_write(a.ready_file, a.rules.files, a.rules.n))) {
		fprintf(stderr, "edgelab lab fw: %s: %s\n", a.ready_file, strerror(status));
		return EXIT_LAB;
	}
	if (!a.stay)
		return EXIT_OK;
	/* SIGHUP is taken and ignored: there is nothing to reload. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	while (sig != SIGTERM && sig != SIGINT)
		if (sigwait(&set, &sig))
			break;
	if (a.ready_file)
		unlink(a.ready_file);
	printf("lab fw: stopped\n");
	return EXIT_OK;
}
