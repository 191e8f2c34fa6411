/* The recorder (recorder.h). Recording is on the measured path: a histogram increment and an
 * append, no clock reads of its own (the manager timed the event). */
#include "recorder.h"

#include <stdlib.h>
#include <string.h>

mmb_recorder *mmb_recorder_new(void) {
    return calloc(1, sizeof(mmb_recorder));
}

void mmb_recorder_free(mmb_recorder *r) {
    if (r)
        free(r->log);
    free(r);
}

void mmb_recorder_start(mmb_recorder *r, uint64_t now_ns) {
    for (int k = 0; k < MMB_EVENT_KIND_COUNT; k++)
        mmb_hist_init(&r->pauses[k]);
    mmb_hist_init(&r->latency_corrected);
    mmb_hist_init(&r->latency_uncorrected);
    r->nlog = 0;
    r->max_freed_by_collection = 0;
    r->full_survivors = 0;
    r->events_dropped = 0;
    r->phase = -1;
    for (int p = 0; p < MMB_RECORDER_PHASES; p++) {
        r->phase_entered[p] = false;
        r->phase_start_ns[p] = 0;
        mmb_hist_init(&r->phase_pauses[p]);
    }
    r->t0_ns = now_ns;
    r->recording = true;
}

static void log_pause(mmb_recorder *r, uint64_t start_ns, uint64_t end_ns) {
    if (r->nlog == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 4096;
        mmb_pause *log = realloc(r->log, cap * sizeof *log);
        if (!log) {
            r->events_dropped++;
            return;
        }
        r->log = log;
        r->cap = cap;
    }
    uint64_t s = start_ns > r->t0_ns ? start_ns - r->t0_ns : 0;
    uint64_t e = end_ns > r->t0_ns ? end_ns - r->t0_ns : 0;
    r->log[r->nlog++] = (mmb_pause){s, e};
}

void mmb_recorder_phase(mmb_recorder *r, int phase, uint64_t now_ns) {
    if (!r->recording || phase < 0 || phase >= MMB_RECORDER_PHASES || phase <= r->phase)
        return;
    r->phase = phase;
    r->phase_entered[phase] = true;
    r->phase_start_ns[phase] = now_ns > r->t0_ns ? now_ns - r->t0_ns : 0;
}

int mmb_recorder_phase_at(const mmb_recorder *r, uint64_t start_ns) {
    for (int p = r->phase; p >= 0; p--)
        if (r->phase_entered[p] && r->phase_start_ns[p] <= start_ns)
            return p;
    return -1;
}

void mmb_recorder_on_event(void *ctx, const mmb_event *ev) {
    mmb_recorder *r = ctx;
    if (!r->recording)
        return;
    uint64_t pause_ns = ev->end_ns - ev->start_ns;
    mmb_hist_record(&r->pauses[ev->kind], pause_ns);
    if (r->phase >= 0) {
        int p = mmb_recorder_phase_at(r, ev->start_ns > r->t0_ns ? ev->start_ns - r->t0_ns : 0);
        if (p >= 0)
            mmb_hist_record(&r->phase_pauses[p], pause_ns);
    }
    log_pause(r, ev->start_ns, ev->end_ns);
    if (ev->kind != MMB_EVENT_CASCADE && ev->objects_freed > r->max_freed_by_collection)
        r->max_freed_by_collection = ev->objects_freed;
    if (ev->kind == MMB_EVENT_FULL && ev->objects_visited > ev->objects_freed)
        r->full_survivors += ev->objects_visited - ev->objects_freed;
}

void mmb_recorder_on_request(void *ctx, uint64_t scheduled_ns, uint64_t start_ns, uint64_t end_ns) {
    mmb_recorder *r = ctx;
    if (!r->recording)
        return;
    mmb_hist_record(&r->latency_corrected, end_ns > scheduled_ns ? end_ns - scheduled_ns : 0);
    mmb_hist_record(&r->latency_uncorrected, end_ns > start_ns ? end_ns - start_ns : 0);
}
