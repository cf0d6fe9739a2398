#include "cli/cmd.h"

#include <stdio.h>

int cmd_pki(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "edgelab pki: not built yet\n");
	return EXIT_FAIL;
}
