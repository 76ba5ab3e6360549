/*
 * report.h: how the trafficking plugin's configuration loaders report a problem.
 *
 * Loaders call the reporter once per problem and keep going, so an author sees
 * every error in one run. A reporter must never stop the loader (no exit, no longjmp).
 */
#ifndef TRF_REPORT_H
#define TRF_REPORT_H

/*
 * One problem in a configuration file.
 *   file  the path as the loader was given it (borrowed, valid during the call)
 *   line  1-based line; 0 when the problem concerns the whole file
 *   col   1-based column inside an expression string; 0 when there is none
 *   msg   lowercase, no full stop, subjects quoted: "item 'x': unknown domain 'contrl'"
 * The host prints it as "file:line[:col]: plugin: msg".
 */
typedef void (*trf_report_fn)(void *ud, const char *file, int line, int col, const char *msg);

#endif /* TRF_REPORT_H */
