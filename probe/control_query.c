/* What a request to the control API carries besides its path: a fresh
 * marker, and query values percent-encoded. Shared by the probe's flows
 * and `edgelab ctl`. */
#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "probe/control_client.h"

int ctl_marker_new(char marker[CTL_MARKER_LEN + 1])
{
	unsigned char rnd[CTL_MARKER_LEN / 2];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return EIO;
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(marker + 2 * i, 3, "%02x", rnd[i]);
	return 0;
}

void ctl_url_encode(const char *in, char *out, size_t cap)
{
	static const char safe[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
	size_t n = 0;
	for (; *in && n + 4 < cap; in++)
		n += (size_t)snprintf(out + n, cap - n, strchr(safe, *in) ? "%c" : "%%%02X",
		                      (unsigned char)*in);
	out[n] = '\0';
}
