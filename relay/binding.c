#include "relay/binding.h"

#include <string.h>

/* Attributes a Binding request may carry that we understand (or knowingly
 * ignore) in each dialect; any other comprehension-required one gets 420
 * (RFC 5389 section 7.3.1). */
static bool known_in_request(enum stun_dialect d, uint16_t type)
{
	switch (type) {
	case STUN_ATTR_USERNAME:
	case STUN_ATTR_MESSAGE_INTEGRITY: /* no short-term credentials here: ignored */
	case STUN_ATTR_PRIORITY:
	case STUN_ATTR_USE_CANDIDATE:
	case STUN_ATTR_PADDING:
		return true;
	case STUN_ATTR_CHANGE_REQUEST:
	case STUN_ATTR_RESPONSE_ADDRESS:
	case STUN_ATTR_PASSWORD:
		return d == STUN_DIALECT_CLASSIC || d == STUN_DIALECT_RFC5389;
	case STUN_MSATTR_MAGIC_COOKIE:
		return d == STUN_DIALECT_MSTURN;
	default:
		return false;
	}
}

static uint16_t reply_type(enum stun_class cls)
{
	return stun_type(STUN_METHOD_BINDING, cls);
}

static void add_trailer(struct stun_enc *enc, const struct stun_msg *req,
                        const struct binding_opts *opts)
{
	if (req->dialect == STUN_DIALECT_MSTURN)
		return; /* MS-TURN has neither SOFTWARE nor FINGERPRINT */
	if (req->dialect == STUN_DIALECT_RFC5389 && opts->software && opts->software[0])
		stun_enc_attr(enc, STUN_ATTR_SOFTWARE, opts->software, strlen(opts->software));
	/* RFC 5389 section 7.3: a FINGERPRINT in the request asks for one back. */
	if (req->dialect == STUN_DIALECT_RFC5389 && stun_msg_attr(req, STUN_ATTR_FINGERPRINT))
		stun_enc_fingerprint(enc);
}

static void encode_success(struct stun_enc *enc, const struct stun_msg *req,
                           const struct sockaddr *src, const struct sockaddr *local)
{
	switch (req->dialect) {
	case STUN_DIALECT_RFC5389:
		stun_enc_xor_addr(enc, STUN_ATTR_XOR_MAPPED_ADDRESS, src);
		stun_enc_addr(enc, STUN_ATTR_MAPPED_ADDRESS, src);
		break;
	case STUN_DIALECT_CLASSIC:
		/* RFC 3489 section 11.2: MAPPED, SOURCE and CHANGED-ADDRESS. With a
		 * single address CHANGED-ADDRESS is our own; CHANGE-REQUEST is
		 * refused upstream, so clients never see a false "changed" reply. */
		stun_enc_addr(enc, STUN_ATTR_MAPPED_ADDRESS, src);
		stun_enc_addr(enc, STUN_ATTR_SOURCE_ADDRESS, local);
		stun_enc_addr(enc, STUN_ATTR_CHANGED_ADDRESS, local);
		break;
	case STUN_DIALECT_MSTURN:
		/* In a Binding answer MAPPED-ADDRESS is the reflexive address; 0x8020
		 * is Microsoft's XOR-MAPPED-ADDRESS. */
		stun_enc_addr(enc, STUN_MSATTR_MAPPED_ADDRESS, src);
		stun_enc_xor_addr(enc, STUN_MSATTR_XOR_MAPPED_ADDRESS, src);
		break;
	}
}

/* Collects unknown comprehension-required attributes; returns how many. */
static size_t find_unknown(const struct stun_msg *req, uint16_t *types, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < req->nattrs && n < max; i++) {
		uint16_t t = req->attrs[i].type;
		if (stun_attr_comprehension_required(t) && !known_in_request(req->dialect, t))
			types[n++] = t;
	}
	return n;
}

static bool change_requested(const struct stun_msg *req)
{
	uint32_t flags;
	const struct stun_attr *a = stun_msg_attr(req, STUN_ATTR_CHANGE_REQUEST);
	if (!a || req->dialect == STUN_DIALECT_MSTURN)
		return false;
	return stun_attr_u32(a, &flags) || (flags & 0x6u);
}

/* Whether a request of another method may get a 400. In MS-TURN only
 * Allocate and Set Active Destination have error responses: a Send request
 * gets none, and other methods' error types collide with the Data
 * indication (0x0115), so they are dropped instead. */
static bool error_reply_allowed(const struct stun_msg *req)
{
	if (req->dialect != STUN_DIALECT_MSTURN)
		return true;
	return req->method == STUN_METHOD_ALLOCATE ||
	       req->method == STUN_MSTURN_METHOD_SET_ACTIVE_DEST;
}

/* Decides the outcome; returns false when the request is to be dropped. */
static bool classify(const struct stun_msg *req, struct binding_outcome *oc, uint16_t *unknown,
                     size_t *n_unknown)
{
	if (req->cls != STUN_CLASS_REQUEST) {
		oc->drop = METRIC_DROP_NOT_REQUEST;
		return false;
	}
	if (stun_msg_attr(req, STUN_ATTR_FINGERPRINT) && req->dialect != STUN_DIALECT_MSTURN &&
	    stun_msg_check_fingerprint(req)) {
		oc->drop = METRIC_DROP_FINGERPRINT;
		return false;
	}
	if (req->method != STUN_METHOD_BINDING) {
		if (!error_reply_allowed(req)) {
			oc->drop = METRIC_DROP_UNKNOWN_METHOD;
			return false;
		}
		oc->result = METRIC_STUN_BAD_REQUEST;
		return true;
	}
	*n_unknown = find_unknown(req, unknown, BINDING_UNKNOWN_MAX);
	if (*n_unknown) {
		oc->result = METRIC_STUN_UNKNOWN_ATTRIBUTE;
		return true;
	}
	if (change_requested(req)) {
		oc->drop = METRIC_DROP_CHANGE_REQUEST;
		return false;
	}
	oc->result = METRIC_STUN_SUCCESS;
	return true;
}

void binding_answer(const uint8_t *req_buf, size_t len, const struct sockaddr *src,
                    const struct sockaddr *local, const struct binding_opts *opts, uint8_t *out,
                    size_t cap, size_t *out_len, struct binding_outcome *oc)
{
	struct stun_msg req;

	*out_len = 0;
	memset(oc, 0, sizeof(*oc));
	if (!stun_is_message(req_buf, len)) {
		oc->drop = METRIC_DROP_NOT_STUN;
		return;
	}
	oc->dialect = stun_dialect_detect(req_buf, len);
	/* A datagram is one whole message: trailing bytes make it malformed
	 * (and could otherwise make the dialect seen here differ from the one
	 * the message is decoded in). */
	if (stun_msg_frame_len(req_buf, len) != len || stun_msg_decode(&req, req_buf, len)) {
		oc->drop = METRIC_DROP_MALFORMED;
		return;
	}
	binding_answer_msg(&req, src, local, opts, out, cap, out_len, oc);
}

void binding_answer_msg(const struct stun_msg *req, const struct sockaddr *src,
                        const struct sockaddr *local, const struct binding_opts *opts, uint8_t *out,
                        size_t cap, size_t *out_len, struct binding_outcome *oc)
{
	struct stun_enc enc;
	uint16_t unknown[BINDING_UNKNOWN_MAX];
	size_t n_unknown = 0;

	*out_len = 0;
	memset(oc, 0, sizeof(*oc));
	oc->dialect = req->dialect;
	if (!classify(req, oc, unknown, &n_unknown))
		return;

	if (oc->result == METRIC_STUN_SUCCESS) {
		stun_enc_init(&enc, out, cap, req->dialect, reply_type(STUN_CLASS_SUCCESS),
		              req->tid);
		encode_success(&enc, req, src, local);
	} else {
		/* A 400 to an unsupported method keeps the request's method. */
		uint16_t type = stun_type(req->method, STUN_CLASS_ERROR);
		stun_enc_init(&enc, out, cap, req->dialect, type, req->tid);
		if (n_unknown) {
			stun_enc_error(&enc, 420, "Unknown Attribute");
			stun_enc_unknown(&enc, unknown, n_unknown);
		} else {
			stun_enc_error(&enc, 400, "Bad Request");
		}
	}
	add_trailer(&enc, req, opts);
	if (stun_enc_finish(&enc, out_len) || *out_len > BINDING_REPLY_MAX) {
		*out_len = 0;
		oc->drop = METRIC_DROP_MALFORMED;
		return;
	}
	oc->answered = true;
}
