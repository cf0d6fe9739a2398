/* A verb's options as data (core/conf_keys.c does the same for the config
 * keys). Each verb declares a table of struct cli_opt and one parser, built
 * on getopt_long, walks it: to parse argv into the verb's arguments, to
 * print the verb's --help, and to word its errors.
 *
 * Errors are one line on stderr, "edgelab VERB: ...", then a pointer to
 * --help; the verb then ends with EXIT_USAGE (cli/cmd.h). */
#ifndef EDGELAB_CLI_OPTS_H
#define EDGELAB_CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cli_opt;

/* Stores value (NULL for an option that takes no argument) into the verb's
 * arguments, arg. Returns 0, or EINVAL for a value it refuses; it may then
 * say why in why (why_len bytes; without the option's name: "row 9 does not
 * exist (rows are 1-6)"). Left empty, the parser says "bad value 'VALUE'
 * (expected o->expect)". Setters never print. */
typedef int(cli_opt_set_h)(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                           void *arg);

/* The verb's arguments as a whole, once every option is in: 0, or EINVAL
 * with why written ("a row cannot be both dropped and rejected"). */
typedef int(cli_opts_check_h)(char *why, size_t why_len, void *arg);

/* One option. A row with no name is a heading in --help (its help is the
 * line); a row with neither name nor help ends the table. -h and --help are
 * the parser's own, in every verb. */
struct cli_opt {
	const char *name;   /* the long name, without "--" */
	char letter;        /* the short option, or 0 */
	const char *arg;    /* the argument's name in --help ("ADDR"); NULL: takes none */
	cli_opt_set_h *set; /* one of the typed setters below, or the verb's own */
	size_t offset;      /* the typed setters: where in the verb's arguments */
	size_t size;        /* cli_opt_text, cli_opt_dns_name: the buffer's size */
	const char *expect; /* what a valid value looks like, for errors */
	const char *help;   /* --help's text; each '\n' starts another line of it */
};

/* The verb's index-th operand (from 0), in order; as a setter: 0 or
 * EINVAL with why written ("too many arguments"). */
typedef int(cli_operand_h)(size_t index, const char *value, char *why, size_t why_len, void *arg);

struct cli_opts {
	const char *verb;           /* "probe", "lab up" */
	const char *synopsis;       /* what --help prints after "usage: edgelab VERB " */
	const char *about;          /* before the options: what the verb does; or NULL */
	const struct cli_opt *opts; /* the table */
	const char *notes;          /* after the options: exit status, examples; or NULL */
	cli_opts_check_h *check;    /* or NULL */
	cli_operand_h *operand;     /* or NULL: operands are refused */
};

/* Parses argv (argv[0] is the verb's name) into arg through the table's
 * setters, then hands operands to v->operand (or rejects them) and runs
 * v->check. Returns true when the
 * verb is to run; false when it is to end at once with *status: EXIT_OK
 * after --help (printed on stdout), EXIT_USAGE after an error (reported).
 * Resets getopt's state first, so that a verb may run after another. */
bool cli_opts_parse(const struct cli_opts *v, int argc, char **argv, void *arg, int *status);

/* The verb's --help: synopsis, about, one line per option (the help's
 * further lines under it) and per heading, in table order, with -h at the
 * end of the first group (before the first heading), then the notes. */
void cli_opts_help(const struct cli_opts *v, FILE *out);

/* A number macro as a string literal, for the texts of a table:
 * "1.." CLI_STR(PKI_DAYS_MAX). */
#define CLI_STR(x)  CLI_STR_(x)
#define CLI_STR_(x) #x

/* The field a setter fills: o->offset bytes into the verb's arguments. */
#define CLI_OPT_FIELD(o, arg, type) ((type *)((char *)(arg) + (o)->offset))

/* cli_opt_seconds' limit (a probe's flow waits an hour at most), and the
 * words for its errors. */
#define CLI_SECONDS_MAX    3600
#define CLI_SECONDS_EXPECT "seconds, more than 0, at most " CLI_STR(CLI_SECONDS_MAX)

/* Typed setters; they store at o->offset in the verb's arguments. */
cli_opt_set_h cli_opt_flag;     /* bool: true (an option without argument) */
cli_opt_set_h cli_opt_string;   /* const char *: value itself (argv outlives the verb) */
cli_opt_set_h cli_opt_text;     /* char[o->size]: a copy; a value that does not fit is refused */
cli_opt_set_h cli_opt_dns_name; /* char[o->size]: a DNS name (conf_dns_name_valid) */
cli_opt_set_h cli_opt_port;     /* uint16_t: 1..65535 */
cli_opt_set_h cli_opt_addr;     /* struct sockaddr_storage: an IPv4 or IPv6 address */
cli_opt_set_h cli_opt_seconds;  /* unsigned: milliseconds, from seconds in (0, CLI_SECONDS_MAX] */
cli_opt_set_h cli_opt_rows;     /* unsigned: a row mask (rows_parse_mask), replaced */
cli_opt_set_h cli_opt_rows_add; /* unsigned: the same, added: repeated options add up */

#endif
