/* The firewall policy the port table implies (core/rows.h), for the router
 * between the outside and the edge's access interface: a stateful forward
 * policy with one commented rule per row, as an nftables ruleset (`nft -f`
 * input) or as iptables-restore / ip6tables-restore input. Pure text
 * generation: nothing is loaded and nothing is logged. */
#ifndef EDGELAB_LAB_RULES_H
#define EDGELAB_LAB_RULES_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>

#define RULES_TABLE_DEFAULT "edgelab"
#define RULES_TABLE_MAX     32 /* longest table name accepted (nft allows more) */

struct rules_opts {
	/* The edge's access address, AF_INET or AF_INET6 (an IPv4-mapped IPv6
	 * address counts as IPv4); the port is ignored. */
	struct sockaddr_storage edge;
	unsigned drop_mask;   /* bit n = row n (rows_parse_mask): rule left out */
	unsigned reject_mask; /* bit n = row n: reject instead of accept */
	const char *table;    /* nft table name; NULL: RULES_TABLE_DEFAULT */
	/* The router's interfaces facing the outside and the edge; when both
	 * are set every row's rule also names them (in and out), as for the
	 * lab's fw (`edgelab rules --lab`). NULL: rules match addresses only. */
	const char *outside_if, *edge_if;
	/* The edge's DNS server (AF_INET or AF_INET6, same family as edge; port
	 * ignored), or family 0: none. With one, one more rule lets the edge
	 * query it on UDP and TCP 53: not a port-table row, but an edge that
	 * finds its partners by SRV (federation_partner DOMAIN) needs it. */
	struct sockaddr_storage dns;
	/* The A/V edge's address for MS-TURN over TCP (same family as edge;
	 * port ignored), or family 0: none. With one, one more rule lets TCP
	 * 443 in to it: not a row of this table (Microsoft's A/V edge tables
	 * have it: remote clients and federated edges' relays connect there,
	 * pseudo-TLS), but the TCP variant of A/V between edges needs it. */
	struct sockaddr_storage av_edge;
	/* nft only: a counter on every rule, on the replies' rule and on what
	 * falls through to the policy (the federation lab reads them). */
	bool counters;
};

/* 0 when o is usable: a known family, masks only over rows 1..ROWS_COUNT and
 * not overlapping, a DNS server and an A/V edge of the edge's family or none, a table name of
 * [A-Za-z_][A-Za-z0-9_-]* up to RULES_TABLE_MAX characters, interface names both set or both NULL,
 * each 1-15 of [A-Za-z0-9_.-] (IFNAMSIZ). EINVAL otherwise. */
int rules_opts_check(const struct rules_opts *o);
/* `table inet NAME` with a forward chain (policy drop); replaces only that
 * table when loaded. 0, EINVAL (see rules_opts_check) or a write's errno. */
int rules_write_nft(FILE *out, const struct rules_opts *o);
/* The filter table's FORWARD chain for iptables-restore, or for
 * ip6tables-restore when the edge is IPv6. The table name is not used.
 * 0, EINVAL or a write's errno. */
int rules_write_iptables(FILE *out, const struct rules_opts *o);

#endif
