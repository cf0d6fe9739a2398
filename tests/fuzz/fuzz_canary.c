/* fuzz_canary: the marker in a canary hit's first bytes (canary/marker.h).
 * Invariants: a marker found is valid and is in the input right after the
 * prefix; at the end the answer is never "more"; what is found in a prefix
 * of the input (not at its end) is found the same in the whole input, and
 * nothing is found in any prefix of an input where nothing is. The first
 * byte picks where the prefix ends. */
#include <string.h>

#include "canary/marker.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char whole[ROWS_MARKER_MAX + 1], part[ROWS_MARKER_MAX + 1], again[ROWS_MARKER_MAX + 1];
	if (size < 1)
		return 0;
	size_t cut = data[0] % size;
	data++;
	size--;
	enum canary_marker r = canary_marker_find(data, size, true, whole);
	FUZZ_CHECK(r != CANARY_MARKER_MORE);
	if (r == CANARY_MARKER_FOUND) {
		char needle[sizeof(ROWS_MARKER_PREFIX) + ROWS_MARKER_MAX];
		size_t n = strlen(whole);
		FUZZ_CHECK(canary_marker_valid(whole));
		memcpy(needle, ROWS_MARKER_PREFIX, sizeof(ROWS_MARKER_PREFIX) - 1);
		memcpy(needle + sizeof(ROWS_MARKER_PREFIX) - 1, whole, n);
		FUZZ_CHECK(memmem(data, size, needle, sizeof(ROWS_MARKER_PREFIX) - 1 + n) != NULL);
	}
	FUZZ_CHECK(canary_marker_find(data, size, true, again) == r);
	FUZZ_CHECK(r != CANARY_MARKER_FOUND || strcmp(again, whole) == 0);
	enum canary_marker p = canary_marker_find(data, cut, false, part);
	if (p == CANARY_MARKER_FOUND) {
		FUZZ_CHECK(r == CANARY_MARKER_FOUND && strcmp(part, whole) == 0);
		FUZZ_CHECK(canary_marker_find(data, size, false, again) == CANARY_MARKER_FOUND);
		FUZZ_CHECK(strcmp(again, whole) == 0);
	}
	FUZZ_CHECK(r != CANARY_MARKER_NONE || p != CANARY_MARKER_FOUND);
	return 0;
}
