/*
 * lines.h: the plugin's one line reader, for every input it reads line by
 * line (answers files, answers typed at a terminal). A line has no length
 * limit (getline) and is never split in two; LF or CRLF ends it; a NUL byte
 * is refused with the file and line, never silently cut off.
 */
#ifndef TRF_LINES_H
#define TRF_LINES_H

#include <stddef.h>
#include <stdio.h>

/*
 * One input being read. Start it with lines_open or lines_from and end it
 * with lines_release, whatever happened in between.
 */
struct lines {
    FILE *f;                    /* owned when opened by lines_open, else borrowed */
    const char *name;           /* in messages: the path, or what the stream is; borrowed */
    char *line;                 /* the current line without its LF or CRLF, NUL-terminated;
                                   owned, valid until the next lines_next or lines_release */
    size_t len;                 /* of line */
    long long lineno;           /* of line, from 1; 0 before the first */
    size_t cap;                 /* getline's buffer size */
    long long max_bytes, total; /* a cap on the whole input (0: none), what was read */
    int own;
};

/*
 * Opens path (borrowed, also the name in messages) to read; max_bytes > 0
 * refuses an input longer than that, a regular file before any of it is
 * read. Returns 0, or -1 with "cannot open: ..." in err (the caller names
 * the file); lines_release is safe either way.
 */
int lines_open(struct lines *l, const char *path, long long max_bytes, char *err, size_t errlen);

/* Reads from f (borrowed, left open), called name in messages (borrowed, e.g. "standard input"). */
void lines_from(struct lines *l, FILE *f, const char *name, long long max_bytes);

/*
 * The next line into l->line and l->len. Returns 1, 0 at the end of the
 * input (an empty input has no line; a last line without LF is a line), or
 * -1 with err naming the input and the line: "FILE:LINE: contains a NUL
 * byte (byte N of the line)", "FILE: larger than N bytes", "FILE:LINE:
 * cannot read: ...".
 */
int lines_next(struct lines *l, char *err, size_t errlen);

/* Frees the line and closes what lines_open opened. */
void lines_release(struct lines *l);

#endif /* TRF_LINES_H */
