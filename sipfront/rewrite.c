#include "sipfront/rewrite.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

static bool is_trust(const struct sip_hdr *h)
{
	return h->name.l == sizeof(SIP_TRUST_HEADER) - 1 &&
	       strncasecmp(h->name.p, SIP_TRUST_HEADER, h->name.l) == 0;
}

static void put(FILE *f, const struct sip_hdr *h)
{
	fprintf(f, "%.*s: %.*s\r\n", (int)h->name.l, h->name.p, (int)h->val.l, h->val.p);
}

static void put_body(FILE *f, const struct sip_msg *msg)
{
	fputs("\r\n", f);
	if (msg->mb && mbuf_get_left(msg->mb))
		fwrite(mbuf_buf(msg->mb), 1, mbuf_get_left(msg->mb), f);
}

/* open_memstream publishes the buffer at fclose: read it only after. */
static int finish(FILE *f, char **text, size_t *len, char **out, size_t *out_len)
{
	if (fclose(f) || !*text) {
		free(*text);
		return ENOMEM;
	}
	*out = *text;
	*out_len = *len;
	return 0;
}

int sip_fwd_request(const struct sip_msg *req, const struct sip_fwd_edit *e, char **out,
                    size_t *out_len)
{
	char *text = NULL;
	size_t len = 0;
	bool route_popped = false, max_fwd_done = false;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return ENOMEM;
	if (e->ruri)
		fprintf(f, "%.*s %s SIP/2.0\r\n", (int)req->met.l, req->met.p, e->ruri);
	else
		fprintf(f, "%.*s %.*s SIP/2.0\r\n", (int)req->met.l, req->met.p, (int)req->ruri.l,
		        req->ruri.p);
	fprintf(f, "Via: %s\r\n", e->via);
	if (e->record_route)
		fprintf(f, "Record-Route: %s\r\n", e->record_route);
	for (struct le *le = req->hdrl.head; le; le = le->next) {
		const struct sip_hdr *h = le->data;
		if (is_trust(h))
			continue; /* never trusted from outside */
		if (h->id == SIP_HDR_ROUTE && e->pop_route && !route_popped) {
			route_popped = true;
			continue;
		}
		if (h->id == SIP_HDR_MAX_FORWARDS) {
			if (!max_fwd_done)
				fprintf(f, "Max-Forwards: %d\r\n", e->max_forwards);
			max_fwd_done = true;
			continue;
		}
		put(f, h);
	}
	if (!max_fwd_done)
		fprintf(f, "Max-Forwards: %d\r\n", e->max_forwards);
	if (e->trust)
		fprintf(f, "%s: %s\r\n", SIP_TRUST_HEADER, e->trust);
	put_body(f, req);
	return finish(f, &text, &len, out, out_len);
}

int sip_fwd_response(const struct sip_msg *resp, char **out, size_t *out_len)
{
	char *text = NULL;
	size_t len = 0;
	bool via_popped = false;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return ENOMEM;
	fprintf(f, "SIP/2.0 %u %.*s\r\n", resp->scode, (int)resp->reason.l, resp->reason.p);
	for (struct le *le = resp->hdrl.head; le; le = le->next) {
		const struct sip_hdr *h = le->data;
		if (h->id == SIP_HDR_VIA && !via_popped) {
			via_popped = true;
			continue;
		}
		put(f, h);
	}
	put_body(f, resp);
	return finish(f, &text, &len, out, out_len);
}
