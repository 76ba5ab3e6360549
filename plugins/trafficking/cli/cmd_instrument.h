/*
 * cmd_instrument.h: registers the verb `instrument` (list, show): the
 * screening instruments in force. Registered with `screen` (cmd_screen.c).
 */
#ifndef TRF_CLI_CMD_INSTRUMENT_H
#define TRF_CLI_CMD_INSTRUMENT_H

#include "trf.h"

/* Registers instrument list and show (during init). 0 or -1. */
int trf_register_instrument_commands(struct trf *t);

#endif /* TRF_CLI_CMD_INSTRUMENT_H */
