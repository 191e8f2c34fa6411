/* Fuzz target: the results-document loader of `mmbench compare` (harness/compare.c) and the
 * comparison over what it loaded. The input is BASE, a NUL byte and NEW (no NUL: it is both);
 * its length picks text or Markdown output. */
#include "fuzz.h"

#include "compare.h"

void mmb_fuzz_compare(const uint8_t *data, size_t size) {
    const uint8_t *part[2];
    size_t len[2];
    int n = mmb_fuzz_split(data, size, 2, part, len);
    const char *base = mmb_fuzz_path(0, part[0], len[0]);
    const char *next = n == 2 ? mmb_fuzz_path(1, part[1], len[1]) : base;
    char *argv[] = {"compare", "--format", size % 2 ? "md" : "text", (char *)base, (char *)next};
    mmb_compare_main(5, argv);
}
