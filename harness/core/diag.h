/* Diagnostics: exit statuses, the house's one-line error with its input text escaped, and
 * allocation that cannot fail silently. Design: ../shared/STYLE.md, "Habits". */
#ifndef MMB_DIAG_H
#define MMB_DIAG_H

#include <stddef.h>
#include <stdint.h>

/* Exit statuses: only main chooses one. */
enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

/* Prints the house's one-line error, "mmbench: error: WHERE: WHAT (hint: HOW)" (no "WHERE: "
 * when where is NULL, no hint part when hint is NULL), with every part escaped by mmb_escape so
 * that input text and file names can neither break the line nor reach a terminal as control
 * sequences. mmb_error returns `status`; mmb_usage_error returns EXIT_USAGE. */
int mmb_error(int status, const char *where, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int mmb_usage_error(const char *where, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* realloc and calloc that end the process with one line when memory runs out: the harness's own
 * bookkeeping has no sensible way to go on without it. */
void *mmb_xrealloc(void *p, size_t bytes);
void *mmb_xcalloc(size_t n, size_t size);
/* Names what this process does ("run: churn/rc/tiny") in their out-of-memory line,
 * "mmbench: error: WHERE: out of memory allocating N bytes under LIMIT (hint: ...)", which says
 * the address-space limit in force (ulimit -v). NULL: "mmbench". */
void mmb_set_oom_where(const char *where);
/* Prints that line for a failed allocation of `bytes` and ends the process (status 1). */
_Noreturn void mmb_out_of_memory(size_t bytes);

/* Copies `in` to `out` (always NUL-terminated; cut only between whole escapes) with what a
 * terminal could act on written as text: C0 controls, DEL and backslash as \n \r \t \\ or \xHH,
 * bytes that are not UTF-8 and UTF-8-encoded C1 controls (U+0080..U+009F) as \xHH per byte.
 * Printable ASCII and other valid UTF-8 pass through. Returns out. */
char *mmb_escape(char *out, size_t out_bytes, const char *in);

#endif
