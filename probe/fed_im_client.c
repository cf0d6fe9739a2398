/* fed_im: one user's client. TLS to its own edge's 443, then REGISTER, the
 * binding tied to this connection, which stays open: the edge sends the
 * user's requests down the connection the user registered on (RFC 5626
 * flow reuse, sipfront/registrar.h), so the Contact needs no reachable
 * address and no outbound parameters. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "probe/control_client.h"
#include "probe/fed_im_int.h"
#include "probe/flow.h"
#include "sipfront/reply.h"

#define REGISTER_EXPIRES 300
#define UNREGISTER_WAIT  1.0 /* s: the answer to the closing REGISTER */

void fed_im_say(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, cap, fmt, ap);
	va_end(ap);
}

void fed_im_token(char out[FED_IM_TOKEN])
{
	/* The marker source the other rows use; a failure leaves a fixed but
	 * still valid token (only uniqueness suffers). */
	if (ctl_marker_new(out))
		snprintf(out, FED_IM_TOKEN, "%016lx", (unsigned long)flow_now());
}

void fed_im_cl_lost(struct fed_im_cl *cl, const char *why)
{
	cl->up = false;
	cl->fault = FED_IM_FAULT_CALLER_CONNECT;
	fed_im_say(cl->res->why, sizeof(cl->res->why), "%s's connection to %s failed: %s", cl->aor,
	           cl->edge_name, why);
}

bool fed_im_cl_send(struct fed_im_cl *cl, const char *text, double deadline, char *why, size_t cap)
{
	if (!cl->up) {
		snprintf(why, cap, "no connection");
		return false;
	}
	if (sipc_send(&cl->c, text, strlen(text), deadline, why, cap) == SIPC_OK)
		return true;
	fed_im_cl_lost(cl, why);
	return false;
}

void fed_im_cl_answer(struct fed_im_cl *cl, const struct sip_msg *req, int code, const char *reason,
                      double deadline)
{
	char *text = NULL, why[SIPC_WHY_MAX];
	size_t len;
	if (sipmsg_pl_eq(&req->met, "ACK")) /* never answered (RFC 3261 17.2.1) */
		return;
	if (sip_reply_build(req, code, reason, NULL, &text, &len) == 0)
		fed_im_cl_send(cl, text, deadline, why, sizeof(why));
	free(text);
}

void fed_im_cl_answer_other(struct fed_im_cl *cl, const struct sip_msg *req, double deadline)
{
	bool known = sipmsg_pl_eq(&req->met, "MESSAGE") || sipmsg_pl_eq(&req->met, "OPTIONS");
	fed_im_cl_answer(cl, req, known ? 200 : 501, known ? "OK" : "Not Implemented", deadline);
}

static void register_text(const struct fed_im_cl *cl, unsigned expires, const char *auth, char *out,
                          size_t cap)
{
	char local[ADDR_STR_MAX], branch[FED_IM_TOKEN];
	const struct fed_im_user *u = cl->u;
	addr_str((const struct sockaddr *)&cl->c.local, local, sizeof(local));
	fed_im_token(branch);
	snprintf(out, cap,
	         "REGISTER sip:%s SIP/2.0\r\n"
	         "Via: SIP/2.0/TLS %s;branch=z9hG4bK%s;rport\r\n"
	         "Max-Forwards: 70\r\n"
	         "From: <sip:%s>;tag=%s\r\n"
	         "To: <sip:%s>\r\n"
	         "Call-ID: %s@edgelab-fed-im\r\n"
	         "CSeq: %u REGISTER\r\n"
	         "Contact: <sip:%s@%s;transport=tls>\r\n"
	         "Expires: %u\r\n"
	         "%s"
	         "User-Agent: edgelab-probe\r\n"
	         "Content-Length: 0\r\n\r\n",
	         u->domain, local, branch, cl->aor, cl->tag, cl->aor, cl->reg_callid, cl->cseq,
	         u->aor_user, local, expires, auth ? auth : "");
}

/* Sends REGISTER and waits for its final response (requests on the way
 * answered, 1xx skipped); NULL when none came, why says why. */
static struct sip_msg *register_once(struct fed_im_cl *cl, unsigned expires, const char *auth,
                                     double deadline, char *why, size_t cap)
{
	char text[3072], want[FED_IM_TOKEN + 20];
	struct sip_msg *m = NULL;
	cl->cseq++;
	register_text(cl, expires, auth, text, sizeof(text));
	if (!fed_im_cl_send(cl, text, deadline, why, cap))
		return NULL;
	snprintf(want, sizeof(want), "%s@edgelab-fed-im", cl->reg_callid);
	for (;;) {
		enum sipc_status st = sipc_recv(&cl->c, deadline, &m, why, cap);
		if (st != SIPC_OK) {
			if (st != SIPC_TIMEOUT)
				fed_im_cl_lost(cl, why);
			return NULL;
		}
		if (m->req)
			fed_im_cl_answer_other(cl, m, deadline);
		else if (m->scode >= 200 && pl_strcmp(&m->callid, want) == 0 &&
		         m->cseq.num == cl->cseq)
			return m;
		m = mem_deref(m);
	}
}

static void client_fail(struct fed_im_cl *cl, enum fed_im_fault f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void client_fail(struct fed_im_cl *cl, enum fed_im_fault f, const char *fmt, ...)
{
	va_list ap;
	cl->fault = f;
	va_start(ap, fmt);
	vsnprintf(cl->res->why, sizeof(cl->res->why), fmt, ap);
	va_end(ap);
}

/* REGISTER, and again with Digest after a 401 when there is a password
 * (sipfront/auth.c's realm is the SIP domain; any realm is answered). The
 * final response, or NULL with why; *digest_err when the challenge could
 * not be answered. */
static struct sip_msg *register_auth(struct fed_im_cl *cl, unsigned expires, double deadline,
                                     char *why, size_t cap, int *digest_err)
{
	char auth[1024], uri[FED_IM_NAME_MAX];
	struct sip_msg *m = register_once(cl, expires, NULL, deadline, why, cap);
	*digest_err = 0;
	if (!m || m->scode != 401 || !cl->u->password)
		return m;
	snprintf(uri, sizeof(uri), "sip:%s", cl->u->domain);
	*digest_err =
	    sipc_digest(m, cl->u->aor_user, cl->u->password, "REGISTER", uri, auth, sizeof(auth));
	if (*digest_err)
		return m;
	mem_deref(m);
	return register_once(cl, expires, auth, deadline, why, cap);
}

static void do_register(struct fed_im_cl *cl, double deadline)
{
	char why[SIPC_WHY_MAX];
	struct fed_im_client *res = cl->res;
	int derr;
	double t0 = flow_now();
	struct sip_msg *m = register_auth(cl, REGISTER_EXPIRES, deadline, why, sizeof(why), &derr);
	res->register_ms = (flow_now() - t0) * 1000.0;
	if (!m)
		return client_fail(cl, FED_IM_FAULT_CALLER_REGISTER,
		                   "%s's REGISTER at %s: no final answer: %s", cl->aor,
		                   cl->edge_name, why);
	res->status = m->scode;
	sipmsg_pl_copy(res->reason, sizeof(res->reason), &m->reason);
	mem_deref(m);
	if (res->status >= 200 && res->status < 300) {
		res->registered = true;
		fed_im_say(res->why, sizeof(res->why), "%s registered at %s: %d %s", cl->aor,
		           cl->edge_name, res->status, res->reason);
		return;
	}
	client_fail(cl, FED_IM_FAULT_CALLER_REGISTER, "%s's REGISTER at %s drew %d %s%s", cl->aor,
	            cl->edge_name, res->status, res->reason,
	            res->status != 401 ? ""
	            : !cl->u->password ? " (Digest wanted; no password given)"
	            : derr             ? " (a challenge we cannot answer: "
	                                 "not MD5 or qop auth)"
	                               : " (the password was refused)");
}

/* TCP then TLS; false with the fault set. */
static bool connect_edge(struct fed_im_cl *cl, double deadline)
{
	char why[SIPC_WHY_MAX];
	double t0 = flow_now();
	enum sipc_status st = sipc_connect(&cl->c, (const struct sockaddr *)&cl->u->edge, NULL,
	                                   deadline, why, sizeof(why));
	if (st != SIPC_OK) {
		client_fail(cl, st == SIPC_LOCAL ? FED_IM_FAULT_LOCAL : FED_IM_FAULT_CALLER_CONNECT,
		            "%s -> %s: TCP %s: %s", cl->aor, cl->edge_name, sipc_status_str(st),
		            why);
		return false;
	}
	struct sipc_tls t = {.ca_file = cl->u->ca_file, .expect = cl->u->edge_fqdn};
	st = sipc_handshake(&cl->c, &t, deadline, why, sizeof(why));
	if (st != SIPC_OK) {
		client_fail(cl, st == SIPC_LOCAL ? FED_IM_FAULT_LOCAL : FED_IM_FAULT_CALLER_TLS,
		            "%s -> %s: TLS handshake: %s", cl->aor, cl->edge_name, why);
		return false;
	}
	cl->res->connected = true;
	cl->res->connect_ms = (flow_now() - t0) * 1000.0;
	cl->up = true;
	return true;
}

void fed_im_cl_start(struct fed_im_cl *cl, const struct fed_im_user *u, struct fed_im_client *res,
                     unsigned timeout_ms)
{
	char where[ADDR_STR_MAX];
	memset(cl, 0, sizeof(*cl));
	sipc_init(&cl->c);
	cl->u = u;
	cl->res = res;
	cl->timeout_ms = timeout_ms;
	fed_im_say(cl->aor, sizeof(cl->aor), "%s@%s", u->aor_user, u->domain);
	if (u->external) {
		fed_im_say(res->why, sizeof(res->why), "%s is played by another client", cl->aor);
		return;
	}
	fed_im_say(cl->edge_name, sizeof(cl->edge_name), "%s (%s)", u->edge_fqdn,
	           addr_str((const struct sockaddr *)&u->edge, where, sizeof(where)));
	fed_im_token(cl->tag);
	fed_im_token(cl->reg_callid);
	double deadline = flow_now() + timeout_ms / 1000.0;
	if (!connect_edge(cl, deadline))
		return;
	if (u->skip_register) {
		fed_im_say(res->why, sizeof(res->why), "%s connected to %s; no REGISTER (skipped)",
		           cl->aor, cl->edge_name);
		return;
	}
	do_register(cl, deadline);
}

void fed_im_cl_stop(struct fed_im_cl *cl)
{
	char why[SIPC_WHY_MAX];
	/* Bindings die with the connection at edgelab; a registrar that keeps
	 * them would otherwise hand the next run's MESSAGE to this closed one. */
	int derr;
	if (cl->up && cl->res && cl->res->registered)
		mem_deref(
		    register_auth(cl, 0, flow_now() + UNREGISTER_WAIT, why, sizeof(why), &derr));
	sipc_close(&cl->c);
	cl->up = false;
}
