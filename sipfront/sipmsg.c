/* SIP message decoding and the checks a stateless proxy makes before it
 * acts (RFC 3261 sections 8.2 and 16.3), over libre 1.1.0's sip_msg_decode.
 *
 * libre identifies a header by a 12-bit hash of its name (hash_joaat_ci &
 * 0xfff), not by the name itself, so an extension header whose hash equals
 * a header libre parses is parsed as that header: Lync's
 * ms-client-diagnostics hashes like To, so libre either refuses the message
 * (the value is no address) or takes it as the To. sipmsg_decode therefore
 * hides such names from libre (they read "x-..." during the decode, which
 * libre never hashes) and restores them afterwards; sipmsg_validate rejects
 * any collision that still got through. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "sipfront/frame.h"
#include "sipfront/sipmsg.h"

#define SIPMSG_MASK_MAX  16         /* colliding names hidden per message */
#define SIPMSG_CSEQ_MAX  0x7fffffff /* RFC 3261 section 8.1.1.5: < 2^31 */
#define SIPMSG_HASH_MASK 0xfff      /* libre's header id: the hash's low 12 bits */

/* The headers libre's decoder parses or splits by id, with their names. */
static const struct sipmsg_known {
	enum sip_hdrid id;
	const char *name;
	char compact; /* RFC 3261 section 7.3.3, or 0 */
} sipmsg_known[] = {
    {SIP_HDR_VIA, "Via", 'v'},
    {SIP_HDR_ROUTE, "Route", 0},
    {SIP_HDR_TO, "To", 't'},
    {SIP_HDR_FROM, "From", 'f'},
    {SIP_HDR_CALL_ID, "Call-ID", 'i'},
    {SIP_HDR_CSEQ, "CSeq", 0},
    {SIP_HDR_MAX_FORWARDS, "Max-Forwards", 0},
    {SIP_HDR_CONTENT_TYPE, "Content-Type", 'c'},
    {SIP_HDR_CONTENT_LENGTH, "Content-Length", 'l'},
    {SIP_HDR_EXPIRES, "Expires", 0},
};

#define SIPMSG_NKNOWN (sizeof(sipmsg_known) / sizeof(sipmsg_known[0]))

/* Names hidden from libre during one decode, to put back afterwards. */
struct sipmsg_mask {
	size_t n;
	size_t off[SIPMSG_MASK_MAX];
	uint8_t orig[SIPMSG_MASK_MAX][2];
};

static const struct sipmsg_known *sipmsg_known_id(enum sip_hdrid id)
{
	size_t i;

	for (i = 0; i < SIPMSG_NKNOWN; i++) {
		if (sipmsg_known[i].id == id)
			return &sipmsg_known[i];
	}
	return NULL;
}

/* Whether the name p[0..len) is the known header's own, long or compact. */
static bool sipmsg_known_name(const struct sipmsg_known *k, const char *p, size_t len)
{
	if (len == 1)
		return k->compact != 0 && (p[0] | 0x20) == k->compact;
	return len == strlen(k->name) && strncasecmp(p, k->name, len) == 0;
}

/* A name of two or more bytes that libre would take for one it parses. One
 * byte names are compact forms, which libre maps by letter. */
static bool sipmsg_collides(const char *p, size_t len)
{
	const struct sipmsg_known *k;

	if (len < 2 || ((p[0] | 0x20) == 'x' && p[1] == '-'))
		return false;
	k = sipmsg_known_id((enum sip_hdrid)(hash_joaat_ci(p, len) & SIPMSG_HASH_MASK));
	return k != NULL && !sipmsg_known_name(k, p, len);
}

/* The header name of the line at p[0..end): as libre reads it, from the
 * first non-blank byte to the colon, trailing blanks dropped. */
static size_t sipmsg_line_name(const char *p, size_t end, size_t *start)
{
	const char *colon;
	size_t s = 0, e;

	while (s < end && (p[s] == ' ' || p[s] == '\t'))
		s++;
	colon = memchr(p + s, ':', end - s);
	if (colon == NULL)
		return 0;
	e = (size_t)(colon - p);
	while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t'))
		e--;
	*start = s;
	return e - s;
}

/* Hides colliding names in buf (a copy that libre decodes) as "x-...".
 * Walks the lines up to the first empty one; a line that starts with a
 * blank continues the previous header (RFC 3261 section 7.3.1), except
 * right after the start line, where libre reads it as a header. */
static int sipmsg_mask_apply(struct sipmsg_mask *m, uint8_t *buf, size_t len)
{
	const uint8_t *nl = memchr(buf, '\n', len);
	size_t pos = nl ? (size_t)(nl - buf) + 1 : len;
	bool first = true;

	m->n = 0;
	while (pos < len && buf[pos] != '\r' && buf[pos] != '\n') {
		const char *line = (const char *)buf + pos;
		size_t end, start = 0, nlen;

		nl = memchr(buf + pos, '\n', len - pos);
		end = nl ? (size_t)(nl - buf) - pos : len - pos;
		nlen = (first || (line[0] != ' ' && line[0] != '\t'))
		           ? sipmsg_line_name(line, end, &start)
		           : 0;
		if (nlen > 0 && sipmsg_collides(line + start, nlen)) {
			if (m->n == SIPMSG_MASK_MAX)
				return EBADMSG;
			m->off[m->n] = pos + start;
			memcpy(m->orig[m->n], buf + pos + start, 2);
			memcpy(buf + pos + start, "x-", 2);
			m->n++;
		}
		first = false;
		pos += end + 1;
	}
	return 0;
}

static void sipmsg_mask_restore(const struct sipmsg_mask *m, uint8_t *buf)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		memcpy(buf + m->off[i], m->orig[i], 2);
}

int sipmsg_decode(struct sip_msg **msgp, const uint8_t *buf, size_t len)
{
	struct sipmsg_mask mask;
	struct mbuf *mb;
	int err;

	if (msgp == NULL || buf == NULL)
		return EINVAL;
	if (len == 0 || len > SIP_FRAME_MAX)
		return EBADMSG;
	mb = mbuf_alloc(len);
	if (mb == NULL)
		return ENOMEM;
	err = mbuf_write_mem(mb, buf, len);
	if (err)
		goto out;
	mb->pos = 0;
	err = sipmsg_mask_apply(&mask, mb->buf, len);
	if (err)
		goto out;
	/* libre returns EBADMSG, ENODATA (no end of headers) or the ENOENT /
	 * EINVAL of a header's own parser: all mean "refused". */
	err = sip_msg_decode(msgp, mb);
	sipmsg_mask_restore(&mask, mb->buf);
	if (err && err != ENOMEM)
		err = EBADMSG;
out:
	mem_deref(mb); /* a decoded message holds its own reference */
	return err;
}

/* An unsigned decimal that is the whole of pl, at most max. libre's pl_u32
 * wraps around on overflow, so numbers that matter are parsed here. */
static int sipmsg_uint(const struct pl *pl, uint32_t max, uint32_t *value)
{
	uint64_t v = 0;
	size_t i;

	if (pl == NULL || pl->p == NULL || pl->l == 0 || pl->l > 10)
		return EBADMSG;
	for (i = 0; i < pl->l; i++) {
		if (pl->p[i] < '0' || pl->p[i] > '9')
			return EBADMSG;
		v = v * 10 + (uint64_t)(pl->p[i] - '0');
	}
	if (v > max)
		return EBADMSG;
	*value = (uint32_t)v;
	return 0;
}

int sipmsg_max_forwards(const struct sip_msg *msg, int *value)
{
	const struct sip_hdr *hdr;
	uint32_t v;

	if (msg == NULL || value == NULL)
		return EINVAL;
	hdr = sip_msg_hdr(msg, SIP_HDR_MAX_FORWARDS);
	if (hdr == NULL)
		return ENOENT;
	if (sipmsg_uint(&hdr->val, 255, &v) != 0)
		return EBADMSG;
	*value = (int)v;
	return 0;
}

bool sipmsg_has_header(const struct sip_msg *msg, const char *name)
{
	struct le *le;

	if (msg == NULL || name == NULL)
		return false;
	/* the lines, not sip_msg_xhdr: a name hidden from libre's hash by
	 * sipmsg_decode sits in another hash bucket than its own name's */
	for (le = list_head(&msg->hdrl); le != NULL; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		if (pl_strcasecmp(&hdr->name, name) == 0)
			return true;
	}
	return false;
}

int sipmsg_pl_copy(char *buf, size_t size, const struct pl *pl)
{
	const char *nul;
	size_t n;

	if (buf == NULL || size == 0)
		return EINVAL;
	buf[0] = '\0';
	if (pl == NULL || pl->p == NULL)
		return 0;
	nul = memchr(pl->p, '\0', pl->l);
	n = nul != NULL ? (size_t)(nul - pl->p) : pl->l;
	if (n >= size) {
		memcpy(buf, pl->p, size - 1);
		buf[size - 1] = '\0';
		return ENOSPC;
	}
	memcpy(buf, pl->p, n);
	buf[n] = '\0';
	return nul != NULL ? EBADMSG : 0;
}

/* Section 8.1.1: From, To, Call-ID and CSeq appear exactly once. */
static const char *sipmsg_check_once(const struct sip_msg *msg)
{
	static const struct {
		enum sip_hdrid id;
		const char *missing, *dup;
	} once[] = {
	    {SIP_HDR_FROM, "Missing From", "Duplicate From"},
	    {SIP_HDR_TO, "Missing To", "Duplicate To"},
	    {SIP_HDR_CALL_ID, "Missing Call-ID", "Duplicate Call-ID"},
	    {SIP_HDR_CSEQ, "Missing CSeq", "Duplicate CSeq"},
	};
	size_t i;

	for (i = 0; i < sizeof(once) / sizeof(once[0]); i++) {
		uint32_t n = sip_msg_hdr_count(msg, once[i].id);

		if (n == 0)
			return once[i].missing;
		if (n > 1)
			return once[i].dup;
	}
	if (msg->callid.l == 0)
		return "Missing Call-ID";
	return NULL;
}

/* Bounds first (they cap the work of every later check), then names that
 * libre may have mistaken for a header it parses. */
static const char *sipmsg_check_limits(const struct sip_msg *msg)
{
	struct le *le;

	if (list_count(&msg->hdrl) > SIPMSG_HEADERS_MAX)
		return "Too many headers";
	if (sip_msg_hdr_count(msg, SIP_HDR_VIA) > SIPMSG_VIA_MAX)
		return "Too many Via headers";
	for (le = list_head(&msg->hdrl); le != NULL; le = le->next) {
		const struct sip_hdr *hdr = le->data;
		const struct sipmsg_known *k = sipmsg_known_id(hdr->id);

		if (k != NULL && !sipmsg_known_name(k, hdr->name.p, hdr->name.l))
			return "Ambiguous header name";
		/* libre parses only the first Via; a proxy passes on every one,
		 * and after the edge's own is removed the next one leads. */
		struct sip_via via;
		if (hdr->id == SIP_HDR_VIA &&
		    (sip_via_decode(&via, &hdr->val) != 0 || hdr->val.l == 0 ||
		     !isalpha((unsigned char)hdr->val.p[0])))
			return "Malformed Via";
		/* RFC 3261 section 25.1: a header name is a token; what the edge
		 * passes on must parse again downstream. */
		for (size_t i = 0; i < hdr->name.l; i++)
			if (!isalnum((unsigned char)hdr->name.p[i]) &&
			    !strchr("-.!%*_+`'~", hdr->name.p[i]))
				return "Malformed header name";
	}
	return NULL;
}

/* Section 7.2: Status-Code is 3DIGIT, 100..699 (21). libre keeps only a
 * uint16_t of its wrapping pl_u32, so the digits are read again from the
 * status line, right after the version and its single space. */
static const char *sipmsg_check_status(const struct sip_msg *msg)
{
	const char *p = msg->ver.p + msg->ver.l + 1;
	struct pl code = {p, 3};
	uint32_t v;

	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9' ||
	    p[3] != ' ')
		return "Bad status code";
	if (sipmsg_uint(&code, 699, &v) != 0 || v < 100 || v != msg->scode)
		return "Bad status code";
	return NULL;
}

/* Section 8.1.1.5: the CSeq number is below 2^31 (libre's num wraps); in a
 * request, its method is the request's, compared case-sensitively (7.1). */
static const char *sipmsg_check_cseq(const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_CSEQ);
	struct pl num = hdr->val;
	uint32_t v;

	num.l = 0;
	while (num.l < hdr->val.l && hdr->val.p[num.l] >= '0' && hdr->val.p[num.l] <= '9')
		num.l++;
	if (sipmsg_uint(&num, SIPMSG_CSEQ_MAX, &v) != 0)
		return "Bad CSeq";
	if (msg->req && pl_cmp(&msg->cseq.met, &msg->met) != 0)
		return "CSeq method mismatch";
	return NULL;
}

static bool sipmsg_clen_differs(const struct sip_hdr *hdr, const struct sip_msg *msg, void *arg)
{
	uint32_t v;

	(void)arg;
	return sipmsg_uint(&hdr->val, SIP_FRAME_BODY_MAX, &v) != 0 ||
	       (size_t)v != mbuf_get_left(msg->mb);
}

/* Section 20.22: at most one Max-Forwards, 0..255. Section 18.3: every
 * Content-Length equals the body libre sees (the bytes after its end of
 * headers): a guard against the framer and libre disagreeing. */
static const char *sipmsg_check_lengths(const struct sip_msg *msg)
{
	int mf;

	if (sip_msg_hdr_count(msg, SIP_HDR_MAX_FORWARDS) > 1)
		return "Duplicate Max-Forwards";
	if (sipmsg_max_forwards(msg, &mf) == EBADMSG)
		return "Bad Max-Forwards";
	if (sip_msg_hdr(msg, SIP_HDR_CONTENT_LENGTH) == NULL)
		return "Missing Content-Length";
	if (sip_msg_hdr_apply(msg, true, SIP_HDR_CONTENT_LENGTH, sipmsg_clen_differs, NULL))
		return "Content-Length mismatch";
	return NULL;
}

int sipmsg_validate(const struct sip_msg *msg, const char **why)
{
	const char *r;

	if (msg == NULL || why == NULL)
		return EINVAL;
	*why = NULL;
	r = sipmsg_check_limits(msg);
	if (r == NULL && pl_strcasecmp(&msg->ver, "SIP/2.0") != 0)
		r = "Unsupported SIP version"; /* section 7.1 */
	if (r == NULL && !msg->req)
		r = sipmsg_check_status(msg);
	if (r == NULL && sip_msg_hdr(msg, SIP_HDR_VIA) == NULL)
		r = "Missing Via"; /* section 8.1.1.7; responses route by it */
	if (r == NULL)
		r = sipmsg_check_once(msg);
	if (r == NULL)
		r = sipmsg_check_cseq(msg);
	if (r == NULL)
		r = sipmsg_check_lengths(msg);
	*why = r;
	return r == NULL ? 0 : EBADMSG;
}

bool sipmsg_pl_eq(const struct pl *pl, const char *s)
{
	return pl->l == strlen(s) && strncasecmp(pl->p, s, pl->l) == 0;
}
