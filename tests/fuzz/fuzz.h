/* The fuzz targets (tests/fuzz/TARGET.c, libFuzzer with `cmake --preset fuzz`, run by ci/fuzz)
 * and what they share. Each target is one function over an input's bytes; common.c wraps it in
 * LLVMFuzzerTestOneInput for the fuzzer, and regress.c calls every target on the committed
 * corpora and crash inputs in the ordinary builds (the CTest fuzz.regressions). */
#ifndef MMB_FUZZ_H
#define MMB_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* The targets: each parses the input as its format and checks what it can about the result;
 * an input is never an error (bad input is refused), only a crash, leak or abort is. */
void mmb_fuzz_trace(const uint8_t *data, size_t size);      /* a trace: read, write, read */
void mmb_fuzz_report(const uint8_t *data, size_t size);     /* results documents to report */
void mmb_fuzz_compare(const uint8_t *data, size_t size);    /* BASE and NEW to compare */
void mmb_fuzz_merge(const uint8_t *data, size_t size);      /* shards to merge */
void mmb_fuzz_kv(const uint8_t *data, size_t size);         /* --param/--option KEY=V lists */
void mmb_fuzz_topology(const uint8_t *data, size_t size);   /* --topology synthetic:DESC */
void mmb_fuzz_thresholds(const uint8_t *data, size_t size); /* compare --thresholds FILE */

/* Standard output to /dev/null (the commands' tables), once per process. */
void mmb_fuzz_quiet(void);

/* A path that reads back as data[0..size): a memory file (memfd) reopened through
 * /proc/self/fd, one per slot (0..MMB_FUZZ_SLOTS-1), rewritten on each call. */
#define MMB_FUZZ_SLOTS 8
const char *mmb_fuzz_path(int slot, const uint8_t *data, size_t size);

/* Splits the input at NUL bytes (which no JSON document holds) into at most max parts; returns
 * how many, with each part's start and length. */
int mmb_fuzz_split(const uint8_t *data, size_t size, int max, const uint8_t **part, size_t *len);

/* A NUL-terminated copy (malloc'd; the caller frees it). */
char *mmb_fuzz_string(const uint8_t *data, size_t size);

#endif
