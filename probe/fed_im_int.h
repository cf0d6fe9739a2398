/* fed_im's internals shared by its files: one client (a user's TLS
 * connection to its edge, its registration and its SIP exchanges).
 * Nothing outside probe/fed_im*.c includes this. */
#ifndef EDGELAB_PROBE_FED_IM_INT_H
#define EDGELAB_PROBE_FED_IM_INT_H

#include "probe/fed_im.h"
#include "probe/sip_client.h"

#define FED_IM_NAME_MAX 300
#define FED_IM_TOKEN    17 /* CTL_MARKER_LEN hex characters and a NUL */

struct fed_im_cl {
	const struct fed_im_user *u;
	struct fed_im_client *res;
	unsigned timeout_ms;
	struct sipc c;
	bool up;                         /* the connection is usable */
	enum fed_im_fault fault;         /* why it is not, as a caller: CALLER_*, LOCAL, NONE */
	char aor[FED_IM_NAME_MAX];       /* "alice@a.example" */
	char edge_name[FED_IM_NAME_MAX]; /* "sip.a.example (127.0.0.2:443)" */
	char tag[FED_IM_TOKEN];          /* its From tag */
	char reg_callid[FED_IM_TOKEN];
	unsigned cseq; /* the last CSeq it used */
};

/* Connects, shakes hands and registers (unless skip_register); cl->res and
 * cl->fault say how it went. */
void fed_im_cl_start(struct fed_im_cl *cl, const struct fed_im_user *u, struct fed_im_client *res,
                     unsigned timeout_ms);
/* Unregisters (a short wait for the answer) and closes. */
void fed_im_cl_stop(struct fed_im_cl *cl);
/* snprintf for sentences, whose cut (at cap) is fine: a long name shortens
 * the sentence, it does not fail it. */
void fed_im_say(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A fresh token of hex characters (tags, branches, Call-IDs, markers). */
void fed_im_token(char out[FED_IM_TOKEN]);
/* The connection failed (why): it is down, and the client's fault and
 * sentence say so. */
void fed_im_cl_lost(struct fed_im_cl *cl, const char *why);
/* Sends text; on failure the connection is down (fed_im_cl_lost). */
bool fed_im_cl_send(struct fed_im_cl *cl, const char *text, double deadline, char *why, size_t cap);
/* Answers a request that is not the one awaited: 200 to MESSAGE and
 * OPTIONS, 501 otherwise, nothing to ACK. */
void fed_im_cl_answer(struct fed_im_cl *cl, const struct sip_msg *req, int code, const char *reason,
                      double deadline);
void fed_im_cl_answer_other(struct fed_im_cl *cl, const struct sip_msg *req, double deadline);

#endif
