/*
 * answers.h: screening answers as a person types them (yes, n, ?, d, a
 * count, a choice or its number), as ITEM=ANSWER pairs and --answers files,
 * and back to the text a pair carries (what a draft keeps). Reads a file
 * when asked to; never touches the database.
 */
#ifndef TRF_CLI_ANSWERS_H
#define TRF_CLI_ANSWERS_H

#include <stddef.h>

#include "screening/scoring.h"

/*
 * Reads one answer v to item it into *out. Returns 0, or -1 with the reason
 * in err. Choice items take a label or its 1-based number.
 */
int trf_answer_parse(const struct instrument_item *it, const char *v, struct answer *out, char *err,
                     size_t errlen);

/*
 * Sets answers[] (inst->n_items, borrowed) from one "item=answer" pair,
 * blanks around '=' ignored; where says where it came from for the message.
 * An item answered twice is refused. 0, or -1 with the reason in err.
 */
int trf_answer_set_pair(const struct instrument *inst, struct answer *answers, const char *pair,
                        const char *where, char *err, size_t errlen);

/*
 * Sets answers[] from the "item = answer" lines of the file at path ('#'
 * starts a comment), through the plugin's one line reader. 0, or -1 with
 * the reason (file and line) in err.
 */
int trf_answers_read_file(const struct instrument *inst, struct answer *answers, const char *path,
                          char *err, size_t errlen);

/*
 * The text of answer a to item it as trf_answer_parse reads it back ("yes",
 * "declined", "3", a choice's label) into buf; "" for not asked. A choice
 * whose label would not read back as it (too long for buf, or a word such
 * as "unknown") is written as its 1-based number. Returns buf.
 */
const char *trf_answer_text(const struct instrument_item *it, const struct answer *a, char *buf,
                            size_t len);

#endif /* TRF_CLI_ANSWERS_H */
