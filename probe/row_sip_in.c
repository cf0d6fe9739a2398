/* Rows 1 and 3: SIP over TLS into the edge. TCP connect (no answer in time
 * is BLOCKED; RST or ICMP unreachable REJECTED), a TLS handshake verifying
 * the edge's certificate against the lab CA and its name (a certificate
 * problem is FAILED, with OpenSSL's reason), then one request whose Call-ID
 * carries a random marker: OPTIONS as a federation partner presenting its
 * certificate on 5061 (row 1), REGISTER as a remote client on 443 (row 3).
 * PASS on a 200 that echoes the marker. */
#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "core/addr.h"
#include "probe/flow.h"
#include "probe/probe.h"
#include "probe/sip_client.h"

struct sip_flow {
	const struct probe_opts *o;
	struct probe_result *r;
	bool mutual; /* row 1: present the partner's certificate on 5061 */
	double deadline;
	struct sipc c;
	char marker[33];
};

/* TCP bounded by the deadline: no answer is BLOCKED, RST or ICMP
 * unreachable REJECTED. Returns false with the verdict set. */
static bool tcp_connect(struct sip_flow *f)
{
	char why[SIPC_WHY_MAX];
	struct sockaddr_storage dst = f->o->edge;
	addr_set_port((struct sockaddr *)&dst,
	              f->mutual ? f->o->sip_mtls_port : f->o->sip_tls_port);
	enum sipc_status st =
	    sipc_connect(&f->c, (const struct sockaddr *)&dst,
	                 f->o->have_bind ? (const struct sockaddr *)&f->o->bind : NULL, f->deadline,
	                 why, sizeof(why));
	switch (st) {
	case SIPC_OK:
		return true;
	case SIPC_TIMEOUT:
		flow_verdict(f->r, VERDICT_BLOCKED, "no answer to the TCP SYN in %.1f s",
		             f->o->timeout_ms / 1000.0);
		return false;
	case SIPC_LOCAL:
		flow_socket_error(f->r, f->c.sys_err, "opening the TCP socket");
		return false;
	default:
		flow_socket_error(f->r, f->c.sys_err, "connecting");
		return false;
	}
}

static bool tls_connect(struct sip_flow *f)
{
	char why[SIPC_WHY_MAX];
	struct sipc_tls t = {.ca_file = f->o->ca_file,
	                     .expect = f->o->edge_fqdn,
	                     .cert_file = f->mutual ? f->o->cert_file : NULL,
	                     .key_file = f->mutual ? f->o->key_file : NULL};
	enum sipc_status st = sipc_handshake(&f->c, &t, f->deadline, why, sizeof(why));
	if (st == SIPC_LOCAL)
		flow_verdict(f->r, VERDICT_FAILED, "probe's TLS set-up: %s", why);
	else if (st != SIPC_OK)
		flow_verdict(f->r, VERDICT_FAILED, "TLS handshake: %s", why);
	return st == SIPC_OK;
}

static void build_request(const struct sip_flow *f, char *out, size_t cap)
{
	char local[ADDR_STR_MAX];
	const struct probe_opts *o = f->o;
	addr_str((const struct sockaddr *)&f->c.local, local, sizeof(local));
	if (f->mutual)
		snprintf(out, cap,
		         "OPTIONS sip:%s SIP/2.0\r\n"
		         "Via: SIP/2.0/TLS %s;branch=z9hG4bK%s;rport\r\n"
		         "Max-Forwards: 70\r\n"
		         "From: <sip:probe@%s>;tag=%.8s\r\n"
		         "To: <sip:%s>\r\n"
		         "Call-ID: %s@edgelab-probe\r\n"
		         "CSeq: 1 OPTIONS\r\n"
		         "User-Agent: edgelab-probe\r\n"
		         "Content-Length: 0\r\n\r\n",
		         o->edge_fqdn, local, f->marker, o->partner_domain, f->marker, o->edge_fqdn,
		         f->marker);
	else
		snprintf(out, cap,
		         "REGISTER sip:%s SIP/2.0\r\n"
		         "Via: SIP/2.0/TLS %s;branch=z9hG4bK%s;rport\r\n"
		         "Max-Forwards: 70\r\n"
		         "From: <sip:probe-%.8s@%s>;tag=%.8s\r\n"
		         "To: <sip:probe-%.8s@%s>\r\n"
		         "Call-ID: %s@edgelab-probe\r\n"
		         "CSeq: 1 REGISTER\r\n"
		         "Contact: <sip:probe@%s;transport=tls>\r\n"
		         "Expires: 60\r\n"
		         "User-Agent: edgelab-probe\r\n"
		         "Content-Length: 0\r\n\r\n",
		         o->sip_domain, local, f->marker, f->marker, o->sip_domain, f->marker,
		         f->marker, o->sip_domain, f->marker, local);
}

static void exchange(struct sip_flow *f)
{
	char req[2048], why[SIPC_WHY_MAX], want[64], reason[64] = "";
	const char *method = f->mutual ? "OPTIONS" : "REGISTER";
	/* The edge closes on a refused certificate only after the handshake
	 * (TLS 1.3 sends the client's certificate after the server finished). */
	const char *closed = "(the edge closed: was our certificate refused?)";
	struct sip_msg *resp = NULL;
	build_request(f, req, sizeof(req));
	if (sipc_send(&f->c, req, strlen(req), f->deadline, why, sizeof(why)) != SIPC_OK)
		return flow_verdict(f->r, VERDICT_FAILED, "TLS write %s: %s", closed, why);
	snprintf(want, sizeof(want), "%s@edgelab-probe", f->marker);
	/* Requests from the edge cannot come on a connection it has not
	 * registered; whatever comes first that is not a response is an error. */
	do {
		mem_deref(resp);
		enum sipc_status st = sipc_recv(&f->c, f->deadline, &resp, why, sizeof(why));
		if (st == SIPC_TIMEOUT)
			return flow_verdict(f->r, VERDICT_FAILED,
			                    "TLS up, but no answer to %s in time", method);
		if (st == SIPC_PROTOCOL)
			return flow_verdict(f->r, VERDICT_FAILED, "answer to %s: %s", method, why);
		if (st != SIPC_OK)
			return flow_verdict(f->r, VERDICT_FAILED, "TLS read %s: %s", closed, why);
	} while (!resp->req && resp->scode < 200);
	bool ours = !resp->req && pl_strcmp(&resp->callid, want) == 0;
	int code = resp->req ? 0 : resp->scode;
	sipmsg_pl_copy(reason, sizeof(reason), &resp->reason);
	mem_deref(resp);
	if (!ours)
		return flow_verdict(f->r, VERDICT_FAILED, "answer to %s lacks our Call-ID marker",
		                    method);
	if (code != 200)
		return flow_verdict(f->r, VERDICT_FAILED, "edge answered %s with %d %s", method,
		                    code, reason);
	flow_verdict(f->r, VERDICT_PASS, "200 to %s over %s; edge certificate %s verified%s%s",
	             method, f->mutual ? "MTLS" : "TLS", f->o->edge_fqdn,
	             f->mutual ? "; we were " : "", f->mutual ? f->o->partner_domain : "");
}

static void sip_row(const struct probe_opts *o, struct probe_result *r, bool mutual)
{
	double start = flow_now();
	struct sip_flow f = {.o = o, .r = r, .mutual = mutual};
	sipc_init(&f.c);
	f.deadline = start + o->timeout_ms / 1000.0;
	unsigned char rnd[16];
	RAND_bytes(rnd, sizeof(rnd));
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(f.marker + 2 * i, 3, "%02x", rnd[i]);
	if (tcp_connect(&f) && tls_connect(&f))
		exchange(&f);
	sipc_close(&f.c);
	r->seconds = flow_now() - start;
}

void probe_row_sip_partner_in(const struct probe_opts *o, struct probe_result *r)
{
	sip_row(o, r, true);
}

void probe_row_sip_client_in(const struct probe_opts *o, struct probe_result *r)
{
	sip_row(o, r, false);
}
