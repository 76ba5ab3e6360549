/*
 * cfgcache.h: the compiled configuration, kept so that a plugin load need not
 * parse and check every file again. Parsing the shipped files takes libconfig
 * alone more than a millisecond; a compiled copy is read in a fraction of it.
 *
 * A compiled copy is used only when all of this holds, else the files are
 * loaded as usual (and the copy rewritten): it sits in a folder and a file
 * that belong to this user and that nobody else may write (each user has a
 * folder of their own in the cache folder); it was written by
 * this very build of the plugin (the ELF build id) for these same paths; its
 * bytes are intact (SHA-256); and every file it was compiled from, and every
 * folder listing, reads exactly as it did then. Only a load that reported
 * nothing at all is ever written.
 */
#ifndef TRF_CFGCACHE_H
#define TRF_CFGCACHE_H

#include <stddef.h>

#include "cfg/cfgread.h"
#include "routing/routing.h"
#include "screening/instrument.h"
#include "screening/trigger.h"

/* File name of the compiled copy inside the cache folder. */
#define CFGCACHE_FILE "trafficking.cfgcache"

/*
 * The resolved paths a configuration is loaded from: they key the copy. A
 * path under root is keyed, and kept, relative to it: each command of the
 * host runs the live generation from a fresh private copy of its files, and
 * one compiled copy serves them all while the files are the same.
 */
struct cfgcache_key {
    const char *root;        /* where relative settings resolve; NULL: none */
    const char *instruments; /* folder */
    const char *screening;
    const char *destinations;
    const char *routing;
};

/* The compiled parts; routing->instruments borrows instruments. */
struct cfgcache_config {
    struct instrument_set *instruments;
    struct trigger_set *triggers;
    struct routing_config *routing;
};

/* Frees the three parts (each may be NULL) and zeroes *c. */
void cfgcache_config_release(struct cfgcache_config *c);

/*
 * This user's own folder in the cache folder dir: dir/user-EUID, made with
 * mode 0700 when make is set and it is missing. dir must be a folder that
 * nobody else may write, or one that is sticky as /tmp is (then each user
 * keeps to a folder of their own); the user folder must be a real folder of
 * this user that nobody else may write. Its path (caller frees), or NULL
 * with the reason, naming the folder, in why.
 */
char *cfgcache_user_dir(const char *dir, int make, char *why, size_t whylen);

/*
 * The compiled copy in this user's folder of dir for key, when it may be
 * used (above). 0 and *out
 * (caller releases with cfgcache_config_release), or -1 with *out zeroed and
 * why saying what did not match ("no compiled copy", "compiled from other
 * files", ...): the caller loads the files.
 */
int cfgcache_read(const char *dir, const struct cfgcache_key *key, struct cfgcache_config *out,
                  char *why, size_t whylen);

/*
 * Writes cfg, compiled from the files and folders in deps (recorded while it
 * was loaded, see cfgread_deps_record), as dir's compiled copy for key:
 * a new file of mode 0600 renamed over the old one in this user's folder
 * of dir, so a reader sees the old copy or the new, never part of one. 0;
 * -1 when this user may not use dir (cfgcache_user_dir); -2 when writing
 * failed. why says why; nothing is left behind. cfg is borrowed.
 */
int cfgcache_write(const char *dir, const struct cfgcache_key *key, const struct cfgread_deps *deps,
                   const struct cfgcache_config *cfg, char *why, size_t whylen);

#endif /* TRF_CFGCACHE_H */
