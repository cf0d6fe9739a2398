/* The verbs. Each parses its own options, from a cli/opts.h table (serve:
 * from the config key table), and returns the process exit status; main()
 * only picks the verb. */
#ifndef EDGELAB_CLI_CMD_H
#define EDGELAB_CLI_CMD_H

/* Exit statuses shared by every verb. 3 is unused: it said that some
 * requested rows were not built, and every row is built now. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,  /* the verb ran and found a failure (probe: a row did not pass) */
	EXIT_USAGE = 2, /* bad arguments or configuration */
	EXIT_LAB = 4,   /* lab: the test network could not be built, or was interrupted;
	                   assess: it could not run (the reflector's address taken) */
};

int cmd_serve(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_pki(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_lab(int argc, char **argv);
int cmd_mras(int argc, char **argv);
int cmd_ctl(int argc, char **argv);
int cmd_assess(int argc, char **argv);

#endif
