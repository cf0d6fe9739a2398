#include "lab/ruleset.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"
#include "lab/proc.h"

#define TOOL_OUTPUT_MAX 1536 /* what is kept of a tool's complaint */

static const char *const format_names[] = {
    [RULESET_AUTO] = "auto",
    [RULESET_NFT] = "nft",
    [RULESET_IPTABLES] = "iptables",
    [RULESET_IP6TABLES] = "ip6tables",
};

int ruleset_format_parse(const char *name, enum ruleset_format *fmt)
{
	for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
		if (strcmp(name, format_names[i]) == 0)
			return *fmt = (enum ruleset_format)i, 0;
	if (strcmp(name, "nftables") == 0)
		return *fmt = RULESET_NFT, 0;
	return EINVAL;
}

const char *ruleset_format_name(enum ruleset_format fmt)
{
	return (unsigned)fmt < sizeof(format_names) / sizeof(format_names[0]) ? format_names[fmt]
	                                                                      : "?";
}

/* The next line of text as [*line, *end); false at the end. */
static bool next_line(const char **p, const char *stop, const char **line, const char **end)
{
	if (*p >= stop)
		return false;
	*line = *p;
	const char *nl = memchr(*p, '\n', (size_t)(stop - *p));
	*end = nl ? nl : stop;
	*p = nl ? nl + 1 : stop;
	return true;
}

static bool has(const char *s, const char *end, const char *needle)
{
	size_t n = strlen(needle);
	for (; s + n <= end; s++)
		if (memcmp(s, needle, n) == 0)
			return true;
	return false;
}

/* An address option followed by an address with a ':' on this line. */
static bool line_names_ipv6(const char *s, const char *end)
{
	static const char *const opts[] = {" -s ",    " -d ",   " --source ", " --destination ",
	                                   " --src ", " --dst "};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		size_t n = strlen(opts[i]);
		for (const char *p = s; p + n <= end; p++) {
			if (memcmp(p, opts[i], n) != 0)
				continue;
			const char *a = p + n, *e = a;
			while (e < end && *e != ' ' && *e != '\t')
				e++;
			if (memchr(a, ':', (size_t)(e - a)))
				return true;
		}
	}
	return false;
}

enum ruleset_format ruleset_detect(const char *text, size_t len)
{
	const char *p = text, *stop = text + len, *line, *end;
	bool iptables = false, v6 = false;
	while (next_line(&p, stop, &line, &end)) {
		while (line < end && (*line == ' ' || *line == '\t' || *line == '\r'))
			line++;
		if (line == end)
			continue;
		if (*line == '#') {
			v6 |= has(line, end, "ip6tables");
			continue;
		}
		if (!iptables && *line != '*')
			return RULESET_NFT;
		iptables = true;
		v6 |= has(line, end, "icmp6") || has(line, end, "icmpv6") ||
		      has(line, end, "ipv6-icmp") || line_names_ipv6(line, end);
	}
	return !iptables ? RULESET_NFT : v6 ? RULESET_IP6TABLES : RULESET_IPTABLES;
}

int ruleset_resolve(struct ruleset *rs, size_t n, char *err, size_t err_len)
{
	if (n < 1 || n > RULESET_FILES_MAX) {
		snprintf(err, err_len, "give 1 to %d ruleset files", RULESET_FILES_MAX);
		return EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		char *text;
		size_t len;
		int rc = file_read_all(rs[i].path, RULESET_FILE_MAX, &text, &len);
		if (rc) {
			snprintf(err, err_len, "%s: %s", rs[i].path,
			         rc == EFBIG ? "larger than 1 MiB: not a ruleset" : strerror(rc));
			return rc;
		}
		if (rs[i].fmt == RULESET_AUTO)
			rs[i].fmt = ruleset_detect(text, len);
		free(text);
	}
	return 0;
}

/* Our batch file includes the user's: nft's pointer to it says nothing
 * to the user. */
#define BATCH_PREFIX "/tmp/edgelab-rules-"
#define BATCH_NOTE   "In file included from " BATCH_PREFIX

/* "nft says:" and the tool's lines, indented, after what failed. */
static void quote_tool(const char *what, const char *tool, const char *out, char *err,
                       size_t err_len)
{
	size_t used = (size_t)snprintf(err, err_len, "%s; %s says:", what, tool);
	for (const char *p = out; *p && used < err_len;) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);
		if (n > 0 && strncmp(p, BATCH_NOTE, strlen(BATCH_NOTE)) != 0)
			used += (size_t)snprintf(err + used, err_len - used, "\n  %.*s", n, p);
		p += n + (nl ? 1 : 0);
	}
	if (!out[0] && used < err_len)
		snprintf(err + used, err_len - used, " nothing (exit status not 0)");
}

/* Runs a tool; on failure err quotes it. */
static int run_tool(const char *netns, char *const argv[], const char *what, char *err,
                    size_t err_len)
{
	char out[TOOL_OUTPUT_MAX], why[256];
	int rc = proc_run_capture(netns, argv, out, sizeof(out), why, sizeof(why));
	if (rc == EIO)
		quote_tool(what, argv[0], out, err, err_len);
	else if (rc)
		snprintf(err, err_len, "%s: %s", what, why);
	return rc;
}

/* One nft transaction: flush everything, then include each nft file, so
 * that a file fails as a whole and the old ruleset stays. Includes need
 * absolute paths without a quote. */
static int write_nft_batch(const struct ruleset *rs, size_t n, char *batch, size_t batch_len,
                           char *err, size_t err_len)
{
	snprintf(batch, batch_len, BATCH_PREFIX "XXXXXX");
	int fd = mkstemp(batch);
	if (fd < 0) {
		snprintf(err, err_len, "mkstemp: %s", strerror(errno));
		return errno;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(batch);
		return snprintf(err, err_len, "fdopen: %s", strerror(errno)), EIO;
	}
	int rc = fprintf(f, "flush ruleset\n") < 0 ? EIO : 0;
	for (size_t i = 0; i < n && !rc; i++) {
		char abs[PATH_MAX];
		if (rs[i].fmt != RULESET_NFT)
			continue;
		if (!realpath(rs[i].path, abs)) {
			rc = errno;
			snprintf(err, err_len, "%s: %s", rs[i].path, strerror(rc));
		} else if (strpbrk(abs, "\"\n")) {
			rc = EINVAL;
			snprintf(err, err_len, "%s: nft cannot include a path with a quote", abs);
		} else if (fprintf(f, "include \"%s\"\n", abs) < 0) {
			rc = EIO;
		}
	}
	if (fclose(f) && !rc)
		rc = EIO;
	if (rc == EIO)
		snprintf(err, err_len, "writing %s failed", batch);
	if (rc)
		unlink(batch);
	return rc;
}

/* Drops every forwarded packet: what fw does when a load went wrong after
 * the old ruleset was flushed. */
static void load_failsafe(const char *netns)
{
	char why[256];
	char *const argv[] = {"nft",
	                      "add table inet edgelab_failsafe { chain forward { type filter hook "
	                      "forward priority filter; policy drop; } }",
	                      NULL};
	proc_run(netns, argv, NULL, why, sizeof(why));
}

static const char *restore_tool(enum ruleset_format fmt)
{
	return fmt == RULESET_IP6TABLES ? "ip6tables-restore" : "iptables-restore";
}

int ruleset_load(const char *netns, const struct ruleset *rs, size_t n, char *err, size_t err_len)
{
	char batch[64], what[PATH_MAX + 64];
	int rc = write_nft_batch(rs, n, batch, sizeof(batch), err, err_len);
	if (rc)
		return rc;
	/* Check everything before changing anything. */
	char *const nft_check[] = {"nft", "-c", "-f", batch, NULL};
	rc = run_tool(netns, nft_check, "the nftables ruleset did not load", err, err_len);
	for (size_t i = 0; i < n && !rc; i++) {
		if (rs[i].fmt == RULESET_NFT)
			continue;
		char *const argv[] = {(char *)restore_tool(rs[i].fmt), "--test", (char *)rs[i].path,
		                      NULL};
		snprintf(what, sizeof(what), "%s did not load", rs[i].path);
		rc = run_tool(netns, argv, what, err, err_len);
	}
	if (!rc) {
		char *const nft_load[] = {"nft", "-f", batch, NULL};
		rc = run_tool(netns, nft_load, "the nftables ruleset did not load", err, err_len);
	}
	for (size_t i = 0; i < n && !rc; i++) {
		if (rs[i].fmt == RULESET_NFT)
			continue;
		char *const argv[] = {(char *)restore_tool(rs[i].fmt), (char *)rs[i].path, NULL};
		snprintf(what, sizeof(what), "%s did not load", rs[i].path);
		rc = run_tool(netns, argv, what, err, err_len);
		if (rc)
			load_failsafe(netns);
	}
	unlink(batch);
	return rc;
}
