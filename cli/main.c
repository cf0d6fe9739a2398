/* edgelab: one binary, its verbs (the README's verb table). main() only
 * picks the verb; each verb parses its own options (cli/opts.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"

struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct verb verbs[] = {
    {"serve", cmd_serve, "run the edge: SIP TLS/MTLS, STUN/TURN/MS-TURN relay, control API"},
    {"probe", cmd_probe, "run the port table's rows from the outside and report"},
    {"pki", cmd_pki, "write a lab CA and edge, partner and client certificates"},
    {"rules", cmd_rules, "print the firewall policy the port table implies"},
    {"lab", cmd_lab, "build outside/fw/edge namespaces, probe, print the matrix"},
    {"assess", cmd_assess, "calls through the edge's relay, judged on Microsoft's media targets"},
    {"mras", cmd_mras, "issue MRAS-style relay credentials (mras_secret) by hand"},
    {"ctl", cmd_ctl, "ask the edge's control API: healthz, metrics, row N's flow"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: edgelab VERB [OPTIONS]   (edgelab VERB --help)\n\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(out, "  %-6s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(out, "\nedgelab %s, a Lync Server 2013 Edge access interface for firewall labs\n",
	        PACKAGE_VERSION);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
		printf("edgelab %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(name, verbs[i].name) == 0)
			return verbs[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "edgelab: unknown verb '%s'\n\n", name);
	usage(stderr);
	return EXIT_USAGE;
}
