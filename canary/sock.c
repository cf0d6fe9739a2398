/* A canary's socket (canary/canary_int.h). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include "canary/canary_int.h"
#include "core/addr.h"

int canary_bind(int type, const struct sockaddr_storage *addr, uint16_t port, int *fdp)
{
	struct sockaddr_storage sa = *addr;
	int one = 1, err = 0;
	int fd = socket(sa.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	addr_set_port((struct sockaddr *)&sa, port);
	/* TCP: TIME_WAIT from a previous run must not stop a restart. Not for
	 * UDP, where SO_REUSEADDR would let it share a port with a listener
	 * that has it too instead of failing on the clash. */
	if (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		err = errno;
	if (!err && bind(fd, (struct sockaddr *)&sa, addr_len((struct sockaddr *)&sa)))
		err = errno;
	if (!err && type == SOCK_STREAM && listen(fd, 64))
		err = errno;
	if (err) {
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}
