/* What the outbound media flows carry (control/payload.h). */
#include "control/payload.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/addr.h"
#include "core/rows.h"
#include "media/rtp.h"

#define RTP_PT_DYNAMIC 96  /* no SDP binds it: the payload is text */
#define RTP_TS_STEP    160 /* 20 ms at 8 kHz, as if it were audio */

/* Row 5: a Binding request with the marker in the dialect's one free-text
 * attribute a request may carry without credentials, which every STUN
 * decoder shows:
 *   rfc5389  SOFTWARE (RFC 5389 section 15.10), then FINGERPRINT;
 *   msturn   USERNAME (0x0006): MS-TURN has no SOFTWARE (and no
 *            FINGERPRINT), and its USERNAME is opaque bytes, so a text marker
 *            there is well-formed; a Binding request needs no credentials,
 *            so nothing reads it as one. The MAGIC-COOKIE attribute comes
 *            first (stun_enc_init); the transaction id starts with
 *            0x2112A442, as Teams sends it.
 * Either way the value is ROWS_MARKER_PREFIX TEXT (core/rows.h). */
int payload_stun_request(const char *marker, enum stun_dialect dialect, uint8_t tid[STUN_TID_LEN],
                         uint8_t *buf, size_t cap, size_t *len)
{
	struct stun_enc enc;
	char text[sizeof(ROWS_MARKER_PREFIX) + ROWS_MARKER_MAX];
	uint32_t cookie = htonl(STUN_MAGIC_COOKIE);
	int n = snprintf(text, sizeof(text), "%s%s", ROWS_MARKER_PREFIX, marker);
	memcpy(tid, &cookie, 4);
	if (RAND_bytes(tid + 4, STUN_TID_LEN - 4) != 1)
		return EIO;
	stun_enc_init(&enc, buf, cap, dialect, stun_type(STUN_METHOD_BINDING, STUN_CLASS_REQUEST),
	              tid);
	if (dialect == STUN_DIALECT_MSTURN) {
		stun_enc_attr(&enc, STUN_ATTR_USERNAME, text, (size_t)n);
	} else {
		stun_enc_attr(&enc, STUN_ATTR_SOFTWARE, text, (size_t)n);
		stun_enc_fingerprint(&enc);
	}
	return stun_enc_finish(&enc, len);
}

/* Row 4: a short RTP stream (random SSRC, sequence and timestamp, RFC 3550
 * section 5.1), each packet's payload the marker text. */
int payload_rtp_stream(const char *marker, uint8_t *buf, size_t cap, size_t *len)
{
	char text[sizeof(ROWS_MARKER_PREFIX) + ROWS_MARKER_MAX];
	struct rtp_hdr h = {.marker = true, .pt = RTP_PT_DYNAMIC};
	int n = snprintf(text, sizeof(text), "%s%s", ROWS_MARKER_PREFIX, marker);
	if (RAND_bytes((unsigned char *)&h.seq, sizeof(h.seq)) != 1 ||
	    RAND_bytes((unsigned char *)&h.ts, sizeof(h.ts)) != 1 ||
	    RAND_bytes((unsigned char *)&h.ssrc, sizeof(h.ssrc)) != 1)
		return EIO;
	*len = 0;
	for (int i = 0; i < PAYLOAD_RTP_PACKETS; i++) {
		size_t flen;
		int rc = rtp_frame_encode(buf + *len, cap - *len, &h, text, (size_t)n, &flen);
		if (rc)
			return rc;
		*len += flen;
		h.marker = false; /* only the first packet of a talkspurt */
		h.seq++;
		h.ts += RTP_TS_STEP;
	}
	return 0;
}

int payload_marker_line(const char *marker, uint8_t *buf, size_t cap, size_t *len)
{
	int n = snprintf((char *)buf, cap, "%s%s\n", ROWS_MARKER_PREFIX, marker);
	if (n < 0 || (size_t)n >= cap)
		return ENOSPC;
	*len = (size_t)n;
	return 0;
}

/* What an answer to row 5's request says, for the log: the mapped address
 * from the dialect's attribute (RFC 5389's XOR-MAPPED-ADDRESS; MS-TURN's
 * 0x8020, else its MAPPED-ADDRESS). */
void payload_stun_answer(const uint8_t tid[STUN_TID_LEN], enum stun_dialect dialect,
                         const uint8_t *reply, size_t reply_len, char *out, size_t cap)
{
	struct stun_msg msg;
	struct sockaddr_storage mapped;
	char where[ADDR_STR_MAX];
	const struct stun_attr *x = NULL, *plain = NULL;
	bool ms;
	if (stun_msg_decode(&msg, reply, reply_len) || memcmp(msg.tid, tid, STUN_TID_LEN) != 0) {
		snprintf(out, cap, "answered, but not with STUN for our transaction");
		return;
	}
	if (msg.dialect != dialect) {
		snprintf(out, cap, "answered, but in the %s dialect",
		         stun_dialect_name(msg.dialect));
		return;
	}
	ms = msg.dialect == STUN_DIALECT_MSTURN;
	if (msg.cls == STUN_CLASS_SUCCESS) {
		x = stun_msg_attr(&msg, ms ? STUN_MSATTR_XOR_MAPPED_ADDRESS
		                           : STUN_ATTR_XOR_MAPPED_ADDRESS);
		plain = ms ? stun_msg_attr(&msg, STUN_MSATTR_MAPPED_ADDRESS) : NULL;
	}
	if ((x && stun_attr_xor_addr(&msg, x, &mapped) == 0) ||
	    (!x && plain && stun_attr_addr(plain, &mapped) == 0))
		snprintf(out, cap, "answered: Binding success, mapped %s",
		         addr_str((struct sockaddr *)&mapped, where, sizeof(where)));
	else
		snprintf(out, cap, "answered: %s",
		         msg.cls == STUN_CLASS_ERROR     ? "an error response"
		         : msg.cls == STUN_CLASS_SUCCESS ? "Binding success"
		                                         : "not a response");
}
