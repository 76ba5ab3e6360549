/*
 * routing_time.c: the points in time a routing input carries (decision time,
 * consent times, declines, the ledger's episodes and deliveries), read from
 * and written as UTC text, with the calendar computed here (no timegm, no
 * time zone, no locale): the same text is the same instant on every host.
 *
 * Never reads the clock except in routing_time_now, and never guesses a
 * date: a text that is not exactly one of the two forms is refused.
 */
#include "routing/routing.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define USEC_PER_SEC 1000000LL
#define SEC_PER_DAY 86400LL

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar (H. Hinnant's algorithm). */
static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The civil date of day z after 1970-01-01 (the inverse of days_from_civil). */
static void civil_from_days(long long z, long long *y, int *m, int *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(long long y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* n decimal digits at *s into *out; 1 when they are all digits. */
static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

const char *routing_time_parse(const char *s, routing_time *out)
{
    static const char form[] = "expected a date YYYY-MM-DD or a UTC time YYYY-MM-DDTHH:MM:SSZ";
    int y, mo, d, h = 0, mi = 0, sec = 0, usec = 0;
    const char *p = s + 10;
    if (strlen(s) < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d))
        return form;
    if (*p != '\0') {
        if (p[0] != 'T' || !digits(p + 1, 2, &h) || p[3] != ':' || !digits(p + 4, 2, &mi) ||
            p[6] != ':' || !digits(p + 7, 2, &sec))
            return form;
        p += 9;
        /* Fractions of a second, as PostgreSQL keeps them (up to microseconds). */
        if (*p == '.') {
            int n = 0, dgt;
            for (p++; n < 6 && digits(p, 1, &dgt); p++, n++)
                usec = usec * 10 + dgt;
            if (n == 0 || digits(p, 1, &dgt))
                return "fractions of a second take 1 to 6 digits";
            for (; n < 6; n++)
                usec *= 10;
        }
        if (p[0] != 'Z' || p[1] != '\0')
            return "a time must be UTC, ending in Z (YYYY-MM-DDTHH:MM:SSZ)";
    }
    if (y < 1)
        return "the year must be 0001 or later";
    if (mo < 1 || mo > 12)
        return "the month must be 01 to 12";
    if (d < 1 || d > days_in_month(y, mo))
        return "no such day in that month";
    if (h > 23 || mi > 59 || sec > 59)
        return "the time must be 00:00:00 to 23:59:59";
    *out =
        ((days_from_civil(y, mo, d) * SEC_PER_DAY + h * 3600LL + mi * 60LL + sec) * USEC_PER_SEC) +
        usec;
    return NULL;
}

/* Splits t into whole seconds and microseconds, rounding towards the past. */
static void split(routing_time t, long long *secs, long long *usec)
{
    *secs = t / USEC_PER_SEC;
    *usec = t % USEC_PER_SEC;
    if (*usec < 0) {
        *usec += USEC_PER_SEC;
        (*secs)--;
    }
}

const char *routing_time_format(routing_time t, char *buf, size_t len)
{
    long long secs, usec, day, y;
    int m, d;
    split(t, &secs, &usec);
    day = secs / SEC_PER_DAY - (secs % SEC_PER_DAY < 0);
    secs -= day * SEC_PER_DAY;
    civil_from_days(day, &y, &m, &d);
    if (usec != 0)
        snprintf(buf, len, "%04lld-%02d-%02dT%02lld:%02lld:%02lld.%06lldZ", y, m, d, secs / 3600,
                 secs / 60 % 60, secs % 60, usec);
    else
        snprintf(buf, len, "%04lld-%02d-%02dT%02lld:%02lld:%02lldZ", y, m, d, secs / 3600,
                 secs / 60 % 60, secs % 60);
    return buf;
}

const char *routing_time_date(routing_time t, char *buf, size_t len)
{
    char full[ROUTING_TIME_LEN];
    routing_time_format(t, full, sizeof(full));
    snprintf(buf, len, "%.10s", full);
    return buf;
}

routing_time routing_time_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return (routing_time)time(NULL) * USEC_PER_SEC;
    return (routing_time)ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
}
