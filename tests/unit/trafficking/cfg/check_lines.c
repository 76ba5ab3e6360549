/*
 * check_lines.c: tests of the plugin's one line reader (cfg/lines.c) on real
 * files: long lines stay whole, LF and CRLF end a line, a last line needs no
 * LF, an empty file has no line, a NUL byte is refused with its line.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg/lines.h"
#include "check_main.h"

/* Writes len bytes of text to a new temporary file; its path into path. */
static void temp_file(char *path, size_t pathlen, const char *text, size_t len)
{
    const char *dir = getenv("TMPDIR");
    FILE *f;
    int fd;
    snprintf(path, pathlen, "%s/check_lines.XXXXXX", dir != NULL && dir[0] ? dir : "/tmp");
    fd = mkstemp(path);
    ck_assert_msg(fd >= 0, "mkstemp %s", path);
    f = fdopen(fd, "wb");
    ck_assert(f != NULL);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/*
 * Every line of the file, each as "[LEN]TEXT" and joined by '|', then
 * "|end" or "|error: ERR" (static storage).
 */
static const char *read_all(const char *path, long long max_bytes)
{
    static char got[1024];
    char err[512];
    struct lines l;
    size_t n = 0;
    int r;
    got[0] = '\0';
    if (lines_open(&l, path, max_bytes, err, sizeof(err)) != 0) {
        snprintf(got, sizeof(got), "open: %s", err);
        lines_release(&l);
        return got;
    }
    while ((r = lines_next(&l, err, sizeof(err))) == 1) {
        ck_assert_uint_eq(strlen(l.line), l.len);
        n += (size_t)snprintf(got + n, sizeof(got) - n, "[%zu]%.20s|", l.len, l.line);
        ck_assert_uint_lt(n, sizeof(got));
    }
    snprintf(got + n, sizeof(got) - n, r == 0 ? "end" : "error: %s", err);
    lines_release(&l);
    return got;
}

/* One input and what the reader makes of it ("@" in want stands for the file's path). */
struct lines_case {
    const char *name;
    const char *text;
    size_t len; /* 0: strlen(text) */
    const char *want;
};

static const struct lines_case cases[] = {
    {"empty file has no line", "", 0, "end"},
    {"LF lines", "a = 1\nbb\n", 0, "[5]a = 1|[2]bb|end"},
    {"last line without LF is a line", "a\nlast", 0, "[1]a|[4]last|end"},
    {"CRLF lines", "a\r\nbb\r\n", 0, "[1]a|[2]bb|end"},
    {"CR at the end of the last line", "a\r\nb\r", 0, "[1]a|[1]b|end"},
    {"a CR inside a line is kept", "a\rb\n", 0, "[3]a\rb|end"},
    {"blank lines are lines", "\n\r\n\n", 0, "[0]|[0]|[0]|end"},
    {"NUL refused with its line and byte", "one\ntw\0o = yes\nthree\n", 21,
     "[3]one|error: @:2: contains a NUL byte (byte 3 of the line); not a text file"},
    {"NUL on the last line without LF", "one\n\0", 5,
     "[3]one|error: @:2: contains a NUL byte (byte 1 of the line); not a text file"},
};

START_TEST(test_lines_cases)
{
    const struct lines_case *c = &cases[_i];
    char path[512], want[1024];
    const char *at = strchr(c->want, '@');
    temp_file(path, sizeof(path), c->text, c->len ? c->len : strlen(c->text));
    if (at != NULL)
        snprintf(want, sizeof(want), "%.*s%s%s", (int)(at - c->want), c->want, path, at + 1);
    else
        snprintf(want, sizeof(want), "%s", c->want);
    ck_assert_msg(strcmp(read_all(path, 0), want) == 0, "%s: got\n%s\nwant\n%s", c->name,
                  read_all(path, 0), want);
    unlink(path);
}
END_TEST

/* A 5,000-byte comment line (and a 1 MB one) is one line: its tail never becomes another. */
START_TEST(test_long_lines_stay_whole)
{
    static const size_t lens[] = {1023, 1024, 5000, 1000 * 1000};
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        size_t n = lens[k], tail = strlen("exchanged_sex=yes");
        char *text = malloc(n + 16), path[512], want[128];
        ck_assert(text != NULL);
        text[0] = '#';
        memset(text + 1, 'x', n - 1 - tail);
        memcpy(text + n - tail, "exchanged_sex=yes", tail);
        memcpy(text + n, "\r\nnext\n", 7);
        temp_file(path, sizeof(path), text, n + 7);
        snprintf(want, sizeof(want), "[%zu]#xxxxxxxxxxxxxxxxxxx|[4]next|end", n);
        ck_assert_str_eq(read_all(path, 0), want);
        unlink(path);
        free(text);
    }
}
END_TEST

START_TEST(test_cap_refuses_a_large_file_before_reading)
{
    char path[512];
    temp_file(path, sizeof(path), "a\nb\nc\n", 6);
    ck_assert_str_eq(read_all(path, 6), "[1]a|[1]b|[1]c|end");
    ck_assert_str_eq(read_all(path, 5), "open: larger than 5 bytes, refused before parsing");
    unlink(path);
}
END_TEST

START_TEST(test_missing_file_and_stream)
{
    char path[512], err[256];
    struct lines l;
    FILE *f;
    ck_assert_str_eq(read_all("/nonexistent/answers.txt", 0),
                     "open: cannot open: No such file or directory");
    /* a stream is borrowed: read through, left open, named as the caller says */
    temp_file(path, sizeof(path), "x\n\0\n", 4);
    f = fopen(path, "rb");
    ck_assert(f != NULL);
    lines_from(&l, f, "standard input", 0);
    ck_assert_int_eq(lines_next(&l, err, sizeof(err)), 1);
    ck_assert_str_eq(l.line, "x");
    ck_assert_int_eq(lines_next(&l, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "standard input:2: contains a NUL byte (byte 1 of the line); not a "
                          "text file");
    lines_release(&l);
    ck_assert_int_eq(fclose(f), 0);
    unlink(path);
}
END_TEST

static Suite *lines_suite(void)
{
    Suite *s = suite_create("lines");
    TCase *tc = tcase_create("lines");
    tcase_add_loop_test(tc, test_lines_cases, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    tcase_add_test(tc, test_long_lines_stay_whole);
    tcase_add_test(tc, test_cap_refuses_a_large_file_before_reading);
    tcase_add_test(tc, test_missing_file_and_stream);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(lines_suite())
