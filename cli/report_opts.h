/* --report FMT:FILE (repeatable): more reports of one probe run besides
 * the one on stdout or --output, each written whole or not at all
 * (report_write_file). o->offset points at a struct report_files in the
 * verb's arguments. */
#ifndef EDGELAB_CLI_REPORT_OPTS_H
#define EDGELAB_CLI_REPORT_OPTS_H

#include <stddef.h>

#include "cli/opts.h"
#include "probe/report.h"

#define REPORT_FILES_MAX 5

struct report_files {
	size_t n;
	struct report_file {
		enum report_format fmt;
		const char *path; /* FILE */
		const char *spec; /* FMT:FILE as given, for messages */
	} f[REPORT_FILES_MAX];
};

cli_opt_set_h report_opt_file; /* one more FMT:FILE */

/* Before any flow runs: each FILE's directory exists and can be written
 * to, and no FILE is named twice or is output (--output, or NULL). 0, or
 * EINVAL with why. */
int report_files_check(const struct report_files *r, const char *output, char *why, size_t why_len);

#endif
