/*
 * answers.c: screening answers as typed, in pairs and files, and back to
 * text (see answers.h). The one reader of an answer: the terminal, the step
 * forms, --answers files and drafts all go through trf_answer_parse.
 */
#include "cli/answers.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfgread.h"
#include "cfg/lines.h"

/* Decimal digits only (no sign, blank or trailing text), in [lo, hi]; 0 or -1. */
static int whole(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    long long v;
    if (s == NULL || !(s[0] >= '0' && s[0] <= '9'))
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno == ERANGE || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int trf_answer_parse(const struct instrument_item *it, const char *v, struct answer *out, char *err,
                     size_t errlen)
{
    static const struct {
        const char *text;
        enum answer_kind kind;
    } words[] = {{"yes", ANSWER_YES},
                 {"y", ANSWER_YES},
                 {"no", ANSWER_NO},
                 {"n", ANSWER_NO},
                 {"unknown", ANSWER_UNKNOWN},
                 {"?", ANSWER_UNKNOWN},
                 {"declined", ANSWER_DECLINED},
                 {"d", ANSWER_DECLINED}};
    long long n;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcmp(v, words[i].text) != 0)
            continue;
        if (it->kind != INSTRUMENT_KIND_YES_NO &&
            (words[i].kind == ANSWER_YES || words[i].kind == ANSWER_NO))
            break;
        *out = (struct answer){words[i].kind, 0};
        return 0;
    }
    if (it->kind == INSTRUMENT_KIND_COUNT) {
        if (whole(v, 0, LLONG_MAX, &n) == 0) {
            *out = (struct answer){ANSWER_VALUE, n};
            return 0;
        }
        snprintf(err, errlen, "item '%s': '%s' is not a count (a number, ? or d)", it->id, v);
        return -1;
    }
    if (it->kind == INSTRUMENT_KIND_CHOICE) {
        if (whole(v, 1, (long long)it->n_choices, &n) == 0) {
            *out = (struct answer){ANSWER_VALUE, n - 1};
            return 0;
        }
        for (size_t c = 0; c < it->n_choices; c++)
            if (strcmp(it->choices[c], v) == 0) {
                *out = (struct answer){ANSWER_VALUE, (long long)c};
                return 0;
            }
        snprintf(err, errlen, "item '%s': '%s' is not one of its choices", it->id, v);
        return -1;
    }
    snprintf(err, errlen, "item '%s': '%s' is not an answer (yes, no, unknown or declined)", it->id,
             v);
    return -1;
}

int trf_answer_set_pair(const struct instrument *inst, struct answer *answers, const char *pair,
                        const char *where, char *err, size_t errlen)
{
    char item[128], msg[300];
    const char *eq = strchr(pair, '=');
    const char *v = eq + 1;
    size_t n = (size_t)(eq - pair);
    int idx;
    while (n > 0 && pair[n - 1] == ' ')
        n--;
    while (*v == ' ')
        v++;
    snprintf(item, sizeof(item), "%.*s", (int)n, pair);
    idx = instrument_item_index(inst, item);
    if (idx < 0) {
        snprintf(err, errlen, "%s: instrument '%s' has no item '%s'", where, inst->id, item);
        return -1;
    }
    if (answers[idx].kind != ANSWER_NOT_ASKED) {
        snprintf(err, errlen, "%s: item '%s' is answered twice", where, item);
        return -1;
    }
    if (trf_answer_parse(&inst->items[idx], v, &answers[idx], msg, sizeof(msg)) != 0) {
        snprintf(err, errlen, "%s: %s", where, msg);
        return -1;
    }
    return 0;
}

/*
 * Through the plugin's one line reader: a comment however long stays one
 * comment, and a NUL byte refuses the file (with the same 4 MiB cap as every
 * file it parses).
 */
int trf_answers_read_file(const struct instrument *inst, struct answer *answers, const char *path,
                          char *err, size_t errlen)
{
    char where[960], why[1000];
    struct lines in;
    int rc = 0, got;
    if (lines_open(&in, path, CFGREAD_MAX_FILE, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "cannot read answers file '%.600s': %.300s", path, why);
        lines_release(&in);
        return -1;
    }
    while (rc == 0 && (got = lines_next(&in, why, sizeof(why))) == 1) {
        char *p = in.line, *end;
        p[strcspn(p, "#")] = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        end = p + strlen(p);
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (*p == '\0')
            continue;
        snprintf(where, sizeof(where), "%.900s:%lld", path, in.lineno);
        if (strchr(p, '=') == NULL) {
            snprintf(err, errlen, "%.900s: expected ITEM = ANSWER", where);
            rc = -1;
        } else {
            rc = trf_answer_set_pair(inst, answers, p, where, err, errlen);
        }
    }
    if (rc == 0 && got < 0) {
        snprintf(err, errlen, "answers file %.990s", why);
        rc = -1;
    }
    lines_release(&in);
    return rc;
}

const char *trf_answer_text(const struct instrument_item *it, const struct answer *a, char *buf,
                            size_t len)
{
    struct answer back;
    char why[300];
    if (a->kind != ANSWER_VALUE) {
        snprintf(buf, len, "%s", a->kind == ANSWER_NOT_ASKED ? "" : answer_kind_name(a->kind));
        return buf;
    }
    if (it->kind != INSTRUMENT_KIND_CHOICE) {
        snprintf(buf, len, "%lld", a->value);
        return buf;
    }
    /* A choice by its label, unless the label reads as something else ("2", "unknown"). */
    snprintf(buf, len, "%s",
             a->value >= 0 && (size_t)a->value < it->n_choices ? it->choices[a->value] : "");
    if (trf_answer_parse(it, buf, &back, why, sizeof(why)) != 0 || back.kind != ANSWER_VALUE ||
        back.value != a->value)
        snprintf(buf, len, "%lld", a->value + 1);
    return buf;
}
