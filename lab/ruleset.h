/* A user's firewall ruleset for the lab's fw: which tool's input it is
 * (nft -f, iptables-restore or ip6tables-restore), checked by that tool
 * before anything changes, then loaded, replacing whatever fw had. The
 * tools' own error messages (file, line, what is wrong) are what the user
 * sees: they are quoted, not rephrased. */
#ifndef EDGELAB_LAB_RULESET_H
#define EDGELAB_LAB_RULESET_H

#include <stdbool.h>
#include <stddef.h>

#define RULESET_FILE_MAX  (1u << 20) /* bytes: a ruleset file larger is refused */
#define RULESET_FILES_MAX 2          /* e.g. rules.v4 and rules.v6 */

enum ruleset_format {
	RULESET_AUTO, /* detect from the content */
	RULESET_NFT,
	RULESET_IPTABLES,
	RULESET_IP6TABLES,
};

/* "auto", "nft" (or "nftables"), "iptables", "ip6tables"; 0 or EINVAL. */
int ruleset_format_parse(const char *name, enum ruleset_format *fmt);
const char *ruleset_format_name(enum ruleset_format fmt);
/* The format of text (len bytes, NUL not needed): iptables-restore input
 * when its first line that is neither blank nor a comment is a table line
 * ("*filter"), ip6tables-restore input when it also names an IPv6 address
 * (-s/-d with a ':'), ICMPv6, or says it came from ip6tables-save; nft
 * otherwise (nft says what is wrong with a file that is neither). */
enum ruleset_format ruleset_detect(const char *text, size_t len);

/* A ruleset to load: its file and format (RULESET_AUTO is detected when
 * the ruleset is read). */
struct ruleset {
	const char *path;
	enum ruleset_format fmt;
};

/* Reads each file (at most RULESET_FILE_MAX bytes) and settles its format;
 * 0, or an errno with err saying which file and why. */
int ruleset_resolve(struct ruleset *rs, size_t n, char *err, size_t err_len);

/* Loads rules (resolved) into netns, in place of everything fw had: each
 * file is first checked by its tool (nft -c, iptables-restore --test), so
 * that a bad file changes nothing; then the old ruleset is flushed and
 * the files loaded. When a load fails after the flush, fw is left
 * forwarding nothing (a policy-drop table, "edgelab_failsafe"), never
 * everything. 0, or an errno with err quoting the tool's own message. */
int ruleset_load(const char *netns, const struct ruleset *rs, size_t n, char *err, size_t err_len);

#endif
