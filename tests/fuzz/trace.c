/* Fuzz target: the trace reader and validator (harness/trace.c). An input is read as a trace
 * file; one that validates is written back and must read back to the same operations. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

static void must(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "mmbench fuzz: trace: %s\n", what);
        abort();
    }
}

void mmb_fuzz_trace(const uint8_t *data, size_t size) {
    mmb_trace t;
    mmb_trace_init(&t);
    char err[512];
    if (mmb_trace_read(&t, mmb_fuzz_path(0, data, size), NULL, err, sizeof err) != 0) {
        must(err[0] != '\0' && !strchr(err, '\n'), "a refusal without a one-line reason");
        mmb_trace_free(&t);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    must(out && mmb_trace_write(&t, out) == 0 && fclose(out) == 0, "cannot write the trace");
    mmb_trace again;
    mmb_trace_init(&again);
    must(mmb_trace_read(&again, mmb_fuzz_path(1, (const uint8_t *)text, len), NULL, err,
                        sizeof err) == 0,
         "the written trace does not read back");
    must(again.count == t.count && again.objects == t.objects, "the round trip changed counts");
    for (size_t i = 0; i < t.count; i++)
        must(memcmp(&again.ops[i], &t.ops[i], sizeof t.ops[i]) == 0,
             "the round trip changed an operation");
    free(text);
    mmb_trace_free(&again);
    mmb_trace_free(&t);
}
