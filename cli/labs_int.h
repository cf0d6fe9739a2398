/* What the lab sub-verbs' files share (cli/cmd_labs.c: up, list, down,
 * scenarios and the dispatch; cli/cmd_labs_use.c: probe, check, rules,
 * exec): the lab's name as an option or the operand, and the checks every
 * sub-verb makes. */
#ifndef EDGELAB_CLI_LABS_INT_H
#define EDGELAB_CLI_LABS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/opts.h"

/* --name NAME (a const char * at o->offset): a lab name, given once. */
cli_opt_set_h labs_opt_name;
/* The lab's name as the one operand, stored at offset 0 of the verb's
 * arguments (each verb's struct starts with it: _Static_assert it). */
int labs_name_operand(size_t index, const char *value, char *why, size_t why_len, void *arg);
/* A lab named, or the only one up; else says why on stderr and returns
 * EXIT_LAB. */
int labs_resolve_name(const char *verb, const char **name);
/* True when running as root; else says so on stderr. */
bool labs_need_root(const char *verb);

#define LABS_NAME_OPT(type)                                                                        \
	{                                                                                          \
		.name = "name", .letter = 'n', .arg = "NAME", .set = labs_opt_name,                \
		.offset = offsetof(type, name), .help = "the lab (default: the only one up)"       \
	}

/* cmd_labs_use.c's sub-verbs. */
int cmd_labs_probe(int argc, char **argv);
int cmd_labs_check(int argc, char **argv);
int cmd_labs_rules(int argc, char **argv);
int cmd_labs_exec(int argc, char **argv);
int cmd_labs_assess(int argc, char **argv);
int cmd_labs_impair(int argc, char **argv);
int cmd_labs_impairer(int argc, char **argv);

#endif
