#include "cli/cmd.h"

#include <stdio.h>

int cmd_serve(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "edgelab serve: not built yet\n");
	return EXIT_FAIL;
}
