/*
 * html.h: the only way user data reaches HTML. One escaper per context;
 * every renderer (output trees, forms, pages) writes through them.
 */
#ifndef CASEHOST_HTML_H
#define CASEHOST_HTML_H

#include <stdio.h>

/* Text between tags: & < > " ' escaped; NULL writes nothing. */
void html_text(FILE *f, const char *s);
/* A double-quoted attribute value (the caller writes the quotes): as html_text. */
void html_attr(FILE *f, const char *s);
/*
 * One URL query or path component, percent-encoded (RFC 3986 unreserved
 * characters kept), so it can be put inside an attribute as is. A value can
 * never become a scheme such as javascript: because the server builds every
 * URL from its own path and encoded components.
 */
void html_url(FILE *f, const char *s);

#endif /* CASEHOST_HTML_H */
