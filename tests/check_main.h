/*
 * check_main.h: the one main() every Check suite binary uses.
 *
 * Runs the suites named, fails when any test fails, and also when no test ran
 * at all (a mistyped CK_RUN_CASE runs nothing and Check would exit 0).
 */
#ifndef CHECK_MAIN_H
#define CHECK_MAIN_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

static int ck_run_suites(Suite *first, ...);

#define CHECK_MAIN(...)                                                                            \
    int main(void)                                                                                 \
    {                                                                                              \
        return ck_run_suites(__VA_ARGS__, NULL);                                                   \
    }

#include <stdarg.h>

static int ck_run_suites(Suite *first, ...)
{
    SRunner *sr = srunner_create(first);
    va_list ap;
    va_start(ap, first);
    for (Suite *s = va_arg(ap, Suite *); s != NULL; s = va_arg(ap, Suite *))
        srunner_add_suite(sr, s);
    va_end(ap);
    srunner_run_all(sr, CK_ENV);
    int ran = srunner_ntests_run(sr);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (ran == 0) {
        fprintf(stderr, "no test ran: check CK_RUN_SUITE / CK_RUN_CASE\n");
        return EXIT_FAILURE;
    }
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* CHECK_MAIN_H */
