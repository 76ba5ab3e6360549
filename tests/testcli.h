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

/* The action of doc labelled label, or NULL. Borrowed from doc. */
static inline json_t *action(const char *label)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(doc, "actions"), i, a)
    {
        if (strcmp(jstr(a, "label"), label) == 0)
            return a;
    }
    return NULL;
}

/* The labels of doc's actions, joined by " | ", for messages. Static storage. */
static inline const char *labels(void)
{
    static char buf[4096];
    size_t i, n = 0;
    json_t *a;
    buf[0] = '\0';
    json_array_foreach(json_object_get(doc, "actions"), i, a)
    {
        n += (size_t)snprintf(buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0, "%s%s",
                              i ? " | " : "", jstr(a, "label"));
        if (n >= sizeof(buf))
            break;
    }
    return buf;
}

/* Fails unless doc offers label with exactly the argv given (NULL-terminated). */
#define OFFERS(label, ...) offers((label), (const char *const[]){__VA_ARGS__, NULL})
static inline void offers(const char *label, const char *const *want)
{
    json_t *a = action(label), *argv;
    size_t n = 0;
    ck_assert_msg(a != NULL, "no action '%s' (actions: %s)\n%s", label, labels(), r.out);
    argv = json_object_get(a, "argv");
    for (; want[n] != NULL; n++) {
        const char *got = json_string_value(json_array_get(argv, n));
        ck_assert_msg(got != NULL && strcmp(got, want[n]) == 0,
                      "action '%s': argument %zu is '%s', want '%s'", label, n,
                      got != NULL ? got : "(none)", want[n]);
    }
    ck_assert_msg(json_array_size(argv) == n, "action '%s' has %zu arguments, want %zu", label,
                  json_array_size(argv), n);
}

#define NOT_OFFERED(label)                                                                         \
    ck_assert_msg(action(label) == NULL, "action '%s' offered (actions: %s)", (label), labels())

#endif
