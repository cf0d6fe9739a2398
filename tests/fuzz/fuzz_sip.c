/* libFuzzer target for the SIP input path: the input is a TLS stream's
 * plaintext. It is framed with sip_frame_next the way sipfront/conn.c does,
 * and each message goes through sipmsg_decode, sipmsg_validate and the
 * helpers; valid ones through the routing decision, and what the edge would
 * send (forwarded requests and responses, its own replies) must decode; each body
 * also goes through the MRAS credentialsRequest parser. Invariants are checked with
 * abort(); ASan/UBSan catch overreads and LeakSanitizer anything not mem_deref'd. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipfront/frame.h"
#include "sipfront/mras.h"
#include "core/conf.h"
#include "sipfront/reply.h"
#include "sipfront/rewrite.h"
#include "sipfront/route.h"
#include "sipfront/sipmsg.h"
#include "tests/fuzz/fuzz.h"

/* The edge the routing decisions are made for: the defaults and a partner. */
static const struct conf *fuzz_conf(void)
{
	static struct conf *conf;
	char err[CONF_ERR_MAX];
	if (!conf) {
		FUZZ_CHECK(conf_defaults(&conf) == 0);
		FUZZ_CHECK(conf_set(conf, "federation_partner", "partner.example 192.0.2.7", err,
		                    sizeof(err)) == 0);
	}
	return conf;
}

/* Whatever the edge sends must decode again: forwarded requests and its own
 * responses, built from any valid input. */
static void check_output(char *text, size_t len, bool req, const struct pl *callid)
{
	struct sip_msg *out = NULL;
	FUZZ_CHECK(sipmsg_decode(&out, (const uint8_t *)text, len) == 0);
	FUZZ_CHECK(out->req == req);
	FUZZ_CHECK(out->callid.l == callid->l && memcmp(out->callid.p, callid->p, callid->l) == 0);
	mem_deref(out);
	free(text);
}

/* The proxy's routing decision and what it would send, from either side. */
static void fuzz_route(const struct sip_msg *req)
{
	char *text, via[128];
	size_t len;
	for (int from_partner = 0; from_partner < 2; from_partner++) {
		struct sip_route rt;
		sip_route_decide(fuzz_conf(), req, from_partner, &rt);
		FUZZ_CHECK(rt.kind <= SIP_ROUTE_NEXT_HOP);
		FUZZ_CHECK(rt.kind != SIP_ROUTE_REPLY ||
		           (rt.code >= 400 && rt.code < 700 && rt.reason));
		FUZZ_CHECK(rt.kind != SIP_ROUTE_PARTNER || (rt.partner && !from_partner));
		FUZZ_CHECK(rt.kind != SIP_ROUTE_LOCAL_USER || strchr(rt.aor, '@'));
		if (rt.kind == SIP_ROUTE_REPLY) {
			FUZZ_CHECK(sip_reply_build(req, rt.code, rt.reason, NULL, &text, &len) ==
			           0);
			check_output(text, len, false, &req->callid);
			continue;
		}
		FUZZ_CHECK(rt.max_forwards >= 0 && rt.max_forwards < 255);
		snprintf(via, sizeof(via), "SIP/2.0/TLS sip.edge.example:5061;branch=%s;el-conn=1",
		         rt.branch);
		struct sip_fwd_edit e = {via,
		                         from_partner ? "sip:alice@127.0.0.1:5" : NULL,
		                         rt.pop_route,
		                         rt.max_forwards,
		                         "<sip:edgelab@sip.edge.example;lr;el-a=1;el-b=2>",
		                         "ms-x=1"};
		FUZZ_CHECK(sip_fwd_request(req, &e, &text, &len) == 0);
		check_output(text, len, true, &req->callid);
	}
}

static void fuzz_response(const struct sip_msg *resp)
{
	char *text;
	size_t len;
	if (sip_msg_hdr_count(resp, SIP_HDR_VIA) < 2)
		return;
	FUZZ_CHECK(sip_fwd_response(resp, &text, &len) == 0);
	check_output(text, len, false, &resp->callid);
}

/* The helpers on a decoded message: results within their contracts. */
static void fuzz_helpers(const struct sip_msg *msg)
{
	char small[8], big[SIP_FRAME_HEADERS_MAX];
	const char *why = (const char *)1;
	int mf = -1, rc;

	rc = sipmsg_validate(msg, &why);
	FUZZ_CHECK((rc == 0 && why == NULL) || (rc == EBADMSG && why != NULL && why[0] != '\0'));
	rc = sipmsg_max_forwards(msg, &mf);
	FUZZ_CHECK(rc == 0 || rc == ENOENT || rc == EBADMSG);
	FUZZ_CHECK(rc != 0 || (mf >= 0 && mf <= 255));
	(void)sipmsg_has_header(msg, "ms-edge-proxy-message-trust");
	(void)sipmsg_has_header(msg, "ms-client-diagnostics");

	rc = sipmsg_pl_copy(small, sizeof(small), &msg->callid);
	FUZZ_CHECK(rc == 0 || rc == ENOSPC || rc == EBADMSG);
	FUZZ_CHECK(strlen(small) < sizeof(small));
	rc = sipmsg_pl_copy(big, sizeof(big), &msg->via.branch);
	FUZZ_CHECK(rc == 0 || rc == EBADMSG);

	if (why == NULL && msg->req)
		fuzz_route(msg);
	if (why == NULL && !msg->req)
		fuzz_response(msg);
}

/* The body as an MRAS credentialsRequest (sipfront/mras.h): what parses
 * must make a response that carries its ids, and ids are bounded. */
static void fuzz_mras(const struct sip_msg *msg)
{
	struct sip_mras_request r;
	struct sip_mras_relay relay = {"edge.example", 3478, 443};
	char *out;
	size_t out_len;
	int rc = sip_mras_parse((const char *)mbuf_buf(msg->mb), mbuf_get_left(msg->mb), &r);
	if (rc) {
		FUZZ_CHECK(rc == EBADMSG || rc == EMSGSIZE);
		return;
	}
	FUZZ_CHECK(strlen(r.request_id) <= SIP_MRAS_ID_MAX && r.request_id[0]);
	FUZZ_CHECK(strcmp(r.location, "internet") == 0 || strcmp(r.location, "intranet") == 0);
	if (sip_mras_response(&r, "dXNlcg==", "cGFzcw==", 480, &relay, &out, &out_len))
		return;
	FUZZ_CHECK(strstr(out, r.credentials_request_id) && out_len == strlen(out));
	free(out);
}

static void fuzz_message(const uint8_t *buf, size_t len)
{
	struct sip_msg *msg = NULL;
	int rc = sipmsg_decode(&msg, buf, len);

	if (rc != 0) {
		FUZZ_CHECK(rc == EBADMSG || rc == ENOMEM);
		FUZZ_CHECK(msg == NULL);
		return;
	}
	FUZZ_CHECK(msg != NULL);
	/* the message holds the bytes as they came: name masking is undone */
	FUZZ_CHECK(msg->mb->end == len && memcmp(msg->mb->buf, buf, len) == 0);
	fuzz_helpers(msg);
	fuzz_mras(msg);
	mem_deref(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		enum sip_frame_error why = SIP_FRAME_ERR_NONE;
		size_t frame_len = 0, left = size - off;
		enum sip_frame_status st = sip_frame_next(data + off, left, &frame_len, &why);

		if (st == SIP_FRAME_MORE || st == SIP_FRAME_ERROR) {
			FUZZ_CHECK(frame_len == 0);
			FUZZ_CHECK((st == SIP_FRAME_ERROR) == (why != SIP_FRAME_ERR_NONE));
			FUZZ_CHECK(sip_frame_error_str(why) != NULL);
			break; /* read more, or close the connection */
		}
		FUZZ_CHECK(why == SIP_FRAME_ERR_NONE);
		FUZZ_CHECK(frame_len > 0 && frame_len <= left && frame_len <= SIP_FRAME_MAX);
		if (st == SIP_FRAME_KEEPALIVE)
			FUZZ_CHECK(frame_len == 2 || frame_len == 4);
		else
			fuzz_message(data + off, frame_len);
		off += frame_len; /* always progresses: frame_len > 0 */
	}
	return 0;
}
