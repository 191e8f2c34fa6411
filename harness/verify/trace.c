/* Trace reading, validation, writing and replay (trace.h). Validation runs over the whole file
 * before the first operation runs, so bad input never leaves a half-run heap behind. */
#include "diag.h"
#include "trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oracle.h"

/* The trace's arrays can reach hundreds of MB. They live in their own mappings, asked to be
 * backed by huge pages: page faults cost microseconds in a VM, and a 4 KiB page per fault would
 * make them the largest cost of reading a trace. Fresh pages read as zero. */
static void *big_realloc(void *p, size_t old_bytes, size_t new_bytes) {
    void *q = p ? mremap(p, old_bytes, new_bytes, MREMAP_MAYMOVE)
                : mmap(NULL, new_bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (q == MAP_FAILED) {
        mmb_out_of_memory(new_bytes);
    }
    madvise(q, new_bytes, MADV_HUGEPAGE);
    return q;
}

static void big_free(void *p, size_t bytes) {
    if (p)
        munmap(p, bytes);
}

void mmb_trace_init(mmb_trace *t) {
    memset(t, 0, sizeof *t);
    mmb_map_init(&t->id_index);
}

void mmb_trace_free(mmb_trace *t) {
    big_free(t->ops, t->cap * sizeof *t->ops);
    big_free(t->lines, t->cap * sizeof *t->lines);
    big_free(t->obj, t->objects_cap * sizeof *t->obj);
    big_free(t->slots, t->slots_cap * sizeof *t->slots);
    big_free(t->direct, t->direct_cap * sizeof *t->direct);
    mmb_map_free(&t->id_index);
    memset(t, 0, sizeof *t);
}

/* Reserves room for `ops` operations. */
static void reserve(mmb_trace *t, size_t ops) {
    if (ops <= t->cap)
        return;
    t->ops = big_realloc(t->ops, t->cap * sizeof *t->ops, ops * sizeof *t->ops);
    t->lines = big_realloc(t->lines, t->cap * sizeof *t->lines, ops * sizeof *t->lines);
    t->cap = ops;
}

/* Reserves room for `objects` objects. */
static void reserve_objects(mmb_trace *t, size_t objects) {
    if (objects <= t->objects_cap)
        return;
    t->obj = big_realloc(t->obj, t->objects_cap * sizeof *t->obj, objects * sizeof *t->obj);
    t->objects_cap = (uint32_t)objects;
}

/* The object with trace ID `id`, plus one; 0 when there is none. */
static inline uint32_t find_id(const mmb_trace *t, uint64_t id) {
    if (id < t->direct_cap && t->direct[id])
        return t->direct[id];
    uint64_t v;
    return t->id_index.count && mmb_map_get(&t->id_index, id, &v) ? (uint32_t)v + 1 : 0;
}

/* Records id -> obj. IDs up to a few times the number of objects go in the direct table (grown
 * by doubling); larger ones in the hash map. */
static void record_id(mmb_trace *t, uint64_t id, uint32_t obj) {
    uint64_t limit = 4 * (uint64_t)t->objects + (1u << 16);
    if (id >= t->direct_cap && id < limit) {
        uint64_t cap = t->direct_cap ? t->direct_cap : 1u << 16;
        while (cap <= id)
            cap *= 2;
        t->direct =
            big_realloc(t->direct, t->direct_cap * sizeof *t->direct, cap * sizeof *t->direct);
        t->direct_cap = cap;
    }
    if (id < t->direct_cap)
        t->direct[id] = obj + 1;
    else
        mmb_map_put(&t->id_index, id, obj);
}

static void append(mmb_trace *t, uint32_t kind, uint32_t a, uint32_t slot, uint32_t b,
                   uint32_t line) {
    if (t->count == t->cap)
        reserve(t, t->cap ? 2 * t->cap : 1024);
    t->ops[t->count] = (mmb_op){a, kind << 24 | slot, b};
    t->lines[t->count] = line;
    t->count++;
}

/* Finds a held object by trace ID; -1 with a reason when the mutator does not hold it. */
static int held_object(mmb_trace *t, uint64_t id, uint32_t *obj, char *err, size_t err_bytes) {
    uint32_t v = find_id(t, id);
    if (!v) {
        snprintf(err, err_bytes,
                 "object %" PRIu64 " is not held by the mutator (no 'new %" PRIu64
                 "' before this line)",
                 id, id);
        return -1;
    }
    if (t->obj[v - 1].held == 0) {
        snprintf(err, err_bytes,
                 "object %" PRIu64 " is not held by the mutator (all its "
                 "references were dropped)",
                 id);
        return -1;
    }
    *obj = v - 1;
    return 0;
}

static int slot_in_range(mmb_trace *t, uint32_t obj, uint64_t slot, char *err, size_t n) {
    if (slot >= t->obj[obj].nslots) {
        snprintf(err, n,
                 "slot %" PRIu64 " is out of range: object %" PRIu64 " has %" PRIu32 " slot%s",
                 slot, t->obj[obj].id, t->obj[obj].nslots, t->obj[obj].nslots == 1 ? "" : "s");
        return -1;
    }
    return 0;
}

int mmb_trace_new(mmb_trace *t, uint64_t id, uint64_t nslots, uint64_t payload, uint32_t line,
                  char *err, size_t err_bytes) {
    uint32_t v;
    if (id == 0) {
        snprintf(err, err_bytes, "ID must be a positive integer, got 0");
        return -1;
    }
    if ((v = find_id(t, id)) != 0) {
        snprintf(err, err_bytes, "ID %" PRIu64 " is already used (by 'new' on line %" PRIu32 ")",
                 id, t->obj[v - 1].born_line);
        return -1;
    }
    if (nslots > MMB_MAX_SLOTS) {
        snprintf(err, err_bytes, "NSLOTS %" PRIu64 " is too large (at most %u)", nslots,
                 MMB_MAX_SLOTS);
        return -1;
    }
    if (payload > MMB_MAX_PAYLOAD_BYTES) {
        snprintf(err, err_bytes, "PAYLOAD %" PRIu64 " is too large (at most %u bytes)", payload,
                 MMB_MAX_PAYLOAD_BYTES);
        return -1;
    }
    uint64_t bytes = MMB_TRACE_HEAP_BYTES(nslots, payload);
    if (t->max_heap_bytes && t->heap_bytes + bytes > t->max_heap_bytes) {
        snprintf(err, err_bytes,
                 "the objects need more than the heap cap of %" PRIu64 " bytes (%" PRIu64
                 " with this one, counting 32 + 8 x NSLOTS + PAYLOAD for each 'new', freed or "
                 "not) (hint: replay --max-heap-bytes raises the cap)",
                 t->max_heap_bytes, t->heap_bytes + bytes);
        return -1;
    }
    if (t->objects == UINT32_MAX - 1) {
        snprintf(err, err_bytes, "too many objects (at most %u)", UINT32_MAX - 1);
        return -1;
    }
    if (t->objects == t->objects_cap)
        reserve_objects(t, t->objects_cap ? 2 * (size_t)t->objects_cap : 1024);
    if (t->slots_used + nslots > t->slots_cap) {
        uint64_t cap = t->slots_cap ? t->slots_cap : 1u << 16;
        while (t->slots_used + nslots > cap)
            cap *= 2;
        t->slots = big_realloc(t->slots, t->slots_cap * sizeof *t->slots, cap * sizeof *t->slots);
        t->slots_cap = cap;
    }
    uint32_t obj = t->objects++;
    t->obj[obj] = (mmb_trace_obj){.id = id,
                                  .slot_base = t->slots_used,
                                  .held = 1,
                                  .nslots = (uint32_t)nslots,
                                  .born_line = line};
    /* The new slots are null already: `slots` is only ever written below slots_used, and its
     * fresh pages read as zero (touching them here would fault in the whole shadow). */
    t->slots_used += nslots;
    t->heap_bytes += bytes;
    record_id(t, id, obj);
    append(t, MMB_OP_NEW, obj, (uint32_t)nslots, (uint32_t)payload, line);
    return 0;
}

int mmb_trace_set(mmb_trace *t, uint64_t a, uint64_t slot, uint64_t b, uint32_t line, char *err,
                  size_t err_bytes) {
    uint32_t oa, ob = 0;
    if (held_object(t, a, &oa, err, err_bytes) || slot_in_range(t, oa, slot, err, err_bytes))
        return -1;
    if (b && held_object(t, b, &ob, err, err_bytes))
        return -1;
    uint32_t value = b ? ob + 1 : 0;
    t->slots[t->obj[oa].slot_base + slot] = value;
    append(t, MMB_OP_SET, oa, (uint32_t)slot, value, line);
    return 0;
}

int mmb_trace_get(mmb_trace *t, uint64_t a, uint64_t slot, uint32_t line, char *err,
                  size_t err_bytes) {
    uint32_t oa;
    if (held_object(t, a, &oa, err, err_bytes) || slot_in_range(t, oa, slot, err, err_bytes))
        return -1;
    uint32_t value = t->slots[t->obj[oa].slot_base + slot];
    if (!value) {
        snprintf(err, err_bytes, "slot %" PRIu64 " of object %" PRIu64 " is empty", slot, a);
        return -1;
    }
    if (t->obj[value - 1].held == UINT32_MAX) {
        snprintf(err, err_bytes, "too many references to object %" PRIu64, t->obj[value - 1].id);
        return -1;
    }
    t->obj[value - 1].held++;
    append(t, MMB_OP_GET, oa, (uint32_t)slot, value, line);
    return 0;
}

int mmb_trace_drop(mmb_trace *t, uint64_t a, uint32_t line, char *err, size_t err_bytes) {
    uint32_t oa;
    if (held_object(t, a, &oa, err, err_bytes))
        return -1;
    t->obj[oa].held--;
    append(t, MMB_OP_DROP, oa, 0, 0, line);
    return 0;
}

void mmb_trace_collect(mmb_trace *t, uint32_t line) {
    append(t, MMB_OP_COLLECT, 0, 0, 0, line);
}

/* ---- reading -------------------------------------------------------------------------------- */

typedef struct field {
    const char *text;
    size_t len;
} field;

/* Parses a decimal number of digits only (no sign, no spaces); -1 on anything else or on
 * overflow. */
static int parse_u64(field f, uint64_t *out) {
    if (f.len == 0 || f.len > 20)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < f.len; i++) {
        unsigned d = (unsigned)(f.text[i] - '0');
        if (d > 9)
            return -1;
        if (i == 19 && v > (UINT64_MAX - d) / 10) /* only a 20th digit can overflow */
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

enum { TOKEN = 0, SPACE = 1, HASH = 2, NEWLINE = 3 };

/* Classes of bytes for the tokenizer: a field is a run of TOKEN bytes; '#' ends the line. */
static const unsigned char char_class[256] = {
    [' '] = SPACE,  ['\t'] = SPACE, ['\r'] = SPACE,   ['\v'] = SPACE,
    ['\f'] = SPACE, ['#'] = HASH,   ['\n'] = NEWLINE,
};

typedef struct op_syntax {
    const char *name;
    int fields; /* after the operation name */
    const char *usage;
} op_syntax;

static const op_syntax syntax[] = {
    {"new", 3, "new ID NSLOTS PAYLOAD"},
    {"set", 3, "set A SLOT B"},
    {"get", 2, "get A SLOT"},
    {"drop", 1, "drop A"},
    {"collect", 0, "collect"},
};

#define MAX_FIELDS 5

static int parse_line(mmb_trace *t, field *f, int nf, uint32_t line, char *err, size_t n) {
    int op = -1;
    for (int i = 0; i < (int)(sizeof syntax / sizeof syntax[0]); i++)
        if (strlen(syntax[i].name) == f[0].len && memcmp(syntax[i].name, f[0].text, f[0].len) == 0)
            op = i;
    if (op < 0) {
        snprintf(err, n, "unknown operation '%.*s' (expected new, set, get, drop or collect)",
                 (int)(f[0].len > 40 ? 40 : f[0].len), f[0].text);
        return -1;
    }
    if (nf - 1 < syntax[op].fields) {
        snprintf(err, n, "missing field: expected '%s'", syntax[op].usage);
        return -1;
    }
    if (nf - 1 > syntax[op].fields) {
        field x = f[syntax[op].fields + 1];
        snprintf(err, n, "extra field '%.*s': expected '%s'", (int)(x.len > 40 ? 40 : x.len),
                 x.text, syntax[op].usage);
        return -1;
    }
    static const char *const names[5][3] = {{"ID", "NSLOTS", "PAYLOAD"},
                                            {"A", "SLOT", "B"},
                                            {"A", "SLOT", NULL},
                                            {"A", NULL, NULL},
                                            {NULL, NULL, NULL}};
    uint64_t v[3] = {0, 0, 0};
    for (int i = 0; i < syntax[op].fields; i++) {
        if (op == 1 && i == 2 && f[3].len == 1 && f[3].text[0] == '-')
            continue; /* set A SLOT - : store null */
        if (parse_u64(f[i + 1], &v[i]) != 0) {
            snprintf(err, n, "bad number '%.*s' for %s (expected a decimal integer%s)",
                     (int)(f[i + 1].len > 40 ? 40 : f[i + 1].len), f[i + 1].text, names[op][i],
                     op == 1 && i == 2 ? " or '-'" : "");
            return -1;
        }
        if (v[i] == 0 &&
            (names[op][i][0] == 'A' || names[op][i][0] == 'B' || names[op][i][0] == 'I')) {
            snprintf(err, n, "%s must be a positive integer, got 0", names[op][i]);
            return -1;
        }
    }
    switch (op) {
    case 0:
        return mmb_trace_new(t, v[0], v[1], v[2], line, err, n);
    case 1:
        return mmb_trace_set(t, v[0], v[1], v[2], line, err, n);
    case 2:
        return mmb_trace_get(t, v[0], v[1], line, err, n);
    case 3:
        return mmb_trace_drop(t, v[0], line, err, n);
    default:
        mmb_trace_collect(t, line);
        return 0;
    }
}

/* Reads fd (a pipe, a device) into a malloc'd buffer, stopping once it holds more than `max`
 * bytes or its last line has grown past MMB_TRACE_MAX_LINE_BYTES: what was read is then enough
 * for the parser to name the line where the input went wrong, and /dev/zero ends at once. */
static char *slurp(int fd, size_t max, size_t *len) {
    size_t cap = max < (1 << 16) ? max + 1 : 1 << 16, line_start = 0; /* cap <= max + 1 */
    char *buf = mmb_xrealloc(NULL, cap);
    *len = 0;
    while (*len <= max && *len - line_start <= MMB_TRACE_MAX_LINE_BYTES) {
        if (*len == cap)
            buf = mmb_xrealloc(buf, cap = cap > max / 2 ? max + 1 : 2 * cap);
        ssize_t got = read(fd, buf + *len, cap - *len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            free(buf);
            return NULL;
        }
        if (got == 0)
            break;
        const char *nl = memrchr(buf + *len, '\n', (size_t)got);
        *len += (size_t)got;
        if (nl)
            line_start = (size_t)(nl - buf) + 1;
    }
    return buf;
}

/* The input as one buffer: a regular file mapped (a 10^7-operation trace is ~170 MB; a copy
 * would double it), anything else read by slurp. */
typedef struct input {
    char *buf;
    size_t len;
    bool mapped;
} input;

static int open_input(const char *path, uint64_t max, input *in, char *err, size_t err_bytes) {
    memset(in, 0, sizeof *in);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        snprintf(err, err_bytes, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (regular && (uint64_t)st.st_size > max) {
        snprintf(err, err_bytes,
                 "%s: the trace is %" PRIu64 " bytes, more than the cap of %" PRIu64
                 " (hint: replay --max-trace-bytes raises the cap)",
                 path, (uint64_t)st.st_size, max);
        close(fd);
        return -1;
    }
    if (regular && st.st_size > 0) {
        in->len = (size_t)st.st_size;
        in->buf = mmap(NULL, in->len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        in->mapped = in->buf != MAP_FAILED;
        if (!in->mapped)
            in->buf = NULL;
    }
    if (!in->mapped)
        in->buf = slurp(fd, max > SIZE_MAX - 1 ? SIZE_MAX - 1 : (size_t)max, &in->len);
    int read_errno = errno;
    close(fd);
    if (!in->buf) {
        snprintf(err, err_bytes, "%s: read error: %s", path, strerror(read_errno));
        return -1;
    }
    return 0;
}

/* Splits [text, end) into fields: runs of TOKEN bytes, up to a '#'. Returns how many there are,
 * counting at most MAX_FIELDS + 1. */
static int split_fields(const char *text, const char *end, field *f) {
    int nf = 0;
    for (;;) {
        while (text < end && char_class[(unsigned char)*text] == SPACE)
            text++;
        if (text == end || char_class[(unsigned char)*text] != TOKEN)
            return nf;
        const char *start = text;
        while (text < end && char_class[(unsigned char)*text] == TOKEN)
            text++;
        if (nf <= MAX_FIELDS)
            f[nf++] = (field){start, (size_t)(text - start)};
    }
}

static const mmb_trace_limits default_limits = {MMB_TRACE_DEFAULT_MAX_HEAP_BYTES,
                                                MMB_TRACE_DEFAULT_MAX_TRACE_BYTES};

int mmb_trace_parse(mmb_trace *t, const char *name, const char *buf, size_t len,
                    const mmb_trace_limits *limits, char *err, size_t err_bytes) {
    if (!limits)
        limits = &default_limits;
    /* Every operation takes at least 7 bytes ("drop 1\n") and every object at least 10
     * ("new 1 0 0\n"), so these reservations are never outgrown; untouched pages cost nothing. */
    size_t used = len < limits->max_trace_bytes ? len : (size_t)limits->max_trace_bytes;
    reserve(t, t->count + used / 7 + 16);
    reserve_objects(t, t->objects + used / 10 + 16);
    uint64_t saved_cap = t->max_heap_bytes;
    t->max_heap_bytes = limits->max_heap_bytes;

    char msg[512];
    uint32_t line = 0;
    int status = 0;
    for (size_t pos = 0; pos < len && status == 0; line++) {
        /* The line is [pos, end); end is its '\n' or the input's end. */
        size_t window =
            len - pos < MMB_TRACE_MAX_LINE_BYTES + 1 ? len - pos : MMB_TRACE_MAX_LINE_BYTES + 1;
        const char *nl = memchr(buf + pos, '\n', window);
        size_t end = nl ? (size_t)(nl - buf) : pos + window;
        if (line == UINT32_MAX - 1) {
            snprintf(msg, sizeof msg, "too many lines (at most %u)", UINT32_MAX - 1);
            status = -1;
        } else if (len > limits->max_trace_bytes && end >= limits->max_trace_bytes) {
            snprintf(msg, sizeof msg,
                     "the input goes on past the cap of %" PRIu64
                     " bytes (hint: replay --max-trace-bytes raises the cap)",
                     limits->max_trace_bytes);
            status = -1;
        } else if (end - pos > MMB_TRACE_MAX_LINE_BYTES) {
            snprintf(msg, sizeof msg, "line longer than %u bytes (not a text trace?)",
                     MMB_TRACE_MAX_LINE_BYTES);
            status = -1;
        } else {
            field f[MAX_FIELDS + 1];
            int nf = split_fields(buf + pos, buf + end, f);
            if (nf > 0 && parse_line(t, f, nf, line + 1, msg, sizeof msg) != 0) {
                if (memchr(buf + pos, '\0', end - pos))
                    snprintf(msg, sizeof msg, "NUL byte in line (not a text trace?)");
                status = -1;
            }
        }
        if (status != 0)
            snprintf(err, err_bytes, "%s:%" PRIu32 ": %s", name, line + 1, msg);
        pos = end + 1;
    }
    t->max_heap_bytes = saved_cap;
    return status;
}

int mmb_trace_read(mmb_trace *t, const char *path, const mmb_trace_limits *limits, char *err,
                   size_t err_bytes) {
    if (!limits)
        limits = &default_limits;
    input in;
    if (open_input(path, limits->max_trace_bytes, &in, err, err_bytes) != 0)
        return -1;
    int status = mmb_trace_parse(t, path, in.buf, in.len, limits, err, err_bytes);
    if (in.mapped)
        munmap(in.buf, in.len);
    else
        free(in.buf);
    return status;
}

/* ---- writing -------------------------------------------------------------------------------- */

int mmb_trace_write(const mmb_trace *t, FILE *out) {
    for (size_t i = 0; i < t->count; i++) {
        const mmb_op *op = &t->ops[i];
        switch (mmb_op_kind_of(op)) {
        case MMB_OP_NEW:
            fprintf(out, "new %" PRIu64 " %" PRIu32 " %" PRIu32 "\n", t->obj[op->a].id,
                    mmb_op_slot(op), op->b);
            break;
        case MMB_OP_SET:
            if (op->b)
                fprintf(out, "set %" PRIu64 " %" PRIu32 " %" PRIu64 "\n", t->obj[op->a].id,
                        mmb_op_slot(op), t->obj[op->b - 1].id);
            else
                fprintf(out, "set %" PRIu64 " %" PRIu32 " -\n", t->obj[op->a].id, mmb_op_slot(op));
            break;
        case MMB_OP_GET:
            fprintf(out, "get %" PRIu64 " %" PRIu32 "\n", t->obj[op->a].id, mmb_op_slot(op));
            break;
        case MMB_OP_DROP:
            fprintf(out, "drop %" PRIu64 "\n", t->obj[op->a].id);
            break;
        default:
            fprintf(out, "collect\n");
            break;
        }
    }
    return ferror(out) ? -1 : 0;
}

/* ---- replay --------------------------------------------------------------------------------- */

static inline bool run_op(const mmb_op *op, mmb_heap *h, mmb_obj **objs) {
    switch (mmb_op_kind_of(op)) {
    case MMB_OP_NEW:
        objs[op->a] = mmb_alloc(h, mmb_op_slot(op), op->b);
        return objs[op->a] != NULL;
    case MMB_OP_SET:
        mmb_store(h, objs[op->a], mmb_op_slot(op), op->b ? objs[op->b - 1] : NULL);
        return true;
    case MMB_OP_GET:
        mmb_incref(h, mmb_load(h, objs[op->a], mmb_op_slot(op)));
        return true;
    case MMB_OP_DROP:
        mmb_decref(h, objs[op->a]);
        return true;
    default:
        mmb_collect(h);
        return true;
    }
}

size_t mmb_trace_run(const mmb_trace *t, mmb_heap *h, mmb_obj **objs, bool oracle) {
    if (!oracle) {
        for (size_t i = 0; i < t->count; i++)
            if (!run_op(&t->ops[i], h, objs))
                return i;
        return t->count;
    }
    for (size_t i = 0; i < t->count; i++) {
        mmb_oracle_set_op(h, i + 1);
        bool ok = run_op(&t->ops[i], h, objs);
        if (ok && mmb_op_kind_of(&t->ops[i]) == MMB_OP_NEW)
            mmb_oracle_label(h, objs[t->ops[i].a], t->obj[t->ops[i].a].id);
        if (!ok || mmb_oracle_failed(h))
            return i;
    }
    return t->count;
}
