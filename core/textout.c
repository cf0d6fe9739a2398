#include "core/textout.h"

#include <errno.h>
#include <stdarg.h>

static void keep_error(struct out *w)
{
	if (!w->err)
		w->err = errno ? errno : EIO;
}

void out_printf(struct out *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	errno = 0;
	if (vfprintf(w->f, fmt, ap) < 0)
		keep_error(w);
	va_end(ap);
}

void out_putc(struct out *w, char c)
{
	errno = 0;
	if (fputc(c, w->f) == EOF)
		keep_error(w);
}

void out_bytes(struct out *w, const char *s, size_t n)
{
	errno = 0;
	if (n && fwrite(s, 1, n, w->f) != n)
		keep_error(w);
}

int out_finish(struct out *w)
{
	errno = 0;
	if (fflush(w->f) != 0)
		keep_error(w);
	return w->err;
}
