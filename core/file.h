/* A whole small file read into memory, with a bound: config files and
 * rulesets, which a typo could point at something huge (/dev/zero). */
#ifndef EDGELAB_CORE_FILE_H
#define EDGELAB_CORE_FILE_H

#include <stddef.h>

/* Reads path into *text (NUL-terminated, caller frees) and its length into
 * *len. 0, or fopen's errno, ENOMEM, EIO (a read error) or EFBIG (more than
 * max bytes). */
int file_read_all(const char *path, size_t max, char **text, size_t *len);

#endif
