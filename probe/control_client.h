/* The probe's client of the edge's control API (docs/control-api.md): one
 * request at a time, over the edge's unix socket or over HTTPS with a client
 * certificate or a bearer token, blocking until a deadline; and the pure
 * parsers of what comes back (an HTTP/1.x response, a flow's record, canary
 * hit lines), bounded and fuzzed (tests/fuzz/fuzz_ctl_reply.c). Everything
 * here is thread-safe: a request owns its socket and TLS context. Nothing
 * logs; errors come back as text. */
#ifndef EDGELAB_PROBE_CONTROL_CLIENT_H
#define EDGELAB_PROBE_CONTROL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_HEAD_MAX     8192        /* status line and headers */
#define CTL_BODY_MAX     (64 * 1024) /* a longer body is refused (EMSGSIZE) */
#define CTL_LOCATION_MAX 256
#define CTL_TOKEN_MAX    256

enum ctl_kind { CTL_NONE, CTL_UNIX, CTL_HTTPS };

/* Where the control API is and how the probe proves who it is. */
struct ctl_target {
	enum ctl_kind kind;
	char spec[300];    /* as given: "/run/edgelab/control.sock", "https://203.0.113.1:8443" */
	char path[108];    /* CTL_UNIX: the socket */
	char host[256];    /* CTL_HTTPS: a name or an address ("::1" without brackets) */
	uint16_t port;     /* CTL_HTTPS */
	char ca_file[256]; /* the CA the edge's certificate must chain to */
	char server_name[254]; /* the name it must carry (--edge-fqdn) */
	char cert_file[256];   /* the client certificate and key, or "" */
	char key_file[256];
	char token[CTL_TOKEN_MAX + 1]; /* Authorization: Bearer, or "" */
};

/* "PATH" or "https://HOST:PORT" (HOST a name, an IPv4 address or [IPv6])
 * into t's kind, path or host and port; 0, or EINVAL ("http://..." too:
 * plain HTTP over a network is not offered). */
int ctl_target_parse(const char *spec, struct ctl_target *t);
/* The first line of a token file, trailing white space stripped: 16-256
 * printable characters. 0, errno of the read, or EINVAL. */
int ctl_token_read(const char *file, char *token, size_t cap);

/* A response as read. */
struct ctl_answer {
	int status;                      /* 100-599 */
	char location[CTL_LOCATION_MAX]; /* the Location header, or "" */
	char body[8192];                 /* NUL-terminated; cut at the buffer's end */
	size_t body_len;                 /* the whole body's length */
	char *whole; /* ctl_request_whole: all body_len bytes and a NUL (free it); else NULL */
};

/* METHOD path (with its query) on the control API, giving up at deadline
 * (seconds on the monotonic clock, flow_now()). 0 and the answer, whatever
 * its status; or an errno with why (connection refused, TLS verification,
 * a malformed answer...) written into err. */
int ctl_request(const struct ctl_target *t, const char *method, const char *path, double deadline,
                struct ctl_answer *a, char *err, size_t err_len);
/* ctl_request, keeping the whole body (up to CTL_BODY_MAX) in a->whole as
 * well, for an answer that may outgrow a->body (GET /metrics). */
int ctl_request_whole(const struct ctl_target *t, const char *method, const char *path,
                      double deadline, struct ctl_answer *a, char *err, size_t err_len);

/* ---- what a request carries ---- */

#define CTL_MARKER_LEN 16 /* hex characters of a fresh marker */
/* A fresh random marker (core/rows.h's characters); 0 or EIO. */
int ctl_marker_new(char marker[CTL_MARKER_LEN + 1]);
/* "[::1]:443" for a query string: all but unreserved characters
 * percent-encoded (RFC 3986 section 2.3); cut to fit cap. */
void ctl_url_encode(const char *in, char *out, size_t cap);

/* ---- pure parsers ---- */

/* A parsed response, pointing into the buffer it was parsed from. */
struct ctl_reply {
	int status;
	char location[CTL_LOCATION_MAX];
	size_t head_len;     /* status line and headers with the blank line */
	const uint8_t *body; /* Content-Length bytes, or all the rest without one */
	size_t body_len;
};

/* Parses an HTTP/1.x response in buf[0, len): the status line, headers
 * (CRLF or LF), Content-Length (digits; repeated, they must agree), the
 * body. eof: the peer has closed, so a response without Content-Length ends
 * here. 0 when complete; EAGAIN for more bytes (never with eof); EBADMSG
 * malformed (chunked, a bad status line or Content-Length, a header without
 * a colon, a truncated body at eof); EMSGSIZE headers over CTL_HEAD_MAX, a
 * body over CTL_BODY_MAX or a Location over CTL_LOCATION_MAX - 1. */
int ctl_reply_parse(const uint8_t *buf, size_t len, bool eof, struct ctl_reply *r);

enum ctl_outcome {
	CTL_OUTCOME_UNKNOWN, /* missing, or a word this probe does not know */
	CTL_OUTCOME_PENDING,
	CTL_OUTCOME_ANSWERED,
	CTL_OUTCOME_CONNECTED,
	CTL_OUTCOME_RESET,
	CTL_OUTCOME_ICMP,
	CTL_OUTCOME_TLS_FAILED,
	CTL_OUTCOME_TIMEOUT,
	CTL_OUTCOME_ERROR,
	CTL_OUTCOME_CANCELLED,
	CTL_OUTCOME_DNS, /* row 2: the edge's lookup of the partner failed */
};

/* A flow's record: the keys this probe reads; values longer than a field
 * are cut. Numbers absent or malformed are -1. */
struct ctl_flow {
	long long id;
	char kind[16];
	char dialect[16];
	char target[64];
	char source[64];
	enum ctl_outcome outcome;
	char outcome_word[16];
	int icmp_type, icmp_code;
	char icmp_from[64];
	char dns_name[256]; /* dns: the name the edge looked up */
	char detail[256];   /* dns: "WORD: sentence" (docs/control-api.md) */
};

/* Parses a record (`key: value` lines, LF or CRLF; unknown keys and lines
 * without ": " ignored). 0, or EBADMSG when it has no outcome line. */
int ctl_flow_parse(const char *text, size_t len, struct ctl_flow *f);

/* One canary hit: "hit: ID PROTO PORT SRC MS marker=TEXT|-". */
struct ctl_hit {
	unsigned long long id, ms;
	char proto[4]; /* "tcp", "udp" */
	unsigned port;
	char source[64];
	char marker[65]; /* "" for "-" */
};

/* Parses one line (without its end); 0 or EBADMSG. */
int ctl_hit_parse(const char *line, size_t len, struct ctl_hit *h);
/* The first hit in text whose marker is marker; 0, or ENOENT (lines that do
 * not parse are skipped). */
int ctl_hits_find(const char *text, size_t len, const char *marker, struct ctl_hit *h);
/* Whether text (a GET /canary answer) has a "listening: PROTO PORT..." line
 * naming port: a canary would have seen a flow to it. */
bool ctl_canary_listens(const char *text, size_t len, const char *proto, unsigned port);

#endif
