/*
 * pack.h: one description of a structure serves both directions of the
 * compiled-configuration cache. A function written once with these calls
 * writes a structure's fields into a byte buffer, or reads them back into
 * fresh memory, so the two sides cannot disagree on order or width.
 *
 * Reading trusts no count or length: an overrun, an absurd count or no
 * memory marks the pack failed, and the caller throws the half-read result
 * away with the structure's own free function (reads allocate exactly as the
 * loaders do: one malloc per string and per array).
 */
#ifndef TRF_PACK_H
#define TRF_PACK_H

#include <stddef.h>

struct pack {
    int reading;         /* 1: fill structures from buf; 0: append to buf */
    unsigned char *buf;  /* writing: owned and growing; reading: borrowed */
    size_t len, cap, at; /* at: the next byte to read */
    int failed;          /* set once; every later call does nothing */
    const char *root;    /* the folder paths are kept relative to (pack_path), or NULL */
};

/* A writer with an empty buffer; release it with pack_release. */
void pack_writer(struct pack *p);

/* A reader over len bytes of buf (borrowed for the reader's life). */
void pack_reader(struct pack *p, const void *buf, size_t len);

/* Frees a writer's buffer. */
void pack_release(struct pack *p);

/* Marks the pack failed (a value the writer cannot describe, or bad data). */
void pack_fail(struct pack *p);

/* n bytes of v, as they are in memory (this machine and this build only). */
void pack_raw(struct pack *p, void *v, size_t n);
#define PACK(p, x) pack_raw((p), &(x), sizeof(x))

/* A string or NULL; reading allocates it (caller frees with free). */
void pack_str(struct pack *p, char **s);

/*
 * A path: one under p->root is kept relative to it, and read back under the
 * reader's root, so a configuration compiled from one copy of a folder
 * serves another copy with the same files. Other paths are kept whole, and
 * so is every path when relative is 0: one a file wrote as an absolute path
 * means that place, wherever the folder is copied.
 */
void pack_path(struct pack *p, char **s, int relative);

/*
 * The part of s after root when s lies under root ("ROOT/..."), or NULL
 * (borrowed from s). A reader puts exactly this part back after its root.
 */
const char *pack_relative(const char *root, const char *s);

/* An array of n strings; reading allocates the array and each string. */
void pack_strs(struct pack *p, char ***v, size_t *n);

/*
 * A count followed by n elements of size bytes each, which the caller packs
 * one by one: writing returns cur; reading returns a zeroed array of *n
 * elements (NULL when *n is 0 or on failure), which the caller owns.
 */
void *pack_array(struct pack *p, void *cur, size_t *n, size_t size);
#define PACK_ARRAY(p, arr, n) ((arr) = pack_array((p), (arr), &(n), sizeof(*(arr))))

/*
 * Whether a pointer is there: writing packs ptr != NULL and returns it;
 * reading returns it as read. Then the caller packs what it points to.
 */
int pack_present(struct pack *p, const void *ptr);

#endif /* TRF_PACK_H */
