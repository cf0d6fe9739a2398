#include "sipfront/mras.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value of attribute name="..." after element start at, or NULL. */
static const char *attr(const char *at, const char *end, const char *name, size_t *len)
{
	const char *gt = memchr(at, '>', (size_t)(end - at));
	const char *p = memmem(at, (size_t)((gt ? gt : end) - at), name, strlen(name));
	if (!p)
		return NULL;
	p += strlen(name);
	const char *q = memchr(p, '"', (size_t)(end - p));
	if (!q)
		return NULL;
	*len = (size_t)(q - p);
	return p;
}

/* The text of <tag>...</tag> after at, or NULL. */
static const char *element(const char *at, const char *end, const char *open, const char *close,
                           size_t *len)
{
	const char *p = memmem(at, (size_t)(end - at), open, strlen(open));
	if (!p)
		return NULL;
	p += strlen(open);
	const char *q = memmem(p, (size_t)(end - p), close, strlen(close));
	if (!q)
		return NULL;
	*len = (size_t)(q - p);
	return p;
}

static int copy_id(const char *v, size_t len, char out[SIP_MRAS_ID_MAX + 1])
{
	if (!v || len == 0 || len > SIP_MRAS_ID_MAX)
		return EBADMSG;
	for (size_t i = 0; i < len; i++) {
		char c = v[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '-'))
			return EBADMSG;
	}
	memcpy(out, v, len);
	out[len] = '\0';
	return 0;
}

int sip_mras_parse(const char *body, size_t len, struct sip_mras_request *r)
{
	memset(r, 0, sizeof(*r));
	if (len > SIP_MRAS_BODY_MAX)
		return EMSGSIZE;
	const char *end = body + len, *v;
	size_t vlen = 0;
	const char *req = memmem(body, len, "<request", 8);
	const char *cr = memmem(body, len, "<credentialsRequest", 19);
	if (!req || !cr)
		return EBADMSG;
	v = attr(req, end, "requestID=\"", &vlen);
	if (copy_id(v, vlen, r->request_id))
		return EBADMSG;
	v = attr(cr, end, "credentialsRequestID=\"", &vlen);
	if (copy_id(v, vlen, r->credentials_request_id))
		return EBADMSG;
	snprintf(r->location, sizeof(r->location), "internet");
	v = element(cr, end, "<location>", "</location>", &vlen);
	if (v) {
		if (vlen != 8 || (memcmp(v, "internet", 8) && memcmp(v, "intranet", 8)))
			return EBADMSG;
		memcpy(r->location, v, 8);
	}
	v = element(cr, end, "<duration>", "</duration>", &vlen);
	if (v) {
		unsigned d = 0;
		if (vlen == 0 || vlen > 6)
			return EBADMSG;
		for (size_t i = 0; i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9')
				return EBADMSG;
			d = d * 10 + (unsigned)(v[i] - '0');
		}
		r->duration = d;
	}
	return 0;
}

int sip_mras_response(const struct sip_mras_request *r, const char *user64, const char *pass64,
                      unsigned duration, const struct sip_mras_relay *relay, char **out,
                      size_t *out_len)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return ENOMEM;
	/* Every value here is ours or was checked by sip_mras_parse: no escaping. */
	fprintf(f,
	        "<?xml version=\"1.0\"?>\r\n"
	        "<response xmlns=\"http://schemas.microsoft.com/2006/09/sip/mrasp\" "
	        "requestID=\"%s\" version=\"2.0\" serverVersion=\"2.0\" reasonPhrase=\"OK\">"
	        "<credentialsResponse credentialsRequestID=\"%s\">"
	        "<credentials><username>%s</username><password>%s</password>"
	        "<duration>%u</duration></credentials>"
	        "<mediaRelayList><mediaRelay><location>%s</location><hostName>%s</hostName>",
	        r->request_id, r->credentials_request_id, user64, pass64, duration, r->location,
	        relay->host);
	if (relay->udp_port)
		fprintf(f, "<udpPort>%u</udpPort>", relay->udp_port);
	if (relay->tcp_port)
		fprintf(f, "<tcpPort>%u</tcpPort>", relay->tcp_port);
	fprintf(f, "</mediaRelay></mediaRelayList></credentialsResponse></response>\r\n");
	if (fclose(f) || !text) {
		free(text);
		return ENOMEM;
	}
	*out = text;
	*out_len = len;
	return 0;
}
