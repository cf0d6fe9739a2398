/* lab/impair_spec.c: an impairment's words, as tc netem's, parsed and
 * written back; what is refused, and why. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lab/impair_spec.h"

static struct impair_spec parsed(const char *s)
{
	struct impair_spec sp;
	char why[128];
	assert_int_equal(impair_spec_parse(s, &sp, why, sizeof(why)), 0);
	return sp;
}

static void test_words(void **state)
{
	(void)state;
	struct impair_spec sp = parsed("delay 40ms 10ms loss 0.5% reorder 25%");
	assert_int_equal(sp.delay_us, 40000);
	assert_int_equal(sp.jitter_us, 10000);
	assert_int_equal(sp.loss_ppm, 5000);
	assert_int_equal(sp.reorder_ppm, 250000);
	assert_true(impair_spec_on(&sp));
	char buf[IMPAIR_SPEC_MAX];
	assert_string_equal(impair_spec_str(&sp, buf, sizeof(buf)),
	                    "delay 40ms 10ms loss 0.5% reorder 25%");
	sp = parsed("  loss 100%\tdelay 1.5s  ");
	assert_int_equal(sp.delay_us, 1500000);
	assert_int_equal(sp.loss_ppm, IMPAIR_PPM);
	assert_string_equal(impair_spec_str(&sp, buf, sizeof(buf)), "delay 1500ms loss 100%");
	sp = parsed("delay 500us");
	assert_int_equal(sp.delay_us, 500);
	sp = parsed("off");
	assert_false(impair_spec_on(&sp));
	assert_string_equal(impair_spec_str(&sp, buf, sizeof(buf)), "off");
	sp = parsed("");
	assert_false(impair_spec_on(&sp));
}

static void refused(const char *s, const char *why_has)
{
	struct impair_spec sp;
	char why[128] = "";
	assert_int_equal(impair_spec_parse(s, &sp, why, sizeof(why)), EINVAL);
	if (!strstr(why, why_has))
		fail_msg("'%s': why is '%s', not about '%s'", s, why, why_has);
}

static void test_refused(void **state)
{
	(void)state;
	refused("delay", "delay needs a value");
	refused("delay 40", "'40' is not a time");
	refused("delay 11s", "'11s' is not a time up to 10s");
	refused("delay -1ms", "not a time");
	refused("delay 10ms 20ms", "jitter 20ms is more than the delay");
	refused("loss 5", "'5' is not a percentage");
	refused("loss 101%", "not a percentage");
	refused("loss 1% loss 2%", "loss given twice");
	refused("reorder 10%", "reorder needs a delay");
	refused("rate 1mbit", "'rate' is not delay, loss or reorder");
	refused("off off", "'off' is not delay");
	refused("delay 1ms loss 1% reorder 1% delay", "delay given twice");
	char longer[IMPAIR_SPEC_MAX + 2];
	memset(longer, ' ', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	refused(longer, "longer than");
	refused("loss 1% loss 1% loss 1% loss 1% loss 1%", "more than 8 words");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_words),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
