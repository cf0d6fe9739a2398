/* The marker a canary hit carries: ROWS_MARKER_PREFIX TEXT ("edgelab
 * marker=TEXT", core/rows.h), TEXT 1-ROWS_MARKER_MAX of A-Z a-z 0-9 . _ ~ -,
 * anywhere in the first bytes of a connection or datagram (a TCP line, a
 * STUN SOFTWARE or USERNAME attribute). Pure functions, bounded by their
 * input; no I/O, no logging. */
#ifndef EDGELAB_CANARY_MARKER_H
#define EDGELAB_CANARY_MARKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rows.h"

enum canary_marker {
	CANARY_MARKER_NONE,  /* none, and more bytes would not make one */
	CANARY_MARKER_MORE,  /* the bytes end inside what may become one */
	CANARY_MARKER_FOUND, /* out holds TEXT */
};

/* Looks for the first marker in buf[0..len). A TEXT runs to the first byte
 * that is not a marker character; one longer than ROWS_MARKER_MAX, or
 * empty, is no marker (the search goes on after it). at_end: no byte will
 * follow, so a TEXT that reaches the end is whole; else the answer there is
 * CANARY_MARKER_MORE. out (ROWS_MARKER_MAX + 1 bytes) is written only when
 * FOUND. Once FOUND for some bytes without at_end, it is FOUND with the
 * same TEXT for any bytes that start with them. */
enum canary_marker canary_marker_find(const uint8_t *buf, size_t len, bool at_end, char *out);
/* Whether text is a valid TEXT (a C string). */
bool canary_marker_valid(const char *text);

#endif
