/* Inside the control module: what the edge sends on the outbound media
 * flows (rows 4, 5 and strict-tcp), and what row 5's answer says. Pure
 * functions over buffers (randomness aside); no I/O, no logging. */
#ifndef EDGELAB_CONTROL_PAYLOAD_H
#define EDGELAB_CONTROL_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "stun/stun.h"

#define PAYLOAD_RTP_PACKETS 3

/* Row 5: a Binding request in that dialect carrying the marker; its
 * transaction id in tid. 0 or an errno. */
int payload_stun_request(const char *marker, enum stun_dialect dialect, uint8_t tid[STUN_TID_LEN],
                         uint8_t *buf, size_t cap, size_t *len);
/* Row 4: PAYLOAD_RTP_PACKETS RTP packets framed per RFC 4571, each carrying
 * the marker. 0 or an errno. */
int payload_rtp_stream(const char *marker, uint8_t *buf, size_t cap, size_t *len);
/* Strict-tcp: the marker line "edgelab marker=TEXT\n". 0 or ENOSPC. */
int payload_marker_line(const char *marker, uint8_t *buf, size_t cap, size_t *len);
/* What row 5's answer says ("answered: Binding success, mapped ..."). */
void payload_stun_answer(const uint8_t tid[STUN_TID_LEN], enum stun_dialect dialect,
                         const uint8_t *reply, size_t reply_len, char *out, size_t cap);

#endif
