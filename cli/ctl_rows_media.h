/* The control API's triggers for the outbound media rows:
 *
 *   POST /rows/4?target=IP:PORT&marker=TEXT   RTP over TCP (RFC 4571 framing)
 *   POST /rows/5?target=IP[:PORT]&marker=TEXT[&dialect=rfc5389|msturn]
 *                                              a STUN Binding request over UDP
 *
 * Both leave from a port of the relay pool (the edge's source ports
 * 50000-59999) and carry ROWS_MARKER_PREFIX TEXT ("edgelab marker=TEXT",
 * core/rows.h): row 5 in RFC 5389 (the default) in the request's SOFTWARE
 * attribute, row 5 in MS-TURN (dialect=msturn), which has no SOFTWARE, in
 * USERNAME; row 4 as the payload of each RTP packet. TEXT is
 * 1-ROWS_MARKER_MAX (64) of A-Z a-z 0-9 . _ ~ - (it travels in a URL). Row
 * 5's port defaults to 3478. Answers, each with a one-line text body: 202
 * sent (row 5) or connecting (row 4), naming the source port; 400 a bad
 * query (also a dialect other than rfc5389 or msturn, or one on row 4); 405
 * not a POST; 503 no pool port free, too many flows in flight, or a socket
 * error. How each flow ended is logged ("row 5: MS-TURN/UDP from port ..."
 * for the MS-TURN request). */
#ifndef EDGELAB_CLI_CTL_ROWS_MEDIA_H
#define EDGELAB_CLI_CTL_ROWS_MEDIA_H

#include <event2/event.h>
#include <sys/socket.h>

#include "core/control.h"
#include "media/originate.h"
#include "media/portpool.h"

#define CTL_ROWS_MEDIA_RTP_PACKETS 3
#define CTL_ROWS_MEDIA_WAIT_MS     3000 /* per flow: connect, answer, the client's close */

/* Filled by the caller (base, pool, bind_addr) and owned by it; it must
 * outlive the control API. bind_addr is the edge's access address (any
 * port; a wildcard lets the kernel choose). */
struct ctl_rows_media {
	struct event_base *base;
	struct port_pool *pool;
	struct sockaddr_storage bind_addr;
	struct originator *orig; /* private: made by register, freed by close */
};

/* Routes /rows/4 and /rows/5 to ctx. 0, EINVAL or ENOMEM. */
int ctl_rows_media_register(struct control *ctl, struct ctl_rows_media *ctx);
/* Ends the flows in flight and gives their ports back; call after
 * control_free. Safe on a zeroed or half-registered ctx. */
void ctl_rows_media_close(struct ctl_rows_media *ctx);

#endif
