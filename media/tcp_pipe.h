/* The TCP relay's data path (RFC 6062 section 5.5): two bufferevents joined
 * so that what one reads the other writes. Each direction is bounded: reading
 * stops while more than TCP_PIPE_MAX bytes wait to be written on the other
 * side and resumes once that drops under TCP_PIPE_MAX / 4, so a slow reader
 * slows its sender down instead of growing a buffer without limit. */
#ifndef EDGELAB_MEDIA_TCP_PIPE_H
#define EDGELAB_MEDIA_TCP_PIPE_H

#include <event2/bufferevent.h>
#include <stdint.h>

#define TCP_PIPE_MAX ((size_t)256 * 1024)

struct tcp_pipe;

/* Called once, when either side closes or fails; the owner then frees the
 * pipe and both bufferevents. */
typedef void(tcp_pipe_closed_h)(struct tcp_pipe *p, void *arg);

/* Takes over a's and b's callbacks (and clears their timeouts); bytes already
 * read on either side are passed on at once. 0 or ENOMEM. */
int tcp_pipe_join(struct tcp_pipe **pp, struct bufferevent *a, struct bufferevent *b,
                  tcp_pipe_closed_h *closed, void *arg);
/* Bytes carried so far, a to b and b to a. */
void tcp_pipe_counts(const struct tcp_pipe *p, uint64_t *a_to_b, uint64_t *b_to_a);
/* Frees the pipe only (not the bufferevents, whose callbacks it clears). */
void tcp_pipe_free(struct tcp_pipe *p);

#endif
