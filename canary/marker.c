/* The marker in a canary hit's first bytes (canary/marker.h). */
#include "canary/marker.h"

#include <string.h>

#define PREFIX_LEN (sizeof(ROWS_MARKER_PREFIX) - 1)

/* Whether buf ends with a proper start of the prefix, which more bytes
 * could complete. */
static bool ends_in_prefix(const uint8_t *buf, size_t len)
{
	for (size_t n = PREFIX_LEN - 1; n > 0; n--)
		if (n <= len && memcmp(buf + len - n, ROWS_MARKER_PREFIX, n) == 0)
			return true;
	return false;
}

enum canary_marker canary_marker_find(const uint8_t *buf, size_t len, bool at_end, char *out)
{
	const uint8_t *p = buf, *end = buf + len;
	while ((size_t)(end - p) >= PREFIX_LEN) {
		const uint8_t *hit = memmem(p, (size_t)(end - p), ROWS_MARKER_PREFIX, PREFIX_LEN);
		if (!hit)
			break;
		const uint8_t *text = hit + PREFIX_LEN;
		size_t n = 0;
		/* One past the limit is enough to know the text is too long. */
		while (text + n < end && n <= ROWS_MARKER_MAX && rows_marker_char(text[n]))
			n++;
		if (n <= ROWS_MARKER_MAX && text + n == end && !at_end)
			return CANARY_MARKER_MORE;
		if (n >= 1 && n <= ROWS_MARKER_MAX) {
			memcpy(out, text, n);
			out[n] = '\0';
			return CANARY_MARKER_FOUND;
		}
		p = hit + 1; /* another may start inside a text too long */
	}
	return !at_end && ends_in_prefix(buf, len) ? CANARY_MARKER_MORE : CANARY_MARKER_NONE;
}

bool canary_marker_valid(const char *text)
{
	return rows_marker_valid(text);
}
