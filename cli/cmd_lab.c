#include "cli/cmd.h"

#include <stdio.h>

int cmd_lab(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "edgelab lab: not built yet\n");
	return EXIT_FAIL;
}
