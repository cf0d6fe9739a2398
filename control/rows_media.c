/* POST /rows/4 and /rows/5, the triggers of the outbound media rows:
 *
 *   POST /rows/4?target=IP:PORT&marker=TEXT   RTP over TCP (RFC 4571 framing)
 *   POST /rows/5?target=IP[:PORT]&marker=TEXT[&dialect=rfc5389|msturn]
 *                                              a STUN Binding request over UDP
 *
 * Both leave from a port of the relay pool (the edge's source ports
 * 50000-59999) and carry ROWS_MARKER_PREFIX TEXT ("edgelab marker=TEXT",
 * core/rows.h): row 5 in RFC 5389 (the default) in the request's SOFTWARE
 * attribute, row 5 in MS-TURN (dialect=msturn), which has no SOFTWARE, in
 * USERNAME; row 4 as the payload of each RTP packet. TEXT is
 * 1-ROWS_MARKER_MAX (64) of A-Z a-z 0-9 . _ ~ - (it travels in a URL). Row
 * 5's port defaults to 3478. Answers, each with a one-line text body: 202
 * sent (row 5) or connecting (row 4), naming the source port; 400 a bad
 * query (also a dialect other than rfc5389 or msturn, or one on row 4); 503
 * no pool port free, too many flows in flight, or a socket error (another
 * method is the server's 405). How each flow ended is logged ("row 5:
 * MS-TURN/UDP from port ..." for the MS-TURN request). What the edge sends
 * is here; the transport is media/originate.c's. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/api.h"
#include "core/addr.h"
#include "core/log.h"
#include "core/rows.h"
#include "media/originate.h"
#include "media/rtp.h"
#include "stun/stun.h"

#define RTP_PACKETS    3
#define WAIT_MS        3000 /* per flow: connect, answer, the client's close */
#define RTP_PT_DYNAMIC 96   /* no SDP binds it: the payload is text */
#define RTP_TS_STEP    160  /* 20 ms at 8 kHz, as if it were audio */

/* One flow's context, for its done handler. */
struct job {
	int row;
	char target[ADDR_STR_MAX];
	uint8_t tid[STUN_TID_LEN]; /* row 5: to recognise the answer */
	enum stun_dialect dialect; /* row 5: what the request (and answer) speak */
};

static bool marker_ok(const char *m)
{
	size_t n = strlen(m);
	return n >= 1 && n <= ROWS_MARKER_MAX &&
	       strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-") == n;
}

/* Row 5's dialect=: rfc5389 (also when absent) or msturn; 0 or EINVAL. */
static int parse_dialect(const char *d, enum stun_dialect *dialect)
{
	if (!d || strcmp(d, stun_dialect_name(STUN_DIALECT_RFC5389)) == 0)
		*dialect = STUN_DIALECT_RFC5389;
	else if (strcmp(d, stun_dialect_name(STUN_DIALECT_MSTURN)) == 0)
		*dialect = STUN_DIALECT_MSTURN;
	else
		return EINVAL;
	return 0;
}

/* target, marker and (row 5) dialect from the query; 0, or 400 with msg. */
static int parse_query(struct evhttp_request *req, int row, struct sockaddr_storage *target,
                       char *marker, enum stun_dialect *dialect, char *msg, size_t msg_len)
{
	struct evkeyvalq q;
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	int code = 0;
	if (evhttp_parse_query_str(query ? query : "", &q)) {
		snprintf(msg, msg_len, "bad query string\n");
		return 400;
	}
	const char *t = evhttp_find_header(&q, "target");
	const char *m = evhttp_find_header(&q, "marker");
	const char *d = evhttp_find_header(&q, "dialect");
	/* Row 4 has no port of its own: the client says where it listens. */
	if (!t || addr_parse(t, row == 5 ? 3478 : 0, target) ||
	    !addr_port((struct sockaddr *)target)) {
		code = 400;
		snprintf(msg, msg_len, "target must be IP:PORT, e.g. target=192.0.2.10:%s\n",
		         row == 5 ? "3478" : "443");
	} else if (!m || !marker_ok(m)) {
		code = 400;
		snprintf(msg, msg_len, "marker must be 1-%d of A-Z a-z 0-9 . _ ~ -\n",
		         ROWS_MARKER_MAX);
	} else if ((d && row != 5) || parse_dialect(d, dialect)) {
		/* Row 4 is RTP: a dialect there is a mistake worth saying. */
		code = 400;
		snprintf(msg, msg_len, "%s\n",
		         row == 5 ? "dialect must be rfc5389 (the default) or msturn"
		                  : "only row 5 has a dialect");
	} else {
		snprintf(marker, ROWS_MARKER_MAX + 1, "%s", m);
	}
	evhttp_clear_headers(&q);
	return code;
}

/* Row 5: a Binding request with the marker in the dialect's one free-text
 * attribute a request may carry without credentials, which every STUN
 * decoder shows:
 *   rfc5389  SOFTWARE (RFC 5389 section 15.10), then FINGERPRINT;
 *   msturn   USERNAME (0x0006): MS-TURN has no SOFTWARE (and no
 *            FINGERPRINT), and its USERNAME is opaque bytes, so a text marker
 *            there is well-formed; a Binding request needs no credentials,
 *            so nothing reads it as one. The MAGIC-COOKIE attribute comes
 *            first (stun_enc_init); the transaction id starts with
 *            0x2112A442, as Teams sends it.
 * Either way the value is ROWS_MARKER_PREFIX TEXT (core/rows.h). */
static int stun_request(const char *marker, enum stun_dialect dialect, uint8_t tid[STUN_TID_LEN],
                        uint8_t *buf, size_t cap, size_t *len)
{
	struct stun_enc enc;
	char text[sizeof(ROWS_MARKER_PREFIX) + ROWS_MARKER_MAX];
	uint32_t cookie = htonl(STUN_MAGIC_COOKIE);
	int n = snprintf(text, sizeof(text), "%s%s", ROWS_MARKER_PREFIX, marker);
	memcpy(tid, &cookie, 4);
	if (RAND_bytes(tid + 4, STUN_TID_LEN - 4) != 1)
		return EIO;
	stun_enc_init(&enc, buf, cap, dialect, stun_type(STUN_METHOD_BINDING, STUN_CLASS_REQUEST),
	              tid);
	if (dialect == STUN_DIALECT_MSTURN) {
		stun_enc_attr(&enc, STUN_ATTR_USERNAME, text, (size_t)n);
	} else {
		stun_enc_attr(&enc, STUN_ATTR_SOFTWARE, text, (size_t)n);
		stun_enc_fingerprint(&enc);
	}
	return stun_enc_finish(&enc, len);
}

/* Row 4: a short RTP stream (random SSRC, sequence and timestamp, RFC 3550
 * section 5.1), each packet's payload the marker text. */
static int rtp_stream(const char *marker, uint8_t *buf, size_t cap, size_t *len)
{
	char text[sizeof(ROWS_MARKER_PREFIX) + ROWS_MARKER_MAX];
	struct rtp_hdr h = {.marker = true, .pt = RTP_PT_DYNAMIC};
	int n = snprintf(text, sizeof(text), "%s%s", ROWS_MARKER_PREFIX, marker);
	if (RAND_bytes((unsigned char *)&h.seq, sizeof(h.seq)) != 1 ||
	    RAND_bytes((unsigned char *)&h.ts, sizeof(h.ts)) != 1 ||
	    RAND_bytes((unsigned char *)&h.ssrc, sizeof(h.ssrc)) != 1)
		return EIO;
	*len = 0;
	for (int i = 0; i < RTP_PACKETS; i++) {
		size_t flen;
		int rc = rtp_frame_encode(buf + *len, cap - *len, &h, text, (size_t)n, &flen);
		if (rc)
			return rc;
		*len += flen;
		h.marker = false; /* only the first packet of a talkspurt */
		h.seq++;
		h.ts += RTP_TS_STEP;
	}
	return 0;
}

/* What an answer to row 5's request says, for the log: the mapped address
 * from the dialect's attribute (RFC 5389's XOR-MAPPED-ADDRESS; MS-TURN's
 * 0x8020, else its MAPPED-ADDRESS). */
static void stun_outcome(const struct job *j, const struct originate_result *res, char *out,
                         size_t cap)
{
	struct stun_msg msg;
	struct sockaddr_storage mapped;
	char where[ADDR_STR_MAX];
	const struct stun_attr *x = NULL, *plain = NULL;
	bool ms;
	if (stun_msg_decode(&msg, res->reply, res->reply_len) ||
	    memcmp(msg.tid, j->tid, STUN_TID_LEN) != 0) {
		snprintf(out, cap, "answered, but not with STUN for our transaction");
		return;
	}
	if (msg.dialect != j->dialect) {
		snprintf(out, cap, "answered, but in the %s dialect",
		         stun_dialect_name(msg.dialect));
		return;
	}
	ms = msg.dialect == STUN_DIALECT_MSTURN;
	if (msg.cls == STUN_CLASS_SUCCESS) {
		x = stun_msg_attr(&msg, ms ? STUN_MSATTR_XOR_MAPPED_ADDRESS
		                           : STUN_ATTR_XOR_MAPPED_ADDRESS);
		plain = ms ? stun_msg_attr(&msg, STUN_MSATTR_MAPPED_ADDRESS) : NULL;
	}
	if ((x && stun_attr_xor_addr(&msg, x, &mapped) == 0) ||
	    (!x && plain && stun_attr_addr(plain, &mapped) == 0))
		snprintf(out, cap, "answered: Binding success, mapped %s",
		         addr_str((struct sockaddr *)&mapped, where, sizeof(where)));
	else
		snprintf(out, cap, "answered: %s",
		         msg.cls == STUN_CLASS_ERROR     ? "an error response"
		         : msg.cls == STUN_CLASS_SUCCESS ? "Binding success"
		                                         : "not a response");
}

/* The flow's name in the log: the STUN dialect is part of it for row 5. */
static const char *flow_name(const struct job *j)
{
	if (j->row == 4)
		return "RTP/TCP";
	return j->dialect == STUN_DIALECT_MSTURN ? "MS-TURN/UDP" : "STUN/UDP";
}

static void tcp_outcome(const struct originate_result *res, char *out, size_t cap)
{
	if (res->err == ETIMEDOUT)
		snprintf(out, cap, "%s in %.1f s",
		         res->connected ? "connected, but could not send" : "no connection",
		         WAIT_MS / 1000.0);
	else if (res->err)
		snprintf(out, cap, "%s", strerror(res->err));
	else
		snprintf(out, cap, "%d RTP packets sent; the client %s", RTP_PACKETS,
		         res->peer_closed ? "closed" : "did not close in time");
}

static void job_done(const struct originate_result *res, void *arg)
{
	struct job *j = arg;
	char what[160];
	if (res->err == ECANCELED) {
		snprintf(what, sizeof(what), "cancelled (shutting down)");
	} else if (j->row == 4) {
		tcp_outcome(res, what, sizeof(what));
	} else if (res->err == ETIMEDOUT) {
		snprintf(what, sizeof(what), "sent; no answer in %.1f s", WAIT_MS / 1000.0);
	} else if (res->err) {
		snprintf(what, sizeof(what), "sent; then %s",
		         res->err == ECONNREFUSED ? "ICMP port unreachable" : strerror(res->err));
	} else {
		stun_outcome(j, res, what, sizeof(what));
	}
	log_info("row %d: %s from port %u to %s: %s", j->row, flow_name(j), res->port, j->target,
	         what);
	free(j);
}

/* Starts row's flow; 202, or 400/503 with msg. */
static int start_flow(struct originator *orig, struct job *j, const struct sockaddr_storage *target,
                      const char *marker, char *msg, size_t msg_len)
{
	uint8_t buf[ORIGINATE_MAX_DATA];
	size_t len = 0;
	uint16_t port = 0;
	int rc = j->row == 5 ? stun_request(marker, j->dialect, j->tid, buf, sizeof(buf), &len)
	                     : rtp_stream(marker, buf, sizeof(buf), &len);
	if (!rc)
		rc = (j->row == 5 ? originate_udp : originate_tcp)(orig, target, buf, len, job_done,
		                                                   j, &port);
	if (!rc) {
		snprintf(msg, msg_len, "%s %s from port %u\n",
		         j->row == 4                         ? "RTP/TCP connecting to"
		         : j->dialect == STUN_DIALECT_MSTURN ? "MS-TURN Binding request sent to"
		                                             : "STUN Binding request sent to",
		         j->target, port);
		return 202;
	}
	snprintf(msg, msg_len, "%s\n",
	         rc == ENOSPC  ? "no relay port free"
	         : rc == EBUSY ? "too many flows in flight"
	                       : strerror(rc));
	return rc == EAFNOSUPPORT || rc == EINVAL ? 400 : 503;
}

/* A POST (the server saw to that) for row 4 or 5. */
static void rows_media_handle(struct originator *orig, struct evhttp_request *req, int row)
{
	char msg[200], marker[ROWS_MARKER_MAX + 1];
	struct sockaddr_storage target;
	enum stun_dialect dialect = STUN_DIALECT_RFC5389;
	struct job *j = NULL;
	int code = parse_query(req, row, &target, marker, &dialect, msg, sizeof(msg));
	if (!code) {
		j = calloc(1, sizeof(*j));
		if (!j) {
			code = 503;
			snprintf(msg, sizeof(msg), "out of memory\n");
		}
	}
	if (!code) {
		j->row = row;
		j->dialect = dialect;
		addr_str((struct sockaddr *)&target, j->target, sizeof(j->target));
		code = start_flow(orig, j, &target, marker, msg, sizeof(msg));
		if (code != 202)
			free(j); /* the flow did not start: its handler will not run */
	}
	log_info("control: POST /rows/%d: %d %.*s", row, code, (int)strcspn(msg, "\n"), msg);
	control_reply_text(req, code, msg);
}

static void row4_handler(struct evhttp_request *req, void *arg)
{
	rows_media_handle(arg, req, 4);
}

static void row5_handler(struct evhttp_request *req, void *arg)
{
	rows_media_handle(arg, req, 5);
}

/* The handlers' state is the originator: the flows in flight. */
static int rows_media_open(void **statep, const struct control_ctx *ctx)
{
	struct originator *orig = NULL;
	int rc = originator_alloc(&orig, ctx->base, ctx->pool, &ctx->bind_addr, WAIT_MS);
	if (!rc)
		*statep = orig;
	return rc;
}

/* Each flow in flight ends with ECANCELED, logged by job_done. */
static void rows_media_close(void *state)
{
	originator_free(state);
}

static const struct control_route routes[] = {
    {"/rows/4", EVHTTP_REQ_POST, row4_handler, "POST /rows/4?target=IP:PORT&marker=TEXT\n"},
    {"/rows/5", EVHTTP_REQ_POST, row5_handler,
     "POST /rows/5?target=IP:PORT&marker=TEXT[&dialect=rfc5389|msturn]\n"},
    {NULL, 0, NULL, NULL},
};

const struct control_api control_api_rows_media = {
    .name = "rows_media",
    .routes = routes,
    .open = rows_media_open,
    .close = rows_media_close,
};
