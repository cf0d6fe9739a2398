#include "sipfront/reply.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"

/* A To tag that is the same for every retransmission of a request, so that
 * the edge stays stateless (RFC 3261 section 8.2.6.2 only asks that it be
 * unique per dialog): FNV-1a over Call-ID, From tag and CSeq. */
static uint64_t to_tag(const struct sip_msg *req)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const struct pl *parts[] = {&req->callid, &req->from.tag, &req->cseq.met};
	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < parts[i]->l; j++)
			h = (h ^ (uint8_t)parts[i]->p[j]) * 0x100000001b3ull;
	return h ^ req->cseq.num;
}

static void copy_headers(FILE *f, const struct sip_msg *req)
{
	for (struct le *le = req->hdrl.head; le; le = le->next) {
		const struct sip_hdr *h = le->data;
		const char *name = NULL;
		switch (h->id) {
		case SIP_HDR_VIA:
			name = "Via";
			break;
		case SIP_HDR_FROM:
			name = "From";
			break;
		case SIP_HDR_CALL_ID:
			name = "Call-ID";
			break;
		case SIP_HDR_CSEQ:
			name = "CSeq";
			break;
		case SIP_HDR_TO:
			fprintf(f, "To: %.*s", (int)h->val.l, h->val.p);
			if (!pl_isset(&req->to.tag))
				fprintf(f, ";tag=%016llx", (unsigned long long)to_tag(req));
			fputs("\r\n", f);
			continue;
		default:
			continue;
		}
		fprintf(f, "%s: %.*s\r\n", name, (int)h->val.l, h->val.p);
	}
}

int sip_reply_build(const struct sip_msg *req, int code, const char *reason, const char *extra,
                    char **out, size_t *out_len)
{
	return sip_reply_build_body(req, code, reason, extra, NULL, NULL, 0, out, out_len);
}

int sip_reply_build_body(const struct sip_msg *req, int code, const char *reason, const char *extra,
                         const char *ctype, const char *body, size_t body_len, char **out,
                         size_t *out_len)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return ENOMEM;
	fprintf(f, "SIP/2.0 %d %s\r\n", code, reason);
	copy_headers(f, req);
	fprintf(f, "%sServer: edgelab/%s\r\n", extra ? extra : "", PACKAGE_VERSION);
	if (ctype)
		fprintf(f, "Content-Type: %s\r\n", ctype);
	fprintf(f, "Content-Length: %zu\r\n\r\n", body ? body_len : 0);
	if (body)
		fwrite(body, 1, body_len, f);
	if (fclose(f) || !text) {
		free(text);
		return ENOMEM;
	}
	*out = text;
	*out_len = len;
	return 0;
}
