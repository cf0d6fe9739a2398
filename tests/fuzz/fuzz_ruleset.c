/* fuzz_ruleset: which tool a ruleset is for, from its content
 * (lab/ruleset.c, ruleset_detect): never read past the length given (no
 * NUL needed), always one of the three formats, and blank lines or
 * comments before the first rule change nothing but ip6tables-save's
 * header. */
#include <stdlib.h>
#include <string.h>

#include "lab/ruleset.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy: ASan catches a read one past the end. */
	char *text = malloc(size ? size : 1);
	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	enum ruleset_format f = ruleset_detect(text, size);
	FUZZ_CHECK(f == RULESET_NFT || f == RULESET_IPTABLES || f == RULESET_IP6TABLES);

	static const char lead[] = "\n  \t\n# a comment\r\n";
	char *led = malloc(sizeof(lead) - 1 + size);
	FUZZ_CHECK(led != NULL);
	memcpy(led, lead, sizeof(lead) - 1);
	memcpy(led + sizeof(lead) - 1, data, size);
	FUZZ_CHECK(ruleset_detect(led, sizeof(lead) - 1 + size) == f);
	free(led);
	free(text);
	return 0;
}
