/* Fuzz target: the results-document loader of `mmbench report` (harness/report.c) and what reads
 * the loaded documents: the summaries and every renderer. The input holds one or more documents
 * separated by NUL bytes; its length picks the format. */
#include "fuzz.h"

#include "report.h"

void mmb_fuzz_report(const uint8_t *data, size_t size) {
    static const char *const formats[] = {"md", "csv", "html"};
    const uint8_t *part[4];
    size_t len[4];
    int n = mmb_fuzz_split(data, size, 4, part, len);
    char *argv[3 + 4] = {"report", "--format", (char *)formats[size % 3]};
    for (int i = 0; i < n; i++)
        argv[3 + i] = (char *)mmb_fuzz_path(i, part[i], len[i]);
    mmb_report_main(3 + n, argv);
}
