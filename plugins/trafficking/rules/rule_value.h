/*
 * rule_value.h: the types and values of the rule language, shared by its
 * interface (rule.h) and its compiled form (rule_prog.h).
 *
 * Definitions only: no .c owns this header, so rule_prog.h needs no rule.h.
 */
#ifndef TRF_RULE_VALUE_H
#define TRF_RULE_VALUE_H

enum rule_type { RULE_NULL = 0, RULE_BOOL, RULE_NUM, RULE_STR };

struct rule_value {
    enum rule_type type;
    union {
        int b;
        double n;
        const char *s; /* borrowed: from the program or the caller's fact vector */
    } u;
};

#endif /* TRF_RULE_VALUE_H */
