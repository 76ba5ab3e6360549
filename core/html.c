/*
 * html.c: the escapers every HTML renderer writes user data through (see
 * html.h). One per context, each a fixed table: nothing here decides what
 * is "safe enough" from the value, and nothing writes a byte unescaped that
 * could end the context it is written in.
 */
#include "html.h"

/* The entity for c, or NULL when c stands for itself in text and quoted attributes. */
static const char *entity(char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    default:
        return NULL;
    }
}

void html_text(FILE *f, const char *s)
{
    if (s == NULL)
        return;
    for (; *s != '\0'; s++) {
        const char *e = entity(*s);
        if (e != NULL)
            fputs(e, f);
        else
            fputc(*s, f);
    }
}

/* Quoted attributes need the same five: one escaper, so the two cannot drift apart. */
void html_attr(FILE *f, const char *s)
{
    html_text(f, s);
}

/* RFC 3986 unreserved: the only bytes a component keeps as they are. */
static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

void html_url(FILE *f, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    if (s == NULL)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (unreserved(*p)) {
            fputc(*p, f);
        } else {
            fputc('%', f);
            fputc(hex[*p >> 4], f);
            fputc(hex[*p & 0x0F], f);
        }
    }
}
