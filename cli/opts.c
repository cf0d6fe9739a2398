/* The one options parser and --help printer of the verbs (cli/opts.h): a
 * verb's table becomes getopt_long's, and getopt_long's answers are turned
 * back into table rows, so that no verb numbers its options. */
#include "cli/opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"

/* getopt_long's val for table row i is VAL_ROW + i: above any letter, so
 * that rows without a letter need no number of their own. */
#define VAL_ROW  256
#define VAL_HELP 'h'
#define WHY_MAX  256

/* What getopt_long is given: the long options, one per named row, then
 * --help and the zero row; the short ones, ':' first (a missing argument
 * is ':', not '?': the messages are ours), each letter with ':' after it
 * when it takes an argument, then 'h'. */
struct getopt_tables {
	struct option *longs;
	char *shorts;
};

static const struct cli_opt help_opt = {.name = "help", .letter = 'h', .help = "this text"};

/* Rows up to the end marker, headings included. */
static size_t table_len(const struct cli_opt *t)
{
	size_t n = 0;
	while (t[n].name || t[n].help)
		n++;
	return n;
}

static int tables_build(const struct cli_opt *t, size_t n, struct getopt_tables *g)
{
	size_t nl = 0, ns = 0;
	g->longs = calloc(n + 2, sizeof(*g->longs));
	g->shorts = calloc(2 * n + 3, 1);
	if (!g->longs || !g->shorts)
		return ENOMEM;
	g->shorts[ns++] = ':';
	for (size_t i = 0; i < n; i++) {
		if (!t[i].name)
			continue;
		g->longs[nl++] = (struct option){
		    t[i].name, t[i].arg ? required_argument : no_argument, NULL, VAL_ROW + (int)i};
		if (!t[i].letter)
			continue;
		g->shorts[ns++] = t[i].letter;
		if (t[i].arg)
			g->shorts[ns++] = ':';
	}
	g->longs[nl] = (struct option){help_opt.name, no_argument, NULL, VAL_HELP};
	g->shorts[ns] = help_opt.letter;
	return 0;
}

/* The row getopt_long's c (or optopt) stands for, or NULL. */
static const struct cli_opt *row_of(const struct cli_opt *t, size_t n, int c)
{
	if (c >= VAL_ROW)
		return (size_t)(c - VAL_ROW) < n ? &t[c - VAL_ROW] : NULL;
	for (size_t i = 0; c > 0 && i < n; i++)
		if (t[i].name && t[i].letter == c)
			return &t[i];
	return NULL;
}

static void complain(const struct cli_opts *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void complain(const struct cli_opts *v, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "edgelab %s: ", v->verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'edgelab %s --help'.\n", v->verb);
}

/* "--ed" when both --edge and --edge-fqdn exist: getopt_long says only
 * '?', as for a name that matches nothing. */
static void complain_long(const struct cli_opts *v, size_t n, const char *word)
{
	const char *name = word + 2;
	size_t len = strcspn(name, "="), matches = 0;
	char list[WHY_MAX] = "";
	for (size_t i = 0; i <= n; i++) {
		const struct cli_opt *o = i < n ? &v->opts[i] : &help_opt;
		if (!o->name || strncmp(o->name, name, len) != 0)
			continue;
		size_t used = strlen(list);
		snprintf(list + used, sizeof(list) - used, "%s--%s", matches++ ? ", " : "",
		         o->name);
	}
	if (matches > 1)
		complain(v, "option '--%.*s' is ambiguous (%s)", (int)len, name, list);
	else
		complain(v, "unknown option '%s'", word);
}

/* getopt_long's ':' or '?': what was wrong with the word it stopped at. */
static void complain_option(const struct cli_opts *v, size_t n, int c, const char *word)
{
	const struct cli_opt *o = row_of(v->opts, n, optopt);
	if (c == ':' && o)
		complain(v, "--%s needs an argument", o->name);
	else if (o || optopt == VAL_HELP)
		complain(v, "--%s takes no argument", o ? o->name : help_opt.name);
	else if (optopt)
		complain(v, "unknown option '-%c'", optopt);
	else if (strncmp(word, "--", 2) == 0)
		complain_long(v, n, word);
	else
		complain(v, "unknown option '%s'", word);
}

static int value_apply(const struct cli_opts *v, const struct cli_opt *o, const char *value,
                       void *arg)
{
	char why[WHY_MAX] = "";
	int err = o->set(o, value, why, sizeof(why), arg);
	if (!err)
		return 0;
	if (why[0])
		complain(v, "--%s: %s", o->name, why);
	else if (err == EINVAL)
		complain(v, "--%s: bad value '%s' (expected %s)", o->name, value ? value : "",
		         o->expect ? o->expect : "another value");
	else
		complain(v, "--%s: %s", o->name, strerror(err));
	return err;
}

/* The options, then the operands and the whole; -1 to
 * run the verb, else the status to end it with. */
static int options_parse(const struct cli_opts *v, size_t n, const struct getopt_tables *g,
                         int argc, char **argv, void *arg)
{
	char why[WHY_MAX] = "";
	int c;
	optind = 0; /* glibc: start over, also after another verb's getopt */
	opterr = 0;
	while ((c = getopt_long(argc, argv, g->shorts, g->longs, NULL)) != -1) {
		const struct cli_opt *o = row_of(v->opts, n, c);
		if (c == VAL_HELP) {
			cli_opts_help(v, stdout);
			return EXIT_OK;
		}
		if (c == ':' || c == '?' || !o) {
			complain_option(v, n, c, argv[optind - 1]);
			return EXIT_USAGE;
		}
		if (value_apply(v, o, o->arg ? optarg : NULL, arg))
			return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		if (!v->operand) {
			complain(v, "unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
		if (v->operand((size_t)(i - optind), argv[i], why, sizeof(why), arg)) {
			complain(v, "%s", why[0] ? why : "unexpected argument");
			return EXIT_USAGE;
		}
	}
	if (v->check && v->check(why, sizeof(why), arg)) {
		complain(v, "%s", why[0] ? why : "these options do not go together");
		return EXIT_USAGE;
	}
	return -1;
}

bool cli_opts_parse(const struct cli_opts *v, int argc, char **argv, void *arg, int *status)
{
	size_t n = table_len(v->opts);
	struct getopt_tables g;
	if (tables_build(v->opts, n, &g)) {
		fprintf(stderr, "edgelab %s: out of memory\n", v->verb);
		*status = EXIT_FAIL;
	} else {
		*status = options_parse(v, n, &g, argc, argv, arg);
	}
	free(g.longs);
	free(g.shorts);
	return *status < 0;
}

/* "  -e, --edge ADDR" or "      --stun-port N": the column before the help. */
static int help_left(const struct cli_opt *o, char *buf, size_t cap)
{
	char letter[8] = "    ";
	if (o->letter)
		snprintf(letter, sizeof(letter), "-%c, ", o->letter);
	return snprintf(buf, cap, "  %s--%s%s%s", letter, o->name, o->arg ? " " : "",
	                o->arg ? o->arg : "");
}

static void help_row(FILE *out, const struct cli_opt *o, int col)
{
	char left[128];
	if (!o->name) {
		fprintf(out, "%s\n", o->help);
		return;
	}
	help_left(o, left, sizeof(left));
	fprintf(out, "%-*s", col, left);
	for (const char *p = o->help ? o->help : "";; p++) {
		int len = (int)strcspn(p, "\n");
		fprintf(out, "%.*s\n", len, p);
		p += len;
		if (!*p)
			break;
		fprintf(out, "%*s", col, "");
	}
}

void cli_opts_help(const struct cli_opts *v, FILE *out)
{
	char left[128];
	size_t n = table_len(v->opts);
	int col = help_left(&help_opt, left, sizeof(left));
	for (size_t i = 0; i < n; i++) {
		int w = v->opts[i].name ? help_left(&v->opts[i], left, sizeof(left)) : 0;
		col = w > col ? w : col;
	}
	col += 2;
	fprintf(out, "usage: edgelab %s %s\n\n", v->verb, v->synopsis);
	if (v->about)
		fprintf(out, "%s\n", v->about);
	/* -h ends the first group: the options under a heading are that topic's. */
	bool help_done = false;
	for (size_t i = 0; i < n; i++) {
		if (!v->opts[i].name && !help_done) {
			help_row(out, &help_opt, col);
			help_done = true;
		}
		help_row(out, &v->opts[i], col);
	}
	if (!help_done)
		help_row(out, &help_opt, col);
	if (v->notes)
		fprintf(out, "\n%s", v->notes);
}
