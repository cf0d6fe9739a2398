/* Loading a resolved ruleset into fw with its own tools (lab/ruleset.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab/proc.h"
#include "lab/ruleset.h"

#define TOOL_OUTPUT_MAX 1536 /* what is kept of a tool's complaint */
#define COPY_PATH_MAX   64   /* "/tmp/edgelab-rules-XXXXXX/batch.nft" */
#define RESTORE_WAIT    "5"  /* iptables-restore -w: seconds for the xtables lock */
#define PATH_QUOTE      512  /* of a user's file name in a message */

/* The private copies: one directory, the nft batch and a file per ruleset. */
struct copies {
	char dir[32];
	char batch[COPY_PATH_MAX];
	char file[RULESET_FILES_MAX][COPY_PATH_MAX];
	const struct ruleset *rs;
	size_t n;
};

static int write_text(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	int rc = write(fd, text, len) == (ssize_t)len ? 0 : EIO;
	if (close(fd) && !rc)
		rc = EIO;
	return rc;
}

/* One nft transaction: flush everything, then include each nft copy, so
 * that the nft files fail as a whole and the old ruleset stays. */
static int make_copies(struct copies *c, char *err, size_t err_len)
{
	char batch[64 + RULESET_FILES_MAX * (COPY_PATH_MAX + 16)];
	size_t used = (size_t)snprintf(batch, sizeof(batch), "flush ruleset\n");
	snprintf(c->dir, sizeof(c->dir), "/tmp/edgelab-rules-XXXXXX");
	if (!mkdtemp(c->dir)) {
		c->dir[0] = '\0';
		snprintf(err, err_len, "mkdtemp: %s", strerror(errno));
		return errno;
	}
	for (size_t i = 0; i < c->n; i++) {
		bool nft = c->rs[i].fmt == RULESET_NFT;
		snprintf(c->file[i], sizeof(c->file[i]), "%s/%zu.%s", c->dir, i + 1,
		         nft ? "nft" : "rules");
		int rc = write_text(c->file[i], c->rs[i].text, c->rs[i].len);
		if (rc) {
			snprintf(err, err_len, "%s: %s", c->file[i], strerror(rc));
			return rc;
		}
		if (nft)
			used += (size_t)snprintf(batch + used, sizeof(batch) - used,
			                         "include \"%s\"\n", c->file[i]);
	}
	snprintf(c->batch, sizeof(c->batch), "%s/batch.nft", c->dir);
	int rc = write_text(c->batch, batch, used);
	if (rc)
		snprintf(err, err_len, "%s: %s", c->batch, strerror(rc));
	return rc;
}

static void remove_copies(const struct copies *c)
{
	if (!c->dir[0])
		return;
	for (size_t i = 0; i < c->n; i++)
		if (c->file[i][0])
			unlink(c->file[i]);
	if (c->batch[0])
		unlink(c->batch);
	rmdir(c->dir);
}

/* Appends one line of the tool's output to err, with each copy's path
 * put back to the user's file name; our batch's own lines are dropped. */
static size_t quote_line(const struct copies *c, const char *p, size_t n, char *err, size_t used,
                         size_t err_len)
{
	static const char included[] = "In file included from ";
	if (n >= sizeof(included) - 1 + strlen(c->batch) &&
	    memcmp(p, included, sizeof(included) - 1) == 0 &&
	    memcmp(p + sizeof(included) - 1, c->batch, strlen(c->batch)) == 0)
		return used;
	used += (size_t)snprintf(err + used, err_len - used, "\n  ");
	for (size_t k = 0; k < n && used < err_len;) {
		size_t i = 0;
		while (i < c->n && !(strlen(c->file[i]) <= n - k &&
		                     memcmp(p + k, c->file[i], strlen(c->file[i])) == 0))
			i++;
		if (i < c->n) {
			used += (size_t)snprintf(err + used, err_len - used, "%s", c->rs[i].path);
			k += strlen(c->file[i]);
		} else {
			used += (size_t)snprintf(err + used, err_len - used, "%c", p[k++]);
		}
	}
	return used;
}

/* "nft says:" and the tool's lines, indented, after what failed. */
static void quote_tool(const struct copies *c, const char *what, const char *tool, const char *out,
                       char *err, size_t err_len)
{
	size_t used = (size_t)snprintf(err, err_len, "%s; %s says:", what, tool);
	for (const char *p = out; *p && used < err_len;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n > 0)
			used = quote_line(c, p, n, err, used, err_len);
		p += n + (nl ? 1 : 0);
	}
	if (!out[0] && used < err_len)
		snprintf(err + used, err_len - used, " nothing (exit status not 0)");
}

/* Runs a tool; on failure err quotes it. */
static int run_tool(const struct copies *c, const char *netns, char *const argv[], const char *what,
                    char *err, size_t err_len)
{
	char out[TOOL_OUTPUT_MAX], why[256];
	int rc = proc_run_capture(netns, argv, out, sizeof(out), why, sizeof(why));
	if (rc == EIO)
		quote_tool(c, what, argv[0], out, err, err_len);
	else if (rc)
		snprintf(err, err_len, "%s: %s", what, why);
	return rc;
}

/* Drops every forwarded packet: what fw does when a load went wrong after
 * the old ruleset was flushed (an interrupt included: this runs anyway). */
static void load_failsafe(const char *netns)
{
	char why[256];
	char *const argv[] = {"nft",
	                      "add table inet edgelab_failsafe { chain forward { type filter hook "
	                      "forward priority filter; policy drop; } }",
	                      NULL};
	proc_honour_interrupts(false);
	proc_run(netns, argv, NULL, why, sizeof(why));
}

static const char *restore_tool(enum ruleset_format fmt)
{
	return fmt == RULESET_IP6TABLES ? "ip6tables-restore" : "iptables-restore";
}

/* Every iptables copy through its tool: --test, or for real. */
static int restore_all(const struct copies *c, const char *netns, bool test, char *err,
                       size_t err_len)
{
	char what[PATH_QUOTE + 32];
	for (size_t i = 0; i < c->n; i++) {
		if (c->rs[i].fmt == RULESET_NFT)
			continue;
		char *const argv[] = {(char *)restore_tool(c->rs[i].fmt),
		                      "-w",
		                      RESTORE_WAIT,
		                      test ? "--test" : (char *)c->file[i],
		                      test ? (char *)c->file[i] : NULL,
		                      NULL};
		snprintf(what, sizeof(what), "%.*s did not load", PATH_QUOTE, c->rs[i].path);
		int rc = run_tool(c, netns, argv, what, err, err_len);
		if (rc)
			return rc;
	}
	return 0;
}

int ruleset_load(const char *netns, const struct ruleset *rs, size_t n, char *err, size_t err_len)
{
	static const char nft_failed[] = "the nftables ruleset did not load";
	struct copies c = {.rs = rs, .n = n};
	if (n > RULESET_FILES_MAX) {
		snprintf(err, err_len, "at most %d ruleset files", RULESET_FILES_MAX);
		return EINVAL;
	}
	int rc = make_copies(&c, err, err_len);
	/* Check everything before changing anything. */
	if (!rc)
		rc = run_tool(&c, netns, (char *const[]){"nft", "-c", "-f", c.batch, NULL},
		              nft_failed, err, err_len);
	if (!rc)
		rc = restore_all(&c, netns, true, err, err_len);
	if (!rc)
		rc = run_tool(&c, netns, (char *const[]){"nft", "-f", c.batch, NULL}, nft_failed,
		              err, err_len);
	/* The flush is done: from here a failure must not leave fw open. */
	if (!rc && (rc = restore_all(&c, netns, false, err, err_len)))
		load_failsafe(netns);
	remove_copies(&c);
	return rc;
}
