/* The frames a client of the federation A/V test's TCP variant writes,
 * nested for the inner layer (probe/fed_av_tcp_int.h). */
#include <errno.h>
#include <string.h>

#include "probe/fed_av_tcp_int.h"

int fed_av_tcp_wrap(const uint8_t *types, size_t depth, const uint8_t *in, size_t len, uint8_t *out,
                    size_t cap, size_t *out_len)
{
	size_t total = len + depth * MSTURN_FRAME_HDR;
	if (total > cap)
		return ENOSPC;
	/* The innermost frame's payload is in; each frame out holds the next. */
	for (size_t i = 0; i < depth; i++) {
		size_t payload = total - (i + 1) * MSTURN_FRAME_HDR;
		size_t max = types[i] == MSTURN_FRAME_CONTROL ? STUN_MAX_MSG_LEN : MSTURN_DATA_MAX;
		if (types[i] != MSTURN_FRAME_CONTROL && types[i] != MSTURN_FRAME_DATA)
			return EINVAL;
		if (!payload || payload > max)
			return EMSGSIZE;
		msturn_frame_header(out + i * MSTURN_FRAME_HDR, types[i], payload);
	}
	memcpy(out + depth * MSTURN_FRAME_HDR, in, len);
	*out_len = total;
	return 0;
}
