/*
 * testcli.h: what the CLI integration suites share: running casehost as a
 * user and checking exit codes, messages and --json output. The including
 * file declares, before including it:
 *   static struct tl_result r;   the last run
 *   db, cfg                      the database conninfo and host config (strings)
 *   static json_t *doc;          the last parsed --json output
 */
#ifndef TESTCLI_H
#define TESTCLI_H

#include <check.h>
#include <string.h>

#include <jansson.h>

#include "testlib.h"

#define RUN_OK(...)                                                                                \
    ck_assert_msg(tl_run(&r, db, cfg, __VA_ARGS__, NULL) == 0, "exit %d\nstdout: %s\nstderr: %s",  \
                  r.status, r.out, r.err)

/* Runs as a_worker with --json and parses stdout into doc. */
#define RUN_JSON(...)                                                                              \
    do {                                                                                           \
        RUN_OK(TL_AS, "a_worker", "--json", __VA_ARGS__);                                          \
        parse_doc();                                                                               \
    } while (0)

/* Runs as a_worker and expects exit status st. */
#define RUN_FAILS(st, ...)                                                                         \
    ck_assert_msg(tl_run(&r, db, cfg, TL_AS, "a_worker", __VA_ARGS__, NULL) == (st),               \
                  "exit %d, want %d\nstdout: %s\nstderr: %s", r.status, (st), r.out, r.err)

#define HAS(text, part)                                                                            \
    ck_assert_msg(strstr((text), (part)) != NULL, "want '%s' in:\n%s", (part), (text))

static void parse_doc(void)
{
    json_error_t e;
    json_decref(doc);
    doc = json_loads(r.out, 0, &e);
    ck_assert_msg(doc != NULL, "not JSON (%s, line %d):\n%s", e.text, e.line, r.out);
}

/* A string member of o ("" when missing or not a string). Borrowed from o. */
static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL ? s : "";
}

static inline long long jint(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    ck_assert_msg(json_is_integer(v), "'%s' is not an integer in:\n%s", key, r.out);
    return (long long)json_integer_value(v);
}

/* 1 when doc's "messages" has one containing part. */
static int has_message(const char *part)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(doc, "messages"), i, m)
    {
        if (strstr(json_string_value(m), part) != NULL)
            return 1;
    }
    return 0;
}

#define HAS_MESSAGE(part)                                                                          \
    ck_assert_msg(has_message(part), "no message with '%s' in:\n%s", (part), r.out)

/* 1 when doc's "alerts" has one of severity containing part. */
static inline int has_alert(const char *severity, const char *part)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(doc, "alerts"), i, a)
    {
        if (strcmp(json_string_value(json_object_get(a, "severity")), severity) == 0 &&
            strstr(json_string_value(json_object_get(a, "text")), part) != NULL)
            return 1;
    }
    return 0;
}

#define HAS_ALERT(severity, part)                                                                  \
    ck_assert_msg(has_alert(severity, part), "no %s alert with '%s' in:\n%s", (severity), (part),  \
                  r.out)

#endif
