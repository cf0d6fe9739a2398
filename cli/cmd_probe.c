#include "cli/cmd.h"

#include <stdio.h>

int cmd_probe(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "edgelab probe: not built yet\n");
	return EXIT_FAIL;
}
