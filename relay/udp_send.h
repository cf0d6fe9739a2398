/* Sending a batch of datagrams on one UDP socket: sendmmsg, and with GSO
 * (UDP_SEGMENT, Linux 4.18, udp(7)) runs of equal datagrams to one address
 * as one send that the kernel, or the NIC, cuts into the same datagrams. */
#ifndef EDGELAB_RELAY_UDP_SEND_H
#define EDGELAB_RELAY_UDP_SEND_H

#include <stdbool.h>
#include <sys/socket.h>

/* A run holds at most this many datagrams (the kernel's UDP_MAX_SEGMENTS
 * is 64 before Linux 6.9, 128 since) and this many bytes (a UDP payload
 * is at most 65,507 bytes over IPv4). */
#define UDP_GSO_SEGMENTS_MAX 64
#define UDP_GSO_BYTES_MAX    65000

/* Sends msgs[0..n) on fd (non-blocking); each message has one iovec, and a
 * control of at most one pktinfo.
 * gso: consecutive messages to the same address, with the same control,
 * the same length (the last of a run may be shorter, none empty) and
 * iovecs consecutive in one array, go as one UDP_SEGMENT send. A run that
 * fails (the kernel refuses GSO for a route's MTU or a missing checksum
 * offload; the send buffer has no room for it whole) goes again datagram
 * by datagram.
 * An ICMP error an earlier datagram left on the socket fails the next send;
 * that send is tried once more.
 * Returns how many datagrams the kernel refused; *coalesced (may be NULL)
 * gets how many went out in UDP_SEGMENT runs the kernel took. */
unsigned udp_send_batch(int fd, struct mmsghdr *msgs, unsigned n, bool gso, unsigned *coalesced);

/* 0 when the kernel takes UDP_SEGMENT on fd (Linux 4.18), else errno. */
int udp_gso_check(int fd);

/* Whether a send's errno is one an ICMP message sets on a socket with
 * IP_RECVERR: an earlier datagram's, reported by the next send. */
bool udp_icmp_errno(int e);

#endif
