/* fuzz_ruleset: which tool a ruleset is for, from its content
 * (lab/ruleset.c, ruleset_detect): never read past the length given (no
 * NUL needed), always one of the three formats, and blank lines or
 * comments before the first rule change nothing but ip6tables-save's
 * header. The same bytes as an impairment's words (lab/impair_spec.c): a
 * spec that parses is written back in words that parse to it again. */
#include <stdlib.h>
#include <string.h>

#include "lab/impair_spec.h"
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

	char words[IMPAIR_SPEC_MAX + 2], why[128], back[IMPAIR_SPEC_MAX];
	size_t n = size < sizeof(words) - 1 ? size : sizeof(words) - 1;
	memcpy(words, data, n);
	words[n] = '\0';
	struct impair_spec sp, again;
	if (impair_spec_parse(words, &sp, why, sizeof(why)) == 0) {
		FUZZ_CHECK(sp.delay_us <= IMPAIR_DELAY_MAX && sp.jitter_us <= sp.delay_us);
		FUZZ_CHECK(sp.loss_ppm <= IMPAIR_PPM && sp.reorder_ppm <= IMPAIR_PPM);
		impair_spec_str(&sp, back, sizeof(back));
		FUZZ_CHECK(impair_spec_parse(back, &again, why, sizeof(why)) == 0);
		FUZZ_CHECK(again.loss_ppm == sp.loss_ppm && again.reorder_ppm == sp.reorder_ppm);
	}
	free(text);
	return 0;
}
