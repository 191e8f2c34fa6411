/* Fuzz target: the thresholds file of `mmbench compare --thresholds` (harness/compare.c). Like
 * the file reader, text after a NUL byte is not parsed (the reader refuses such a file). */
#include "fuzz.h"

#include <stdlib.h>

#include "compare.h"

void mmb_fuzz_thresholds(const uint8_t *data, size_t size) {
    char *text = mmb_fuzz_string(data, size);
    mmb_compare_parse_thresholds(text, "fuzz.txt");
    free(text);
}
