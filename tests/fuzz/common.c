/* What the fuzz targets share (fuzz.h), and the libFuzzer entry point when built as one target:
 * tests/fuzz/CMakeLists.txt defines MMB_FUZZ_ENTRY as that target's function. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void mmb_fuzz_quiet(void) {
    static int done;
    if (!done && !freopen("/dev/null", "w", stdout)) {
        perror("mmbench fuzz: /dev/null");
        abort();
    }
    done = 1;
}

const char *mmb_fuzz_path(int slot, const uint8_t *data, size_t size) {
    static int fds[MMB_FUZZ_SLOTS] = {-1, -1, -1, -1, -1, -1, -1, -1};
    static char paths[MMB_FUZZ_SLOTS][64];
    if (slot < 0 || slot >= MMB_FUZZ_SLOTS)
        abort();
    if (fds[slot] < 0) {
        fds[slot] = memfd_create("mmbench-fuzz", MFD_CLOEXEC);
        if (fds[slot] < 0) {
            perror("mmbench fuzz: memfd_create");
            abort();
        }
        snprintf(paths[slot], sizeof paths[slot], "/proc/self/fd/%d", fds[slot]);
    }
    if (ftruncate(fds[slot], 0) != 0 ||
        (size && pwrite(fds[slot], data, size, 0) != (ssize_t)size)) {
        perror("mmbench fuzz: memfd write");
        abort();
    }
    return paths[slot];
}

int mmb_fuzz_split(const uint8_t *data, size_t size, int max, const uint8_t **part, size_t *len) {
    int n = 0;
    for (size_t start = 0;;) {
        const uint8_t *nul =
            n + 1 < max && start < size ? memchr(data + start, '\0', size - start) : NULL;
        size_t end = nul ? (size_t)(nul - data) : size;
        part[n] = data + start;
        len[n] = end - start;
        n++;
        if (!nul)
            return n;
        start = end + 1;
    }
}

char *mmb_fuzz_string(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#ifdef MMB_FUZZ_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mmb_fuzz_quiet();
    MMB_FUZZ_ENTRY(data, size);
    return 0;
}
#endif
