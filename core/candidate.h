/*
 * candidate.h: configuration candidates stored in the database
 * (casehost.config_candidates), and the private folder a host writes one to
 * so that `config check`, `config deploy` and a plugin's commands read it as
 * they read a folder on disk. A candidate never goes live but through
 * `config deploy`.
 */
#ifndef CASEHOST_CANDIDATE_H
#define CASEHOST_CANDIDATE_H

#include <stddef.h>
#include <stdio.h>

struct cli;

/*
 * A new private directory under TMPDIR (mode 0700), named casehost-WHAT-*;
 * the caller removes it with candidate_private_remove and frees. NULL with
 * err. The process holds a lock in it (flock on its owner file) while it
 * lives, which the kernel lets go however the process ends: the first call
 * in a process removes the private directories of this user whose owner is
 * gone (a process killed with SIGKILL cannot remove its own copy of the
 * configuration). A directory without an owner file is left alone.
 * Thread-safe.
 */
char *candidate_private_dir(const char *what, char *err, size_t errlen);

/* Removes private directory dir (candidate_private_dir's) and lets its lock go. */
void candidate_private_remove(const char *dir);

/*
 * In the session cli has open: writes candidate id (digits, as typed) to a
 * new private directory, every plugin's folder under it, and returns it in
 * *dir (caller removes it with candidate_private_remove and frees). 0, or an exit
 * code after cli_fail (the transaction is then rolled back): not a config
 * admin, no such candidate, or the disk refused.
 */
int candidate_materialize(struct cli *cli, const char *id, char **dir);

/*
 * Writes text to `to`, each occurrence of the private folder dir
 * followed by '/' left out, so that a message names "trafficking/routing.cfg:12",
 * the candidate's own file, not the server's temporary path.
 */
void candidate_unprivate(const char *text, const char *dir, FILE *to);

/* The verb `candidate`: new, list, show, put, rm, discard. */
extern const struct cli_verb cli_verb_candidate;

#endif
