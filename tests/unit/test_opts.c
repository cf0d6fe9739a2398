/* cli/opts: one table drives a verb's parsing, its --help and its errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/cmd.h"
#include "cli/opts.h"
#include "cli/serve_conf.h"
#include "core/rows.h"

struct args {
	bool quiet;
	const char *name;
	char text[8];
	uint16_t port;
	unsigned rows;
	unsigned ms;
	int level; /* set_level's */
};

#define AT(field) offsetof(struct args, field)

/* A verb's own setter: a reason of its own for one value, the generic
 * message for the others. */
static int set_level(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                     void *arg)
{
	struct args *a = arg;
	(void)o;
	if (strcmp(value, "11") == 0) {
		snprintf(why, why_len, "this one goes to 10 at most");
		return EINVAL;
	}
	if (strcmp(value, "low") != 0 && strcmp(value, "high") != 0)
		return EINVAL;
	a->level = value[0] == 'h' ? 2 : 1;
	return 0;
}

static int check_args(char *why, size_t why_len, void *arg)
{
	const struct args *a = arg;
	if (a->quiet && a->level == 2) {
		snprintf(why, why_len, "--quiet and --level high do not go together");
		return EINVAL;
	}
	return 0;
}

static const struct cli_opt table[] = {
    {.name = "quiet", .letter = 'q', .set = cli_opt_flag, .offset = AT(quiet), .help = "say less"},
    {.name = "name",
     .letter = 'n',
     .arg = "NAME",
     .set = cli_opt_string,
     .offset = AT(name),
     .help = "who\nsecond line"},
    {.name = "name-text",
     .arg = "T",
     .set = cli_opt_text,
     .offset = AT(text),
     .size = sizeof(((struct args *)0)->text),
     .help = "a copy"},
    {.help = "Network:"},
    {.name = "port",
     .letter = 'p',
     .arg = "N",
     .set = cli_opt_port,
     .offset = AT(port),
     .expect = "a port 1-65535",
     .help = "a port"},
    {.name = "rows", .arg = "LIST", .set = cli_opt_rows_add, .offset = AT(rows), .help = "rows"},
    {.name = "timeout",
     .arg = "SECS",
     .set = cli_opt_seconds,
     .offset = AT(ms),
     .expect = "seconds",
     .help = "a time"},
    {.name = "level", .arg = "L", .set = set_level, .expect = "low or high", .help = "how much"},
    {0},
};

static const struct cli_opts verb = {
    .verb = "test",
    .synopsis = "[options]",
    .about = "Tests the options parser.\n",
    .opts = table,
    .notes = "Exit status: 0.\n",
    .check = check_args,
};

/* What one parse printed on stdout and stderr, and its outcome. */
struct run {
	bool go;
	int status;
	char out[2048], err[2048];
};

static void fd_read(FILE *f, char *buf, size_t cap)
{
	rewind(f);
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

#define END ((char *)NULL) /* the end of parse()'s words: a char *, as va_arg reads it */

/* Parses the END-terminated words (after argv[0], the verb) into a. */
static void parse(struct run *r, struct args *a, ...)
{
	char *argv[32] = {"test"};
	int argc = 1;
	va_list ap;
	va_start(ap, a);
	for (char *w; argc < 31 && (w = va_arg(ap, char *)) != NULL;)
		argv[argc++] = w;
	va_end(ap);

	FILE *out = tmpfile(), *err = tmpfile();
	assert_non_null(out);
	assert_non_null(err);
	fflush(stdout);
	fflush(stderr);
	int saved_out = dup(1), saved_err = dup(2);
	dup2(fileno(out), 1);
	dup2(fileno(err), 2);
	r->go = cli_opts_parse(&verb, argc, argv, a, &r->status);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	fd_read(out, r->out, sizeof(r->out));
	fd_read(err, r->err, sizeof(r->err));
}

/* A usage error: not run, EXIT_USAGE, exactly this line and the hint. */
static void assert_usage_error(const struct run *r, const char *line)
{
	char want[512];
	snprintf(want, sizeof(want), "edgelab test: %s\nTry 'edgelab test --help'.\n", line);
	assert_false(r->go);
	assert_int_equal(r->status, EXIT_USAGE);
	assert_string_equal(r->err, want);
	assert_string_equal(r->out, "");
}

static void test_opts_parse(void **state)
{
	(void)state;
	struct args a = {0};
	struct run r;
	parse(&r, &a, "-q", "--name", "alice", "--name-text", "1234567", "-p", "5061", "--rows",
	      "1", "--rows=3,6", "--timeout", "1.5", "--level", "low", END);
	assert_true(r.go);
	assert_string_equal(r.err, "");
	assert_true(a.quiet);
	assert_string_equal(a.name, "alice");
	assert_string_equal(a.text, "1234567");
	assert_int_equal(a.port, 5061);
	assert_int_equal(a.rows, (1u << 1) | (1u << 3) | (1u << 6)); /* repeated: added up */
	assert_int_equal(a.ms, 1500);
	assert_int_equal(a.level, 1);

	/* Again in the same process: getopt starts over; short forms, grouped. */
	struct args b = {0};
	parse(&r, &b, "-qnbob", "-p443", "--na", "x", END);
	assert_usage_error(&r, "option '--na' is ambiguous (--name, --name-text)");
	parse(&r, &b, "-qnbob", "-p443", "--nam", "carol", END);
	assert_usage_error(&r, "option '--nam' is ambiguous (--name, --name-text)");
	parse(&r, &b, "-qnbob", "-p443", "--name-t", "carol", END);
	assert_true(r.go);
	assert_true(b.quiet);
	assert_string_equal(b.name, "bob");
	assert_int_equal(b.port, 443);
	assert_string_equal(b.text, "carol");
}

static void test_opts_errors(void **state)
{
	(void)state;
	struct args a = {0};
	struct run r;
	parse(&r, &a, "--bogus", END);
	assert_usage_error(&r, "unknown option '--bogus'");
	parse(&r, &a, "-x", END);
	assert_usage_error(&r, "unknown option '-x'");
	parse(&r, &a, "--port", END);
	assert_usage_error(&r, "--port needs an argument");
	parse(&r, &a, "-p", END);
	assert_usage_error(&r, "--port needs an argument");
	parse(&r, &a, "--quiet=yes", END);
	assert_usage_error(&r, "--quiet takes no argument");
	parse(&r, &a, "--help=yes", END);
	assert_usage_error(&r, "--help takes no argument");
	parse(&r, &a, "--port", "0", END);
	assert_usage_error(&r, "--port: bad value '0' (expected a port 1-65535)");
	parse(&r, &a, "--level", "medium", END);
	assert_usage_error(&r, "--level: bad value 'medium' (expected low or high)");
	parse(&r, &a, "--level", "11", END);
	assert_usage_error(&r, "--level: this one goes to 10 at most");
	parse(&r, &a, "--name-text", "12345678", END);
	assert_usage_error(&r, "--name-text: longer than 7 bytes");
	parse(&r, &a, "--rows", "9", END);
	assert_usage_error(&r, "--rows: row 9 does not exist (rows are 1-6)");
	parse(&r, &a, "--rows", "1,x", END);
	assert_usage_error(&r, "--rows: 'x' is not a row number");
	parse(&r, &a, "--rows", "1,", END);
	assert_usage_error(&r, "--rows: '1,' is not a row list (\"1,3\", \"all\")");
	parse(&r, &a, "--timeout", "nan", END);
	assert_usage_error(&r, "--timeout: bad value 'nan' (expected seconds)");
	parse(&r, &a, "--timeout", "0", END);
	assert_usage_error(&r, "--timeout: bad value '0' (expected seconds)");
	parse(&r, &a, "--timeout", "3601", END);
	assert_usage_error(&r, "--timeout: bad value '3601' (expected seconds)");
	parse(&r, &a, "-q", "now", END);
	assert_usage_error(&r, "unexpected argument 'now'");
	parse(&r, &a, "-q", "--level", "high", END);
	assert_usage_error(&r, "--quiet and --level high do not go together");
}

static const char help_text[] = "usage: edgelab test [options]\n"
                                "\n"
                                "Tests the options parser.\n"
                                "\n"
                                "  -q, --quiet         say less\n"
                                "  -n, --name NAME     who\n"
                                "                      second line\n"
                                "      --name-text T   a copy\n"
                                "  -h, --help          this text\n"
                                "Network:\n"
                                "  -p, --port N        a port\n"
                                "      --rows LIST     rows\n"
                                "      --timeout SECS  a time\n"
                                "      --level L       how much\n"
                                "\n"
                                "Exit status: 0.\n";

static void test_opts_help(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	cli_opts_help(&verb, f);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, help_text);
	free(buf);

	struct args a = {0};
	struct run r;
	parse(&r, &a, "-q", "--help", "--bogus", END);
	assert_false(r.go);
	assert_int_equal(r.status, EXIT_OK);
	assert_string_equal(r.out, help_text);
	assert_string_equal(r.err, "");
	parse(&r, &a, "-h", END);
	assert_int_equal(r.status, EXIT_OK);
	assert_string_equal(r.out, help_text);
}

/* serve's option table has a flag for every key of the conf table, named
 * with dashes, however many keys there are (it is sized from
 * CONF_KEYS_MAX, which core/conf_keys.c asserts at compile time). */
static void test_serve_flag_per_key(void **state)
{
	(void)state;
	for (size_t i = 0; i < conf_key_count(); i++) {
		const char *name = conf_key_at(i)->name;
		char flag[CONF_KEY_NAME_MAX + 2];
		assert_true(strlen(name) < CONF_KEY_NAME_MAX);
		snprintf(flag, sizeof(flag), "--%s", name);
		for (char *p = flag; *p; p++)
			*p = *p == '_' ? '-' : *p;
		char *argv[] = {"serve", flag, "VALUE", NULL};
		struct serve_args a = {0};
		bool check = false;
		optind = 0;
		if (serve_args_parse(&a, 3, argv, &check))
			fail_msg("serve has no flag %s", flag);
		assert_int_equal(a.n_overrides, 1);
		assert_string_equal(a.override_key[0], name);
		assert_string_equal(a.override_value[0], "VALUE");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_opts_parse),
	    cmocka_unit_test(test_opts_errors),
	    cmocka_unit_test(test_opts_help),
	    cmocka_unit_test(test_serve_flag_per_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
