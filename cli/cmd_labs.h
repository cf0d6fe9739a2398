/* edgelab lab's sub-verbs: a lab that stays up (lab/labs.h). */
#ifndef EDGELAB_CLI_CMD_LABS_H
#define EDGELAB_CLI_CMD_LABS_H

#include <stdbool.h>

/* Whether word is one of the sub-verbs (up, probe, check, exec, rules,
 * list, down, scenarios, fw). */
bool cmd_labs_is_sub(const char *word);
/* Runs the sub-verb argv[0]; the exit status. */
int cmd_labs(int argc, char **argv);
/* lab fw (cli/cmd_lab_fw.c): this host as the lab's fw. */
int cmd_lab_fw(int argc, char **argv);

#endif
