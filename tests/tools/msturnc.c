/* msturnc: a scriptable MS-TURN client (docs/msturn.md) for the soak and
 * the shell tests: one socket, UDP or TCP with MS-TURN's framing (0x02
 * control, 0x03 data), after the pseudo-TLS hello with -T. The requests
 * and the reading of answers are the probe's (probe/msturn_client.c). One
 * output line per command:
 *
 *   alloc           Allocate: 401, then signed ("alloc 401 200 relayed=...")
 *   send:ADDR:TEXT  Send to ADDR (no answer expected)
 *   sad:ADDR        Set Active Destination ("sad 200")
 *   raw:TEXT        data to the active destination: a data frame on TCP,
 *                   a datagram on UDP
 *   recv:TEXT       waits 2 s for TEXT: "recv data" (Data indication),
 *                   "recv raw" (data frame or datagram), or "recv timeout"
 *   delete          Allocate with LIFETIME 0
 *   sleep:N         waits N seconds
 *
 * Over UDP a request is sent again after 0.5, 1 and 2 s; code 0: no answer
 * (in 5.5 s on UDP, 2 s on TCP).
 * Exit 0 when every command ran, 2 on bad usage or a socket error. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"
#include "probe/fed_av_int.h"
#include "stun/msturn_frame.h"

struct client {
	int fd;
	bool tcp;
	struct stun_cred cred;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int send_all(int fd, const void *buf, size_t len)
{
	return send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : EIO;
}

/* A message to the server: framed on TCP (type 0x02 or 0x03). */
static int put(struct client *c, uint8_t type, const void *buf, size_t len)
{
	uint8_t hdr[MSTURN_FRAME_HDR];
	if (!c->tcp)
		return send_all(c->fd, buf, len);
	msturn_frame_header(hdr, type, len);
	return send_all(c->fd, hdr, sizeof(hdr)) || send_all(c->fd, buf, len) ? EIO : 0;
}

/* One message within ms: its length (0 on timeout or error), *type the
 * frame's (UDP: control when it decodes as STUN, else data). */
static size_t get(struct client *c, uint8_t *buf, size_t cap, int ms, uint8_t *type)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	if (poll(&p, 1, ms) <= 0)
		return 0;
	if (!c->tcp) {
		struct stun_msg m;
		ssize_t n = recv(c->fd, buf, cap, 0);
		if (n <= 0)
			return 0;
		*type =
		    stun_msg_decode(&m, buf, (size_t)n) ? MSTURN_FRAME_DATA : MSTURN_FRAME_CONTROL;
		return (size_t)n;
	}
	uint8_t hdr[MSTURN_FRAME_HDR];
	if (recv(c->fd, hdr, sizeof(hdr), MSG_WAITALL) != (ssize_t)sizeof(hdr))
		return 0;
	size_t len = (size_t)(hdr[2] << 8 | hdr[3]);
	*type = hdr[0];
	if (len > cap || recv(c->fd, buf, len, MSG_WAITALL) != (ssize_t)len)
		return 0;
	return len;
}

/* Sends req[0..len) and waits for its answer (other messages skipped): the
 * code (200 for a success), or 0. Over UDP sent again after 0.5, 1 and 2 s
 * (RFC 5389's RTO, doubled: a loaded server's socket may drop it); 2 s for
 * the last answer, or the only one on TCP. */
static int exchange(struct client *c, const uint8_t *req, size_t len,
                    const uint8_t tid[STUN_TID_LEN], struct msturn_req *q, struct msturn_answer *a)
{
	uint8_t buf[STUN_MAX_MSG_LEN], type;
	struct stun_msg m;
	for (int try = 0, wait = 500; try < (c->tcp ? 1 : 4); try++, wait *= 2) {
		if (put(c, MSTURN_FRAME_CONTROL, req, len))
			return 0;
		uint64_t end = now_ms() + (c->tcp || try == 3 ? 2000 : (unsigned)wait);
		size_t n = 1;
		for (uint64_t t; n && (t = now_ms()) < end;) {
			n = get(c, buf, sizeof(buf), (int)(end - t), &type);
			if (n && type == MSTURN_FRAME_CONTROL && !stun_msg_decode(&m, buf, n) &&
			    !memcmp(m.tid, tid, STUN_TID_LEN) &&
			    !msturn_answer_read(&m, q->method, &c->cred, a))
				return a->code ? a->code : 200;
		}
	}
	return 0;
}

/* A request and its answer, as exchange; a 401 or 438 is retried once
 * (with the nonce it taught). */
static int request(struct client *c, const char *name, struct msturn_req *q,
                   struct msturn_answer *a)
{
	printf("%s", name);
	for (int attempt = 0; attempt < 2; attempt++) {
		uint8_t buf[STUN_MAX_MSG_LEN], tid[STUN_TID_LEN];
		size_t len;
		if (stun_client_tid_new(tid) ||
		    msturn_req_encode(&c->cred, q, tid, buf, sizeof(buf), &len))
			return -1;
		int code = exchange(c, buf, len, tid, q, a);
		printf(" %d", code);
		if (code != 401 && code != 438)
			return code;
	}
	return 401;
}

/* The pseudo-TLS ClientHello (docs/msturn.md), then the 83-byte answer. */
static int hello(struct client *c)
{
	static const uint8_t head[] = {0x16, 0x03, 0x01, 0x00, 0x2d, 0x01,
	                               0x00, 0x00, 0x29, 0x03, 0x01};
	static const uint8_t tail[] = {0x00, 0x00, 0x02, 0x00, 0x18, 0x01, 0x00};
	uint8_t h[PSEUDO_TLS_HELLO_LEN], reply[PSEUDO_TLS_REPLY_LEN];
	memcpy(h, head, sizeof(head));
	for (size_t i = 0; i < 32; i++)
		h[sizeof(head) + i] = (uint8_t)random();
	memcpy(h + sizeof(head) + 32, tail, sizeof(tail));
	if (send_all(c->fd, h, sizeof(h)) ||
	    recv(c->fd, reply, sizeof(reply), MSG_WAITALL) != (ssize_t)sizeof(reply))
		return EIO;
	return 0;
}

static int recv_text(struct client *c, const char *text)
{
	uint8_t buf[STUN_MAX_MSG_LEN], type;
	size_t n, want = strlen(text);
	const char *got = "timeout";
	while ((n = get(c, buf, sizeof(buf), 2000, &type))) {
		struct stun_msg m;
		struct sockaddr_storage from;
		const uint8_t *data;
		size_t len;
		if (type == MSTURN_FRAME_DATA && n == want && !memcmp(buf, text, want)) {
			got = "raw";
			break;
		}
		if (type == MSTURN_FRAME_CONTROL && !stun_msg_decode(&m, buf, n) &&
		    !msturn_data_indication(&m, &from, &data, &len) && len == want &&
		    !memcmp(data, text, want)) {
			got = "data";
			break;
		}
	}
	printf("recv %s", got);
	return 0;
}

static int run(struct client *c, const char *cmd)
{
	char arg[512];
	const char *colon = strchr(cmd, ':');
	struct sockaddr_storage dest;
	struct msturn_req q = {.method = STUN_METHOD_ALLOCATE};
	struct msturn_answer a;
	char s[ADDR_STR_MAX];
	snprintf(arg, sizeof(arg), "%s", colon ? colon + 1 : "");
	if (!strcmp(cmd, "alloc") || !strcmp(cmd, "delete")) {
		q.delete = cmd[0] == 'd';
		if (request(c, cmd, &q, &a) == 200 && a.has_relayed)
			printf(" relayed=%s",
			       addr_str((struct sockaddr *)&a.relayed, s, sizeof(s)));
	} else if (!strncmp(cmd, "sad:", 4)) {
		if (addr_parse(arg, 0, &dest))
			return EINVAL;
		q.method = STUN_MSTURN_METHOD_SET_ACTIVE_DEST;
		q.dest = (struct sockaddr *)&dest;
		request(c, "sad", &q, &a);
	} else if (!strncmp(cmd, "send:", 5)) {
		char *text = strrchr(arg, ':');
		uint8_t buf[STUN_MAX_MSG_LEN], tid[STUN_TID_LEN];
		size_t len;
		if (!text)
			return EINVAL;
		*text++ = '\0';
		if (addr_parse(arg, 0, &dest))
			return EINVAL;
		q = (struct msturn_req){.method = STUN_MSTURN_METHOD_SEND,
		                        .dest = (struct sockaddr *)&dest,
		                        .data = (const uint8_t *)text,
		                        .data_len = strlen(text)};
		if (stun_client_tid_new(tid) ||
		    msturn_req_encode(&c->cred, &q, tid, buf, sizeof(buf), &len) ||
		    put(c, MSTURN_FRAME_CONTROL, buf, len))
			return EIO;
		printf("send sent");
	} else if (!strncmp(cmd, "raw:", 4)) {
		if (put(c, MSTURN_FRAME_DATA, arg, strlen(arg)))
			return EIO;
		printf("raw sent");
	} else if (!strncmp(cmd, "recv:", 5)) {
		recv_text(c, arg);
	} else if (!strncmp(cmd, "sleep:", 6)) {
		sleep((unsigned)atoi(arg));
		printf("sleep");
	} else {
		return EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct client c = {.cred = {.user = "alice", .pass = "secret"}};
	struct sockaddr_storage server;
	const char *server_s = NULL;
	bool tls = false;
	int opt;
	while ((opt = getopt(argc, argv, "tTs:u:p:")) != -1) {
		if (opt == 't' || opt == 'T')
			c.tcp = true, tls = tls || opt == 'T';
		else if (opt == 's')
			server_s = optarg;
		else if (opt == 'u')
			c.cred.user = optarg;
		else if (opt == 'p')
			c.cred.pass = optarg;
		else
			return 2;
	}
	if (!server_s || addr_parse(server_s, 3478, &server)) {
		fprintf(stderr, "usage: msturnc [-t|-T] -s HOST:PORT [-u USER] [-p PASS] CMD...\n");
		return 2;
	}
	srandom((unsigned)getpid());
	c.fd = socket(server.ss_family, c.tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (c.fd < 0 ||
	    connect(c.fd, (struct sockaddr *)&server, addr_len((struct sockaddr *)&server)) ||
	    (tls && hello(&c))) {
		perror("msturnc");
		return 2;
	}
	int rc = 0;
	for (int i = optind; i < argc && !rc; i++) {
		rc = run(&c, argv[i]);
		printf("\n"); /* each command's line ends here */
		fflush(stdout);
		if (rc)
			fprintf(stderr, "msturnc: %s: %s\n", argv[i], strerror(rc));
	}
	close(c.fd);
	return rc ? 2 : 0;
}
