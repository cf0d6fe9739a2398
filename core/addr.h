/* Socket address parsing and printing, for config values and reports. */
#ifndef EDGELAB_CORE_ADDR_H
#define EDGELAB_CORE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ADDR_STR_MAX 64 /* "[ffff:...:ffff]:65535" and a NUL fit */

/* Parses "1.2.3.4", "1.2.3.4:5", "::1", "[::1]:5". Without a port, the port
 * is default_port. Returns 0 or EINVAL. No name resolution. */
int addr_parse(const char *s, uint16_t default_port, struct sockaddr_storage *sa);
/* "1.2.3.4:5" or "[::1]:5"; returns out. */
const char *addr_str(const struct sockaddr *sa, char *out, size_t cap);
/* "1.2.3.4" or "::1" (no port); returns out. */
const char *addr_ip_str(const struct sockaddr *sa, char *out, size_t cap);
socklen_t addr_len(const struct sockaddr *sa);
uint16_t addr_port(const struct sockaddr *sa);
void addr_set_port(struct sockaddr *sa, uint16_t port);
/* Same family, address and port. */
bool addr_equal(const struct sockaddr *a, const struct sockaddr *b);
/* Parses a decimal port 1..65535 (0 too when allow_zero); 0 or EINVAL. */
int addr_port_parse(const char *s, bool allow_zero, uint16_t *port);

/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) becomes plain IPv4, so that
 * policy and replies see one form; other addresses are copied. */
void addr_unmap(const struct sockaddr *in, struct sockaddr_storage *out);

#endif
