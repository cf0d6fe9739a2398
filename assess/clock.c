/* The one clock of assess: monotonic, in microseconds (assess/assess_int.h). */
#include <time.h>

#include "assess/assess_int.h"

int64_t assess_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
