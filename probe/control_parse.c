/* The control API's answers, parsed: pure functions over bounded buffers
 * (no allocation, no I/O), so that an edge, or whatever answers in its
 * place, cannot make the probe read past what it got. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/rows.h"
#include "probe/control_client.h"

/* ---- HTTP/1.x response ---- */

/* The end of the line starting at p (its LF), or NULL. */
static const uint8_t *line_end(const uint8_t *p, const uint8_t *end)
{
	return memchr(p, '\n', (size_t)(end - p));
}

/* The line's length without its CR. */
static size_t line_len(const uint8_t *p, const uint8_t *lf)
{
	size_t n = (size_t)(lf - p);
	return n && p[n - 1] == '\r' ? n - 1 : n;
}

static bool status_line(const uint8_t *p, size_t n, int *status)
{
	/* "HTTP/1.x NNN" then a space and a reason, or nothing. */
	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || !isdigit(p[7]) || p[8] != ' ')
		return false;
	if (!isdigit(p[9]) || !isdigit(p[10]) || !isdigit(p[11]) || (n > 12 && p[12] != ' '))
		return false;
	*status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	return *status >= 100 && *status <= 599;
}

static const uint8_t *skip_ows(const uint8_t *p, const uint8_t *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static bool name_is(const uint8_t *p, size_t n, const char *name)
{
	return n == strlen(name) && strncasecmp((const char *)p, name, n) == 0;
}

/* Digits only, at most CTL_BODY_MAX (larger: EMSGSIZE). */
static int content_length(const uint8_t *v, size_t n, size_t *len)
{
	size_t x = 0;
	if (n == 0)
		return EBADMSG;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit(v[i]))
			return EBADMSG;
		x = x * 10 + (size_t)(v[i] - '0');
		if (x > CTL_BODY_MAX)
			return EMSGSIZE;
	}
	*len = x;
	return 0;
}

/* One header line: Content-Length, Transfer-Encoding and Location matter. */
static int header(const uint8_t *p, size_t n, struct ctl_reply *r, size_t *clen, bool *have_clen)
{
	const uint8_t *colon = memchr(p, ':', n), *end = p + n;
	if (!colon || colon == p)
		return EBADMSG;
	size_t name_n = (size_t)(colon - p);
	const uint8_t *v = skip_ows(colon + 1, end);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	size_t vn = (size_t)(end - v);
	if (name_is(p, name_n, "Transfer-Encoding"))
		return EBADMSG; /* we ask in HTTP/1.0: no chunks */
	if (name_is(p, name_n, "Location")) {
		if (vn >= sizeof(r->location))
			return EMSGSIZE;
		memcpy(r->location, v, vn);
		r->location[vn] = '\0';
	}
	if (name_is(p, name_n, "Content-Length")) {
		size_t len;
		int rc = content_length(v, vn, &len);
		if (rc)
			return rc;
		if (*have_clen && len != *clen)
			return EBADMSG;
		*clen = len;
		*have_clen = true;
	}
	return 0;
}

int ctl_reply_parse(const uint8_t *buf, size_t len, bool eof, struct ctl_reply *r)
{
	const uint8_t *p = buf, *end = buf + len, *lf;
	size_t clen = 0;
	bool have_clen = false, first = true;
	memset(r, 0, sizeof(*r));
	if (!buf)
		return eof ? EBADMSG : EAGAIN;
	for (;;) {
		if (!(lf = line_end(p, end))) {
			if ((size_t)(end - buf) > CTL_HEAD_MAX)
				return EMSGSIZE;
			return eof ? EBADMSG : EAGAIN;
		}
		if ((size_t)(lf + 1 - buf) > CTL_HEAD_MAX)
			return EMSGSIZE;
		size_t n = line_len(p, lf);
		if (first) {
			if (!status_line(p, n, &r->status))
				return EBADMSG;
			first = false;
		} else if (n == 0) {
			break;
		} else {
			int rc = header(p, n, r, &clen, &have_clen);
			if (rc)
				return rc;
		}
		p = lf + 1;
	}
	r->head_len = (size_t)(lf + 1 - buf);
	r->body = lf + 1;
	size_t have = (size_t)(end - r->body);
	if (have_clen) {
		if (have < clen)
			return eof ? EBADMSG : EAGAIN;
		r->body_len = clen;
		return 0;
	}
	if (have > CTL_BODY_MAX)
		return EMSGSIZE;
	if (!eof)
		return EAGAIN;
	r->body_len = have;
	return 0;
}

/* ---- a flow's record ---- */

/* The next line of text at *p (before end): its start and length without
 * CR LF, *p moved past it; NULL at the end. */
static const char *text_line(const char **p, const char *end, size_t *n)
{
	const char *line = *p;
	if (!line || line >= end)
		return NULL;
	const char *lf = memchr(line, '\n', (size_t)(end - line));
	const char *le = lf ? lf : end;
	*n = (size_t)(le - line);
	if (*n && line[*n - 1] == '\r')
		(*n)--;
	*p = le + 1;
	return line;
}

/* Copies n bytes into a field of cap, cut to fit, NUL-terminated. */
static void field_set(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* A small decimal number in the n bytes at s, or -1. */
static long long number(const char *s, size_t n)
{
	long long x = 0;
	if (n == 0 || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	return x;
}

static const char *const outcome_words[] = {
    [CTL_OUTCOME_PENDING] = "pending",     [CTL_OUTCOME_ANSWERED] = "answered",
    [CTL_OUTCOME_CONNECTED] = "connected", [CTL_OUTCOME_RESET] = "reset",
    [CTL_OUTCOME_ICMP] = "icmp",           [CTL_OUTCOME_TLS_FAILED] = "tls-failed",
    [CTL_OUTCOME_TIMEOUT] = "timeout",     [CTL_OUTCOME_ERROR] = "error",
    [CTL_OUTCOME_CANCELLED] = "cancelled", [CTL_OUTCOME_DNS] = "dns",
};

static enum ctl_outcome outcome_of(const char *v, size_t n)
{
	for (size_t i = 1; i < sizeof(outcome_words) / sizeof(outcome_words[0]); i++)
		if (n == strlen(outcome_words[i]) && memcmp(v, outcome_words[i], n) == 0)
			return (enum ctl_outcome)i;
	return CTL_OUTCOME_UNKNOWN;
}

/* One "key: value" line into f; true when it was the outcome. */
static bool flow_line(const char *p, size_t n, struct ctl_flow *f)
{
	const char *sep = memchr(p, ':', n);
	if (!sep || (size_t)(sep - p) + 1 >= n || sep[1] != ' ')
		return false;
	size_t kn = (size_t)(sep - p);
	const char *v = sep + 2;
	size_t vn = n - kn - 2;
#define KEY(k) (kn == sizeof(k) - 1 && memcmp(p, k, kn) == 0)
	if (KEY("id"))
		f->id = number(v, vn);
	else if (KEY("kind"))
		field_set(f->kind, sizeof(f->kind), v, vn);
	else if (KEY("dialect"))
		field_set(f->dialect, sizeof(f->dialect), v, vn);
	else if (KEY("target"))
		field_set(f->target, sizeof(f->target), v, vn);
	else if (KEY("source"))
		field_set(f->source, sizeof(f->source), v, vn);
	else if (KEY("icmp-type"))
		f->icmp_type = (int)(number(v, vn) > 255 ? -1 : number(v, vn));
	else if (KEY("icmp-code"))
		f->icmp_code = (int)(number(v, vn) > 255 ? -1 : number(v, vn));
	else if (KEY("icmp-from"))
		field_set(f->icmp_from, sizeof(f->icmp_from), v, vn);
	else if (KEY("detail"))
		field_set(f->detail, sizeof(f->detail), v, vn);
	else if (KEY("dns-name"))
		field_set(f->dns_name, sizeof(f->dns_name), v, vn);
	else if (KEY("outcome")) {
		field_set(f->outcome_word, sizeof(f->outcome_word), v, vn);
		f->outcome = outcome_of(v, vn);
		return true;
	}
#undef KEY
	return false;
}

int ctl_flow_parse(const char *text, size_t len, struct ctl_flow *f)
{
	bool have_outcome = false;
	memset(f, 0, sizeof(*f));
	f->id = f->icmp_type = f->icmp_code = -1;
	const char *p = text, *line, *end = text ? text + len : NULL;
	size_t n;
	while ((line = text_line(&p, end, &n)))
		have_outcome |= flow_line(line, n, f);
	return have_outcome ? 0 : EBADMSG;
}

/* ---- canary hits ---- */

/* The next space-separated word of line; its length, 0 at the end. */
static size_t word(const char **p, const char *end, const char **w)
{
	while (*p < end && **p == ' ')
		(*p)++;
	*w = *p;
	while (*p < end && **p != ' ')
		(*p)++;
	return (size_t)(*p - *w);
}

int ctl_hit_parse(const char *line, size_t len, struct ctl_hit *h)
{
	const char *p = line, *end = line + len, *w[6];
	size_t n[6];
	memset(h, 0, sizeof(*h));
	if (!line || len < 5 || memcmp(line, "hit: ", 5) != 0)
		return EBADMSG;
	p += 5;
	for (int i = 0; i < 6; i++)
		if (!(n[i] = word(&p, end, &w[i])))
			return EBADMSG;
	const char *rest;
	if (word(&p, end, &rest)) /* more words: not this format */
		return EBADMSG;
	long long id = number(w[0], n[0]), port = number(w[2], n[2]), ms = number(w[4], n[4]);
	if (id < 0 || port < 0 || port > 65535 || ms < 0 || n[1] >= sizeof(h->proto) ||
	    n[3] >= sizeof(h->source) || n[5] < 8 || memcmp(w[5], "marker=", 7) != 0)
		return EBADMSG;
	const char *m = w[5] + 7;
	size_t mn = n[5] - 7;
	if (mn >= sizeof(h->marker))
		return EBADMSG;
	for (size_t i = 0; i < mn; i++)
		if (!rows_marker_char((unsigned char)m[i]))
			return EBADMSG;
	h->id = (unsigned long long)id;
	h->port = (unsigned)port;
	h->ms = (unsigned long long)ms;
	field_set(h->proto, sizeof(h->proto), w[1], n[1]);
	field_set(h->source, sizeof(h->source), w[3], n[3]);
	if (!(mn == 1 && m[0] == '-'))
		field_set(h->marker, sizeof(h->marker), m, mn);
	return 0;
}

int ctl_hits_find(const char *text, size_t len, const char *marker, struct ctl_hit *h)
{
	const char *p = text, *line, *end = text ? text + len : NULL;
	size_t n;
	while ((line = text_line(&p, end, &n)))
		if (ctl_hit_parse(line, n, h) == 0 && h->marker[0] &&
		    strcmp(h->marker, marker) == 0)
			return 0;
	memset(h, 0, sizeof(*h));
	return ENOENT;
}

bool ctl_canary_listens(const char *text, size_t len, const char *proto, unsigned port)
{
	const char *p = text, *line, *end = text ? text + len : NULL;
	size_t n, plen = strlen(proto);
	while ((line = text_line(&p, end, &n))) {
		const char *q = line, *qend = line + n, *w;
		size_t wn;
		if (n < 11 || memcmp(line, "listening: ", 11) != 0)
			continue;
		q += 11;
		wn = word(&q, qend, &w);
		if (wn != plen || memcmp(w, proto, plen) != 0)
			continue;
		while ((wn = word(&q, qend, &w)))
			if (number(w, wn) == (long long)port)
				return true;
	}
	return false;
}
