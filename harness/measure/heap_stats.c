/* mmb_stats as JSON (heap_stats.h). A new counter is a field in mmbench/manager.h and a row here.
 */
#include "heap_stats.h"

#define F(name) offsetof(mmb_stats, name)
/* A field under the same name everywhere, or under a counter name of its own. */
#define SAME(name)                                                                                 \
    { {#name, #name, #name}, F(name), MMB_STATS_NO_FIELD, MMB_STATS_AT_END }
#define ROW(replay, run, counter, name, snapshot)                                                  \
    { {replay, run, counter}, F(name), MMB_STATS_NO_FIELD, snapshot }

const mmb_stats_row mmb_stats_rows[] = {
    SAME(objects_allocated),
    ROW("objects_freed", "objects_freed", NULL, objects_freed, MMB_STATS_AT_END),
    ROW("objects_freed_by_rc", "objects_freed_by_rc", "freed_by_rc", objects_freed_by_rc,
        MMB_STATS_AT_END),
    ROW("objects_freed_by_gc", "objects_freed_by_gc", "freed_by_gc", objects_freed_by_gc,
        MMB_STATS_AT_END),
    ROW(NULL, "live_objects_at_end", NULL, live_objects, MMB_STATS_AT_END),
    ROW("live_objects", "live_objects_after_final_collection", NULL, live_objects,
        MMB_STATS_AFTER_COLLECTION),
    {{"collections", NULL, NULL}, F(collections_full), F(collections_young), MMB_STATS_AT_END},
    SAME(collections_full),
    SAME(collections_young),
    SAME(increments),
    SAME(decrements),
    SAME(objects_traversed),
    SAME(header_bytes),
};
const size_t mmb_stats_row_count = sizeof mmb_stats_rows / sizeof mmb_stats_rows[0];

static uint64_t field_at(const mmb_stats *s, size_t offset) {
    return *(const uint64_t *)(const void *)((const char *)s + offset);
}

uint64_t mmb_stats_row_value(const mmb_stats_row *row, const mmb_stats *at_end,
                             const mmb_stats *after) {
    const mmb_stats *s = row->snapshot == MMB_STATS_AFTER_COLLECTION && after ? after : at_end;
    uint64_t v = field_at(s, row->field);
    if (row->plus != MMB_STATS_NO_FIELD)
        v += field_at(s, row->plus);
    return v;
}

void mmb_stats_json_set(json_t *o, mmb_stats_keys keys, const mmb_stats *at_end,
                        const mmb_stats *after) {
    for (size_t i = 0; i < mmb_stats_row_count; i++) {
        const mmb_stats_row *row = &mmb_stats_rows[i];
        if (row->key[keys])
            json_object_set_new(o, row->key[keys],
                                json_integer((json_int_t)mmb_stats_row_value(row, at_end, after)));
    }
}
