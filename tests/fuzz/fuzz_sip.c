/* libFuzzer target for the SIP input path: the input is a TLS stream's
 * plaintext. It is framed with sip_frame_next the way sipfront/conn.c does,
 * and each message goes through sipmsg_decode, sipmsg_validate and the
 * helpers. Invariants are checked with abort(); ASan/UBSan catch overreads
 * and LeakSanitizer anything not mem_deref'd. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sipfront/frame.h"
#include "sipfront/sipmsg.h"
#include "tests/fuzz/fuzz.h"

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

	/* TODO(lead): the routing decision (sipfront's proxy) goes here, on
	 * messages that validate, once the proxy exists. */
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
