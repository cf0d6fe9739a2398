/* Audio/video between two federated edges (issue 14, point 4), the client
 * side: one process plays a client of each site, on the internet segment
 * between the sites' firewalls, and sends RTP both ways through both edges
 * on the port table's rows only. docs/federation-av.md has the whole story.
 *
 * The mechanism: TURN over TURN, MS-TURN in both layers (relay/msturn.c
 * serves everything it needs: Allocate, Send, Set Active Destination, Data
 * indication, raw relay).
 *   - Client A allocates on edge A's UDP 3478 (row 6 of A): relayed RA.
 *     Client B likewise on edge B: RB.
 *   - Through RA, client A allocates on edge B's UDP 3478 (the inner
 *     allocation, RB'): its Allocate rides in an MS-TURN Send to edge B, so
 *     edge B sees it from RA, a port of 50000-59999 (row 5 of A, row 6 of
 *     B); edge B's answers come back the same way (replies). Client B does
 *     the same through RB on edge A: RA'.
 *   - Each client sets its own allocation's active destination to the far
 *     edge's 3478, and its inner allocation's to the far client's
 *     allocation (RB' -> RB: edge B relays to its own address). Inner
 *     control messages must ride in Send: sent raw, the near edge would
 *     take them (they are MS-TURN) as its own.
 *   - A Send from each own allocation to the far client's inner one opens
 *     the permission (MS-TURN has no CreatePermission); the RTP packet it
 *     carries reaches the far client, which proves it.
 *   - RTP goes raw, no header added between the edges, and arrives in a
 *     Data indication from the far client's inner allocation:
 *
 *     client A -> edge A 3478, RA ====> edge B 3478, RB' -> RB -> client B
 *     client B -> edge B 3478, RB ====> edge A 3478, RA' -> RA -> client A
 *
 *     ====: row 5 out of the sender's edge, row 6 into the other's, so that
 *     each firewall carries both; the rest stays on one side of a firewall.
 *
 * The TCP variant (opts.tcp) is the same over MS-TURN's TCP framing, both
 * layers: each client connects to its edge's A/V TCP 443 (the pseudo-TLS
 * listener, msturn_tls_listen) and gets a TCP relayed address; edge A's
 * relay connects from RA to edge B's 443, and the inner layer is a byte
 * stream inside the outer one (the pseudo-TLS hello, then MS-TURN frames);
 * RTP is framed by RFC 4571 on the relayed legs.
 *
 * What an edge needs: a turn_user (o->a.user on edge A, o->b.user on edge
 * B: both clients use a side's account on that side's edge), and a peer
 * policy that lets it relay to the far edge and to its own relayed
 * addresses (the built-in one does, but for loopback and the like: on
 * loopback, allow_loopback_peers yes or peer_allow with both addresses).
 *
 * Blocking, single-threaded, no logging: fed_av_result says how it went
 * and, on failure, which hop failed and why, as enums and a sentence.
 * IPv4 only (MS-TURN's relayed addresses are IPv4 here). */
#ifndef EDGELAB_PROBE_FED_AV_H
#define EDGELAB_PROBE_FED_AV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define FED_AV_MAX_PACKETS 20000 /* per direction: below RTP's 16-bit sequence space */
#define FED_AV_MIN_PAYLOAD 8
#define FED_AV_MAX_PAYLOAD 1200 /* inside any path MTU, with both layers' headers */

struct fed_av_side {
	const char *name; /* "A": in sentences; NULL for "A" / "B" */
	/* The edge's UDP 3478 as this side's client reaches it; with tcp, its
	 * A/V TCP 443 (msturn_tls_listen). */
	struct sockaddr_storage edge;
	/* The same as the other side's edge reaches it (its relay sends the
	 * inner allocation's messages there); AF_UNSPEC: edge. Set it behind a
	 * NAT that gives the edge another address inside, or to break one leg
	 * alone in a test. */
	struct sockaddr_storage peer_edge;
	const char *user, *pass; /* a turn_user of that edge */
};

struct fed_av_opts {
	struct fed_av_side a, b;
	unsigned packets;    /* per direction, 1..FED_AV_MAX_PACKETS; the issue asks 500 */
	size_t payload;      /* RTP payload bytes, FED_AV_MIN_PAYLOAD..FED_AV_MAX_PAYLOAD */
	unsigned timeout_ms; /* the whole run (without the allocations' deletion) */
	unsigned window;     /* RTP packets in flight per direction; 0: 64 */
	bool tcp;            /* the TCP variant (above); false: UDP */
};

/* packets 500, payload 160 (G.711, 20 ms), timeout 5000 ms, UDP; sides
 * zeroed. */
void fed_av_opts_default(struct fed_av_opts *o);

/* The stages in order; a result's stage is the last one entered. */
enum fed_av_stage {
	FED_AV_STAGE_START,             /* options, sockets */
	FED_AV_STAGE_OWN_ALLOCATE,      /* each client on its own edge */
	FED_AV_STAGE_OWN_ACTIVE_DEST,   /* ... towards the far edge's 3478 */
	FED_AV_STAGE_INNER_ALLOCATE,    /* each client on the far edge, through its own */
	FED_AV_STAGE_INNER_ACTIVE_DEST, /* ... towards the far client's allocation */
	FED_AV_STAGE_PERMISSION,        /* each own allocation lets the far inner one in */
	FED_AV_STAGE_MEDIA,             /* RTP both ways */
	FED_AV_STAGE_DONE,
};

/* Where a failure was: the leg the failing exchange crossed. With why
 * ERROR or AUTH the leg carried it and its far end said no; a 403 to a Set
 * Active Destination names the leg the relay refused to relay on. */
enum fed_av_hop {
	FED_AV_HOP_NONE,
	FED_AV_HOP_CLIENT_A_TO_EDGE_A, /* the internet segment to A's 3478 (row 6 of A), or 443 */
	FED_AV_HOP_CLIENT_B_TO_EDGE_B,
	/* A's relay to B's 3478 (row 5 of A, row 6 of B); with tcp, to B's 443
	 * (row 4 of A) */
	FED_AV_HOP_EDGE_A_TO_EDGE_B,
	FED_AV_HOP_EDGE_B_TO_EDGE_A,
	FED_AV_HOP_EDGE_A_RELAY, /* edge A relaying between two of its relayed addresses */
	FED_AV_HOP_EDGE_B_RELAY,
	FED_AV_HOP_PATH_A_TO_B, /* media A to B after every leg carried control traffic */
	FED_AV_HOP_PATH_B_TO_A,
};

enum fed_av_why {
	FED_AV_WHY_NONE,
	FED_AV_WHY_OPTIONS,     /* options out of range */
	FED_AV_WHY_SOCKET,      /* a local socket error */
	FED_AV_WHY_UNREACHABLE, /* ICMP unreachable (the client's socket saw it), or a TCP RST */
	FED_AV_WHY_NO_ANSWER,   /* nothing back before the deadline */
	FED_AV_WHY_ERROR,       /* an error answer: code */
	FED_AV_WHY_AUTH,        /* credentials refused: code (401 again, 431, 436...) */
	FED_AV_WHY_BAD_ANSWER,  /* malformed, no relayed address, integrity wrong */
	FED_AV_WHY_LOST,        /* media packets missing */
	FED_AV_WHY_CORRUPT,     /* media packets arrived altered */
};

/* One direction's RTP. */
struct fed_av_dir {
	unsigned sent;
	unsigned received;     /* datagrams (TCP: RFC 4571 frames) of this stream that arrived */
	unsigned intact;       /* distinct packets that arrived byte for byte as sent */
	unsigned corrupt;      /* arrived by the expected way, but not as any packet sent */
	unsigned duplicate;    /* an intact packet again */
	unsigned out_of_order; /* arrived after a later one */
	unsigned lost;         /* sent - intact */
	double seconds;        /* first send to last arrival */
};

/* What one client held. */
struct fed_av_client {
	struct sockaddr_storage local;         /* its socket (TCP: once connected) */
	struct sockaddr_storage mapped;        /* where its own edge saw it from */
	struct sockaddr_storage relayed;       /* its allocation on its own edge */
	struct sockaddr_storage inner_relayed; /* its allocation on the far edge */
	/* Where the far edge saw the inner allocation come from (the inner
	 * Allocate answer's XOR-MAPPED-ADDRESS): relayed, unless something
	 * between the edges rewrote it. */
	struct sockaddr_storage inner_mapped;
	unsigned stray; /* datagrams on its socket that were none of the above */
};

struct fed_av_result {
	bool ok; /* every packet intact both ways */
	enum fed_av_stage stage;
	enum fed_av_hop hop;
	enum fed_av_why why;
	int code;         /* the STUN error code, with ERROR and AUTH */
	char detail[512]; /* the failure as a sentence, or a summary */
	struct fed_av_client a, b;
	struct fed_av_dir a_to_b, b_to_a;
	double seconds;   /* the whole run */
	unsigned deleted; /* allocations whose deletion was answered, of 4 */
};

/* Runs it (see above). 0 when every packet arrived intact both ways;
 * otherwise r says where and why, and the return sums it up: EINVAL (bad
 * options), ETIMEDOUT (no answer, or media missing), EACCES (an error
 * answer or refused credentials), EPROTO (a malformed answer), EBADMSG
 * (media corrupted), or a socket's errno. The allocations made are deleted
 * in any case (within another second at most). */
int fed_av_run(const struct fed_av_opts *o, struct fed_av_result *r);

/* "own-allocate"..., "client-a-to-edge-a"..., "no-answer"...: for reports. */
const char *fed_av_stage_name(enum fed_av_stage s);
const char *fed_av_hop_name(enum fed_av_hop h);
const char *fed_av_why_name(enum fed_av_why w);

#endif
