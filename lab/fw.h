/* `edgelab lab fw`: the host it runs on (a container, a VM) becomes the
 * lab's fw, for a lab whose hosts edgelab did not make (docker/compose.yaml).
 * The same interface names, forwarding and ruleset loading as the namespace
 * lab's fw, so that one ruleset (docs/lab.md) fits both:
 *  - the interface that has LAB_FW_OUTSIDE_ADDR is renamed LAB_FW_OUTSIDE_IF,
 *    the one that has LAB_FW_EDGE_ADDR LAB_FW_EDGE_IF (a container's are
 *    eth0, eth1 in no fixed order), their other IPv4 routes put back;
 *  - IPv4 forwarding must be on (a container's /proc/sys is read-only: the
 *    runtime sets it, compose's `sysctls`);
 *  - the ruleset is the user's files, checked and loaded as ruleset_load
 *    does (a bad one changes nothing; a failed load leaves fw dropping), or
 *    the lab's policy (`edgelab rules --lab`). */
#ifndef EDGELAB_LAB_FW_H
#define EDGELAB_LAB_FW_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "lab/ruleset.h"

/* In a --rules-from directory without a ruleset: load the lab's policy.
 * An empty directory is an error instead, as Docker makes one for a bind
 * mount of a path that does not exist. */
#define LAB_FW_POLICY_MARKER ".lab-policy"

/* The files of --rules-from PATH: PATH itself when it is a file; the
 * regular files of PATH (names not starting with '.', in name order) when
 * it is a directory. */
struct lab_fw_files {
	char path[RULESET_FILES_MAX][PATH_MAX];
	size_t n;
	bool lab_policy; /* n is 0: the directory has LAB_FW_POLICY_MARKER */
};

/* Fills f from path; 0, or an errno with err: no such path, more than
 * RULESET_FILES_MAX files, a name too long, a directory with neither a
 * ruleset nor the marker. */
int lab_fw_files_from(const char *path, struct lab_fw_files *f, char *err, size_t len);

/* Names the interfaces, checks forwarding and loads rs (n of them, not yet
 * resolved; n 0: the lab's policy) in the current network namespace. rs is
 * resolved and released here: each keeps its path and its format, detected
 * when it was auto. 0, or an errno with err saying which step failed. */
int lab_fw_here(struct ruleset *rs, size_t n, char *err, size_t len);

#endif
