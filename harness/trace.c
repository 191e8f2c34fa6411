/* Trace reading, validation, writing and replay (trace.h). Validation runs over the whole file
 * before the first operation runs, so bad input never leaves a half-run heap behind. */
#include "trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"

static void *xrealloc(void *p, size_t bytes) {
    p = realloc(p, bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "mmbench: error: out of memory (%zu bytes)\n", bytes);
        exit(1);
    }
    return p;
}

void mmb_trace_init(mmb_trace *t) {
    memset(t, 0, sizeof *t);
    mmb_map_init(&t->id_index);
}

void mmb_trace_free(mmb_trace *t) {
    free(t->ops);
    free(t->lines);
    free(t->ids);
    free(t->held);
    free(t->nslots);
    free(t->slot_base);
    free(t->slots);
    free(t->born_line);
    mmb_map_free(&t->id_index);
    memset(t, 0, sizeof *t);
}

static void append(mmb_trace *t, uint32_t kind, uint32_t a, uint32_t slot, uint32_t b,
                   uint32_t line) {
    if (t->count == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 1024;
        t->ops = xrealloc(t->ops, t->cap * sizeof *t->ops);
        t->lines = xrealloc(t->lines, t->cap * sizeof *t->lines);
    }
    t->ops[t->count] = (mmb_op){kind, a, slot, b};
    t->lines[t->count] = line;
    t->count++;
}

/* Finds a held object by trace ID; -1 with a reason when the mutator does not hold it. */
static int held_object(mmb_trace *t, uint64_t id, uint32_t *obj, char *err, size_t err_bytes) {
    uint64_t v;
    if (!mmb_map_get(&t->id_index, id, &v)) {
        snprintf(err, err_bytes, "object %" PRIu64 " is not held by the mutator (no 'new %" PRIu64
                 "' before this line)", id, id);
        return -1;
    }
    if (t->held[v] == 0) {
        snprintf(err, err_bytes, "object %" PRIu64 " is not held by the mutator (all its "
                 "references were dropped)", id);
        return -1;
    }
    *obj = (uint32_t)v;
    return 0;
}

static int slot_in_range(mmb_trace *t, uint32_t obj, uint64_t slot, char *err, size_t n) {
    if (slot >= t->nslots[obj]) {
        snprintf(err, n, "slot %" PRIu64 " is out of range: object %" PRIu64 " has %" PRIu32
                 " slot%s", slot, t->ids[obj], t->nslots[obj], t->nslots[obj] == 1 ? "" : "s");
        return -1;
    }
    return 0;
}

int mmb_trace_new(mmb_trace *t, uint64_t id, uint64_t nslots, uint64_t payload, uint32_t line,
                  char *err, size_t err_bytes) {
    uint64_t v;
    if (id == 0) {
        snprintf(err, err_bytes, "ID must be a positive integer, got 0");
        return -1;
    }
    if (mmb_map_get(&t->id_index, id, &v)) {
        snprintf(err, err_bytes, "ID %" PRIu64 " is already used (by 'new' on line %" PRIu32 ")",
                 id, t->born_line[v]);
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
    if (t->objects == UINT32_MAX - 1) {
        snprintf(err, err_bytes, "too many objects (at most %u)", UINT32_MAX - 1);
        return -1;
    }
    if (t->objects == t->objects_cap) {
        t->objects_cap = t->objects_cap ? 2 * t->objects_cap : 1024;
        t->ids = xrealloc(t->ids, t->objects_cap * sizeof *t->ids);
        t->held = xrealloc(t->held, t->objects_cap * sizeof *t->held);
        t->nslots = xrealloc(t->nslots, t->objects_cap * sizeof *t->nslots);
        t->slot_base = xrealloc(t->slot_base, t->objects_cap * sizeof *t->slot_base);
        t->born_line = xrealloc(t->born_line, t->objects_cap * sizeof *t->born_line);
    }
    if (t->slots_used + nslots > t->slots_cap) {
        while (t->slots_used + nslots > t->slots_cap)
            t->slots_cap = t->slots_cap ? 2 * t->slots_cap : 4096;
        t->slots = xrealloc(t->slots, t->slots_cap * sizeof *t->slots);
    }
    uint32_t obj = t->objects++;
    t->ids[obj] = id;
    t->held[obj] = 1;
    t->nslots[obj] = (uint32_t)nslots;
    t->slot_base[obj] = t->slots_used;
    t->born_line[obj] = line;
    if (nslots)
        memset(t->slots + t->slots_used, 0, nslots * sizeof *t->slots);
    t->slots_used += nslots;
    mmb_map_put(&t->id_index, id, obj);
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
    t->slots[t->slot_base[oa] + slot] = value;
    append(t, MMB_OP_SET, oa, (uint32_t)slot, value, line);
    return 0;
}

int mmb_trace_get(mmb_trace *t, uint64_t a, uint64_t slot, uint32_t line, char *err,
                  size_t err_bytes) {
    uint32_t oa;
    if (held_object(t, a, &oa, err, err_bytes) || slot_in_range(t, oa, slot, err, err_bytes))
        return -1;
    uint32_t value = t->slots[t->slot_base[oa] + slot];
    if (!value) {
        snprintf(err, err_bytes, "slot %" PRIu64 " of object %" PRIu64 " is empty", slot, a);
        return -1;
    }
    if (t->held[value - 1] == UINT32_MAX) {
        snprintf(err, err_bytes, "too many references to object %" PRIu64, t->ids[value - 1]);
        return -1;
    }
    t->held[value - 1]++;
    append(t, MMB_OP_GET, oa, (uint32_t)slot, value, line);
    return 0;
}

int mmb_trace_drop(mmb_trace *t, uint64_t a, uint32_t line, char *err, size_t err_bytes) {
    uint32_t oa;
    if (held_object(t, a, &oa, err, err_bytes))
        return -1;
    t->held[oa]--;
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
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

typedef struct op_syntax {
    const char *name;
    int fields; /* after the operation name */
    const char *usage;
} op_syntax;

static const op_syntax syntax[] = {
    {"new", 3, "new ID NSLOTS PAYLOAD"}, {"set", 3, "set A SLOT B"}, {"get", 2, "get A SLOT"},
    {"drop", 1, "drop A"},               {"collect", 0, "collect"},
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
                     (int)(f[i + 1].len > 40 ? 40 : f[i + 1].len), f[i + 1].text,
                     names[op][i], op == 1 && i == 2 ? " or '-'" : "");
            return -1;
        }
        if (v[i] == 0 && (names[op][i][0] == 'A' || names[op][i][0] == 'B' ||
                          names[op][i][0] == 'I')) {
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

int mmb_trace_read(mmb_trace *t, const char *path, char *err, size_t err_bytes) {
    FILE *in = fopen(path, "rb");
    if (!in) {
        snprintf(err, err_bytes, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 20, len = 0;
    char *buf = xrealloc(NULL, cap);
    for (;;) {
        if (len == cap)
            buf = xrealloc(buf, cap *= 2);
        size_t got = fread(buf + len, 1, cap - len, in);
        if (got == 0)
            break;
        len += got;
    }
    int read_error = ferror(in);
    fclose(in);
    if (read_error) {
        snprintf(err, err_bytes, "%s: read error", path);
        free(buf);
        return -1;
    }

    char msg[256];
    uint32_t line = 0;
    int status = 0;
    for (size_t pos = 0; pos < len && status == 0;) {
        line++;
        size_t end = pos;
        while (end < len && buf[end] != '\n')
            end++;
        field f[MAX_FIELDS + 1];
        int nf = 0;
        for (size_t i = pos; i < end;) {
            while (i < end && is_space(buf[i]))
                i++;
            if (i == end || buf[i] == '#')
                break;
            size_t start = i;
            while (i < end && !is_space(buf[i]) && buf[i] != '#')
                i++;
            if (nf <= MAX_FIELDS)
                f[nf++] = (field){buf + start, i - start};
            else
                break;
        }
        if (nf > 0 && memchr(buf + pos, '\0', end - pos)) {
            snprintf(err, err_bytes, "%s:%" PRIu32 ": NUL byte in line (not a text trace?)", path,
                     line);
            status = -1;
        } else if (nf > 0 && parse_line(t, f, nf, line, msg, sizeof msg) != 0) {
            snprintf(err, err_bytes, "%s:%" PRIu32 ": %s", path, line, msg);
            status = -1;
        }
        pos = end + 1;
    }
    free(buf);
    return status;
}

/* ---- writing -------------------------------------------------------------------------------- */

int mmb_trace_write(const mmb_trace *t, FILE *out) {
    for (size_t i = 0; i < t->count; i++) {
        const mmb_op *op = &t->ops[i];
        switch (op->kind) {
        case MMB_OP_NEW:
            fprintf(out, "new %" PRIu64 " %" PRIu32 " %" PRIu32 "\n", t->ids[op->a], op->slot,
                    op->b);
            break;
        case MMB_OP_SET:
            if (op->b)
                fprintf(out, "set %" PRIu64 " %" PRIu32 " %" PRIu64 "\n", t->ids[op->a], op->slot,
                        t->ids[op->b - 1]);
            else
                fprintf(out, "set %" PRIu64 " %" PRIu32 " -\n", t->ids[op->a], op->slot);
            break;
        case MMB_OP_GET:
            fprintf(out, "get %" PRIu64 " %" PRIu32 "\n", t->ids[op->a], op->slot);
            break;
        case MMB_OP_DROP:
            fprintf(out, "drop %" PRIu64 "\n", t->ids[op->a]);
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
    switch (op->kind) {
    case MMB_OP_NEW:
        objs[op->a] = mmb_alloc(h, op->slot, op->b);
        return objs[op->a] != NULL;
    case MMB_OP_SET:
        mmb_store(h, objs[op->a], op->slot, op->b ? objs[op->b - 1] : NULL);
        return true;
    case MMB_OP_GET:
        mmb_incref(h, mmb_load(h, objs[op->a], op->slot));
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
        if (ok && t->ops[i].kind == MMB_OP_NEW)
            mmb_oracle_label(h, objs[t->ops[i].a], t->ids[t->ops[i].a]);
        if (!ok || mmb_oracle_failed(h))
            return i;
    }
    return t->count;
}
