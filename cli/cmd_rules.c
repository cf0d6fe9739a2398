#include "cli/cmd.h"

#include <stdio.h>

int cmd_rules(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "edgelab rules: not built yet\n");
	return EXIT_FAIL;
}
