/* Fuzz target: the shard loader of `mmbench merge` (harness/merge.c) and the merge of what it
 * loaded. The input holds one or more shards separated by NUL bytes; its length picks the
 * output (table, json or none). */
#include "fuzz.h"

#include "merge.h"

void mmb_fuzz_merge(const uint8_t *data, size_t size) {
    static const char *const formats[] = {"table", "json", "none"};
    const uint8_t *part[4];
    size_t len[4];
    int n = mmb_fuzz_split(data, size, 4, part, len);
    char *argv[3 + 4] = {"merge", "--format", (char *)formats[size % 3]};
    for (int i = 0; i < n; i++)
        argv[3 + i] = (char *)mmb_fuzz_path(i, part[i], len[i]);
    mmb_merge_main(3 + n, argv);
}
