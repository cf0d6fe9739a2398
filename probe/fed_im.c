/* fed_im: the run, each direction's MESSAGE, and what its end says about
 * the path. Both clients are read at once (sipc_wait), so that the
 * callee's copy and the caller's answer are taken in the order they come. */
#include "probe/fed_im.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/addr.h"
#include "core/rows.h"
#include "probe/fed_im_int.h"
#include "probe/flow.h"

struct dir_run {
	struct fed_im_cl *caller, *callee;
	struct fed_im_dir *d;
	double t0, deadline;
	char callid[FED_IM_TOKEN + 20];
	unsigned cseq;
	bool final;                    /* the caller's final response came */
	bool got;                      /* the callee's client got it as sent */
	char altered[FED_IM_NAME_MAX]; /* ... or what differed */
	bool lost;                     /* the caller's connection failed meanwhile */
};

static void say(struct fed_im_dir *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct fed_im_dir *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->why, sizeof(d->why), fmt, ap);
	va_end(ap);
}

static const char *edge_of(const struct fed_im_cl *cl)
{
	return cl->u->edge_fqdn ? cl->u->edge_fqdn : cl->u->domain;
}

static bool send_message(struct dir_run *x)
{
	char text[4096], local[ADDR_STR_MAX], branch[FED_IM_TOKEN], marker[FED_IM_TOKEN];
	char why[SIPC_WHY_MAX];
	struct fed_im_cl *cl = x->caller;
	fed_im_token(marker);
	fed_im_say(x->d->body, sizeof(x->d->body), "%s%s %s -> %s", ROWS_MARKER_PREFIX, marker,
	           cl->aor, x->callee->aor);
	snprintf(x->callid, sizeof(x->callid), "%s@edgelab-fed-im", marker);
	fed_im_token(branch);
	x->cseq = ++cl->cseq;
	addr_str((const struct sockaddr *)&cl->c.local, local, sizeof(local));
	snprintf(text, sizeof(text),
	         "MESSAGE sip:%s SIP/2.0\r\n"
	         "Via: SIP/2.0/TLS %s;branch=z9hG4bK%s;rport\r\n"
	         "Max-Forwards: 70\r\n"
	         "From: <sip:%s>;tag=%s\r\n"
	         "To: <sip:%s>\r\n"
	         "Call-ID: %s\r\n"
	         "CSeq: %u MESSAGE\r\n"
	         "Content-Type: text/plain\r\n"
	         "User-Agent: edgelab-probe\r\n"
	         "Content-Length: %zu\r\n\r\n%s",
	         x->callee->aor, local, branch, cl->aor, cl->tag, x->callee->aor, x->callid,
	         x->cseq, strlen(x->d->body), x->d->body);
	x->t0 = flow_now();
	x->deadline = x->t0 + cl->timeout_ms / 1000.0;
	if (fed_im_cl_send(cl, text, x->deadline, why, sizeof(why)))
		return true;
	x->d->fault = FED_IM_FAULT_CALLER_CONNECT;
	say(x->d, "%s -> %s: sending the MESSAGE failed: %s", cl->aor, cl->edge_name, why);
	return false;
}

static bool uri_is(const struct uri *u, const struct fed_im_user *who)
{
	return sipmsg_pl_eq(&u->user, who->aor_user) && sipmsg_pl_eq(&u->host, who->domain);
}

/* What differs between the MESSAGE the callee got and the one sent. */
static void compare(const struct dir_run *x, const struct sip_msg *m, char *out, size_t cap)
{
	size_t n = 0;
	const char *body = (const char *)mbuf_buf(m->mb);
	size_t len = mbuf_get_left(m->mb);
	out[0] = '\0';
	if (!uri_is(&m->from.uri, x->caller->u))
		n += (size_t)snprintf(out + n, cap - n, "From %.*s; ", (int)m->from.auri.l,
		                      m->from.auri.p);
	if (n < cap && !uri_is(&m->to.uri, x->callee->u))
		n += (size_t)snprintf(out + n, cap - n, "To %.*s; ", (int)m->to.auri.l,
		                      m->to.auri.p);
	if (n < cap && !msg_ctype_cmp(&m->ctyp, "text", "plain"))
		n += (size_t)snprintf(out + n, cap - n, "Content-Type not text/plain; ");
	if (n < cap && (len != strlen(x->d->body) || memcmp(body, x->d->body, len)))
		n += (size_t)snprintf(out + n, cap - n, "body \"%.*s\"; ", len > 80 ? 80 : (int)len,
		                      body);
	if (n >= 2 && n < cap)
		out[n - 2] = '\0';
}

/* A request at the callee's client: ours is checked and answered 200. */
static void on_callee(struct dir_run *x, const struct sip_msg *m)
{
	struct fed_im_cl *cl = x->callee;
	if (!m->req)
		return;
	if (!sipmsg_pl_eq(&m->met, "MESSAGE") || pl_strcmp(&m->callid, x->callid))
		return fed_im_cl_answer_other(cl, m, x->deadline);
	if (!x->got && !x->altered[0]) {
		compare(x, m, x->altered, sizeof(x->altered));
		x->got = !x->altered[0];
		x->d->delivery_ms = (flow_now() - x->t0) * 1000.0;
	}
	fed_im_cl_answer(cl, m, 200, "OK", x->deadline);
}

/* At the caller's client: the MESSAGE's final response ends the wait. */
static void on_caller(struct dir_run *x, const struct sip_msg *m)
{
	if (m->req)
		return fed_im_cl_answer_other(x->caller, m, x->deadline);
	if (pl_strcmp(&m->callid, x->callid) || m->cseq.num != x->cseq || m->scode < 200)
		return;
	x->final = true;
	x->d->status = m->scode;
	sipmsg_pl_copy(x->d->reason, sizeof(x->d->reason), &m->reason);
	x->d->rtt_ms = (flow_now() - x->t0) * 1000.0;
}

static void await(struct dir_run *x)
{
	struct fed_im_cl *cls[2] = {x->caller, x->callee};
	char why[SIPC_WHY_MAX];
	while (!x->final) {
		struct sipc *cs[2];
		for (size_t i = 0; i < 2; i++)
			cs[i] = cls[i]->up ? &cls[i]->c : NULL;
		int i = sipc_wait(cs, 2, x->deadline);
		if (i < 0)
			return;
		/* Only what is there: bytes that make no message yet (TLS 1.3's
		 * session tickets, a part) must not hold up the other client. */
		struct sip_msg *m = NULL;
		enum sipc_status st = sipc_recv(cs[i], flow_now(), &m, why, sizeof(why));
		if (st == SIPC_TIMEOUT)
			continue;
		if (st != SIPC_OK) {
			fed_im_cl_lost(cls[i], why);
			x->lost = x->lost || i == 0;
			if (i == 0)
				return;
			continue;
		}
		if (i == 0)
			on_caller(x, m);
		else
			on_callee(x, m);
		mem_deref(m);
	}
}

/* The callee's state, as a clause for a sentence ("" when it is fine). */
static void callee_note(const struct dir_run *x, char *out, size_t cap)
{
	const struct fed_im_cl *cl = x->callee;
	out[0] = '\0';
	if (cl->u->external)
		return;
	if (cl->fault != FED_IM_FAULT_NONE)
		fed_im_say(out, cap, " (%s)", cl->res->why);
	else if (cl->u->skip_register)
		fed_im_say(out, cap, " (%s's client did not register: skip_register)", cl->aor);
}

static enum fed_im_fault as_callee(enum fed_im_fault f)
{
	switch (f) {
	case FED_IM_FAULT_CALLER_CONNECT:
		return FED_IM_FAULT_CALLEE_CONNECT;
	case FED_IM_FAULT_CALLER_TLS:
		return FED_IM_FAULT_CALLEE_TLS;
	case FED_IM_FAULT_CALLER_REGISTER:
		return FED_IM_FAULT_CALLEE_REGISTER;
	default:
		return f;
	}
}

/* A final status >= 300 that the callee never answered. */
static void judge_error(struct dir_run *x, const char *note)
{
	struct fed_im_dir *d = x->d;
	const struct fed_im_cl *caller = x->caller, *callee = x->callee;
	int s = d->status;
	if (s == 404 || s == 480 || s == 410 || s == 604) {
		bool client = !callee->u->external && callee->fault != FED_IM_FAULT_NONE;
		d->fault = client ? as_callee(callee->fault) : FED_IM_FAULT_CALLEE_UNKNOWN;
		return say(d, "%s's MESSAGE drew %d %s: %s has no registration for %s%s",
		           caller->aor, s, d->reason, edge_of(callee), callee->aor, note);
	}
	if (s == 408 || (s >= 500 && s < 600)) {
		d->fault = FED_IM_FAULT_FEDERATION;
		return say(d,
		           "%s's MESSAGE drew %d %s: the federation hop %s -> %s (5061) failed%s",
		           caller->aor, s, d->reason, edge_of(caller), edge_of(callee), note);
	}
	d->fault = FED_IM_FAULT_REFUSED;
	say(d, "%s's MESSAGE drew %d %s: an edge on the way refused it%s", caller->aor, s,
	    d->reason, note);
}

static void judge(struct dir_run *x)
{
	struct fed_im_dir *d = x->d;
	const struct fed_im_cl *caller = x->caller, *callee = x->callee;
	char note[FED_IM_WHY_MAX / 2];
	bool ok = d->status >= 200 && d->status < 300;
	callee_note(x, note, sizeof(note));
	if (x->got)
		d->stage = FED_IM_STAGE_RECEIVED;
	if (x->got && ok) {
		d->stage = FED_IM_STAGE_DELIVERED;
		d->checked = true;
		return say(d,
		           "%s's client got the MESSAGE (marker, From, To as sent) after %.1f ms; "
		           "its %d %s reached %s after %.1f ms",
		           callee->aor, d->delivery_ms, d->status, d->reason, caller->aor,
		           d->rtt_ms);
	}
	if (ok && callee->u->external) {
		d->stage = FED_IM_STAGE_DELIVERED;
		return say(d, "%d %s reached %s after %.1f ms (%s's client is not ours: unchecked)",
		           d->status, d->reason, caller->aor, d->rtt_ms, callee->aor);
	}
	if (x->altered[0]) {
		d->fault = FED_IM_FAULT_ALTERED;
		return say(d, "%s's client got the MESSAGE altered: %s; %s got %d %s", callee->aor,
		           x->altered, caller->aor, d->status, d->reason);
	}
	if (x->got) {
		d->fault = FED_IM_FAULT_RESPONSE_LOST;
		if (x->final)
			return say(d,
			           "%s's client got the MESSAGE and answered 200, but %s got %d %s",
			           callee->aor, caller->aor, d->status, d->reason);
		return say(d,
		           "%s's client got the MESSAGE and answered 200, but no final answer "
		           "reached %s in %.1f s",
		           callee->aor, caller->aor, caller->timeout_ms / 1000.0);
	}
	if (ok) {
		d->fault = FED_IM_FAULT_NOT_DELIVERED;
		return say(d,
		           "%s got %d %s, but %s's client never got the MESSAGE: something else "
		           "answered for it%s",
		           caller->aor, d->status, d->reason, callee->aor, note);
	}
	if (x->final)
		return judge_error(x, note);
	if (x->lost) {
		d->fault = FED_IM_FAULT_CALLER_CONNECT;
		return say(d, "no final answer: %s%s", caller->res->why, note);
	}
	d->fault = FED_IM_FAULT_LOST;
	say(d,
	    "no final answer to %s's MESSAGE in %.1f s, and %s's client got nothing: lost "
	    "between %s and %s's client%s",
	    caller->aor, caller->timeout_ms / 1000.0, callee->aor, edge_of(caller), callee->aor,
	    note);
}

static void run_dir(struct fed_im_cl *caller, struct fed_im_cl *callee, struct fed_im_dir *d)
{
	struct dir_run x = {.caller = caller, .callee = callee, .d = d};
	if (caller->u->external)
		return say(d, "%s is played by another client: nothing sent as it", caller->aor);
	d->ran = true;
	if (!caller->up || (!caller->res->registered && !caller->u->skip_register)) {
		d->fault = caller->fault != FED_IM_FAULT_NONE ? caller->fault
		                                              : FED_IM_FAULT_CALLER_CONNECT;
		return say(d, "nothing sent: %s", caller->res->why);
	}
	d->stage = FED_IM_STAGE_REGISTERED;
	if (!send_message(&x))
		return;
	d->stage = FED_IM_STAGE_SENT;
	await(&x);
	judge(&x);
}

static bool user_usable(const struct fed_im_user *u)
{
	if (!u->aor_user || !u->domain || !u->aor_user[0] || !u->domain[0])
		return false;
	return u->external || (u->edge_fqdn && u->edge_fqdn[0] && u->ca_file && u->ca_file[0] &&
	                       (u->edge.ss_family == AF_INET || u->edge.ss_family == AF_INET6));
}

static int refuse(struct fed_im_result *r, const char *why)
{
	struct fed_im_dir *ds[] = {&r->a_to_b, &r->b_to_a};
	for (size_t i = 0; i < 2; i++) {
		ds[i]->fault = FED_IM_FAULT_LOCAL;
		say(ds[i], "%s", why);
	}
	return EINVAL;
}

int fed_im_run(const struct fed_im_opts *o, struct fed_im_result *r)
{
	struct fed_im_cl a, b;
	if (!r)
		return EINVAL;
	memset(r, 0, sizeof(*r));
	if (!o || !user_usable(&o->a) || !user_usable(&o->b))
		return refuse(r, "fed_im: each user needs its AOR and, unless external, its edge's "
		                 "address, name and CA");
	if (o->a.external && o->b.external)
		return refuse(r, "fed_im: both users are external: no client of ours");
	unsigned dirs = o->directions ? o->directions : FED_IM_BOTH;
	unsigned timeout = o->timeout_ms ? o->timeout_ms : FED_IM_TIMEOUT_DEFAULT;
	fed_im_cl_start(&a, &o->a, &r->a, timeout);
	fed_im_cl_start(&b, &o->b, &r->b, timeout);
	if (dirs & FED_IM_A_TO_B)
		run_dir(&a, &b, &r->a_to_b);
	if (dirs & FED_IM_B_TO_A)
		run_dir(&b, &a, &r->b_to_a);
	fed_im_cl_stop(&a);
	fed_im_cl_stop(&b);
	bool pass = true;
	if (dirs & FED_IM_A_TO_B && r->a_to_b.ran)
		pass = pass && r->a_to_b.stage == FED_IM_STAGE_DELIVERED;
	if (dirs & FED_IM_B_TO_A && r->b_to_a.ran)
		pass = pass && r->b_to_a.stage == FED_IM_STAGE_DELIVERED;
	return pass ? 0 : EIO;
}

const char *fed_im_stage_name(enum fed_im_stage s)
{
	static const char *const names[] = {"none", "registered", "sent", "received", "delivered"};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

const char *fed_im_fault_name(enum fed_im_fault f)
{
	static const char *const names[] = {"none",       "local",           "caller-connect",
	                                    "caller-tls", "caller-register", "refused",
	                                    "federation", "callee-unknown",  "callee-connect",
	                                    "callee-tls", "callee-register", "not-delivered",
	                                    "altered",    "response-lost",   "lost"};
	return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "?";
}

const char *fed_im_hop_name(enum fed_im_hop h)
{
	static const char *const names[] = {"none",       "local",  "caller",
	                                    "federation", "callee", "unknown"};
	return (unsigned)h < sizeof(names) / sizeof(names[0]) ? names[h] : "?";
}

enum fed_im_hop fed_im_fault_hop(enum fed_im_fault f)
{
	switch (f) {
	case FED_IM_FAULT_NONE:
		return FED_IM_HOP_NONE;
	case FED_IM_FAULT_LOCAL:
		return FED_IM_HOP_LOCAL;
	case FED_IM_FAULT_CALLER_CONNECT:
	case FED_IM_FAULT_CALLER_TLS:
	case FED_IM_FAULT_CALLER_REGISTER:
		return FED_IM_HOP_CALLER;
	case FED_IM_FAULT_FEDERATION:
		return FED_IM_HOP_FEDERATION;
	case FED_IM_FAULT_CALLEE_UNKNOWN:
	case FED_IM_FAULT_CALLEE_CONNECT:
	case FED_IM_FAULT_CALLEE_TLS:
	case FED_IM_FAULT_CALLEE_REGISTER:
	case FED_IM_FAULT_NOT_DELIVERED:
		return FED_IM_HOP_CALLEE;
	case FED_IM_FAULT_REFUSED:
	case FED_IM_FAULT_ALTERED:
	case FED_IM_FAULT_RESPONSE_LOST:
	case FED_IM_FAULT_LOST:
		return FED_IM_HOP_UNKNOWN;
	}
	return FED_IM_HOP_UNKNOWN;
}
