/* What workloads and the harness share (workload.h): scale and family names, parameter parsing,
 * and mmb_run_threads. No workload is named here: the registry over them all is registry.c. */
#include "workload.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mmbench/names.h"

const char *const mmb_scale_names[MMB_SCALE_COUNT] = {"tiny", "small", "default", "large"};

const char *mmb_run_phase_name(mmb_run_phase phase) {
    static const char *const names[MMB_RUN_PHASE_COUNT] = {"build", "steady", "teardown"};
    unsigned p = (unsigned)phase;
    return p < MMB_RUN_PHASE_COUNT ? names[p] : "unknown";
}

const char *const mmb_families[] = {"many-small", "cycle-heavy", "pause-sensitive", "threaded",
                                    NULL};

static size_t param_count(const mmb_workload *w) {
    size_t n = 0;
    while (w->params && w->params[n].name)
        n++;
    return n;
}

int mmb_params_parse(const mmb_workload *w, mmb_scale scale, const char *const *kv, size_t count,
                     mmb_workload_env *env, char *err, size_t err_bytes) {
    size_t n = param_count(w);
    for (size_t i = 0; i < n && i < MMB_MAX_PARAMS; i++)
        env->params[i] = w->params[i].defaults[scale];
    env->scale = scale;
    for (size_t k = 0; k < count; k++) {
        const char *eq = strchr(kv[k], '=');
        if (!eq || eq == kv[k]) {
            snprintf(err, err_bytes, "parameter '%s' is not KEY=VALUE", kv[k]);
            return -1;
        }
        size_t key_len = (size_t)(eq - kv[k]);
        size_t i = 0;
        while (i < n && !(strlen(w->params[i].name) == key_len &&
                          strncmp(w->params[i].name, kv[k], key_len) == 0))
            i++;
        if (i == n) {
            char names[512] = "";
            size_t used = 0;
            for (size_t j = 0; j < n; j++)
                mmb_names_append(names, sizeof names, &used, w->params[j].name);
            snprintf(err, err_bytes, "workload '%s' has no parameter '%.*s' (valid: %s)", w->name,
                     (int)key_len, kv[k], n ? names : "none");
            return -1;
        }
        const mmb_param_spec *p = &w->params[i];
        char *end;
        errno = 0;
        double v = strtod(eq + 1, &end);
        if (eq[1] == '\0' || *end || errno || !isfinite(v) || v < p->min || v > p->max ||
            (p->integer && v != floor(v))) {
            snprintf(err, err_bytes,
                     "parameter '%s' of workload '%s': bad value '%s' (expected %s in %g..%g)",
                     p->name, w->name, eq + 1, p->integer ? "an integer" : "a number", p->min,
                     p->max);
            return -1;
        }
        env->params[i] = v;
    }
    return 0;
}

double mmb_param(const mmb_workload *w, const mmb_workload_env *env, const char *name) {
    for (size_t i = 0; i < param_count(w); i++)
        if (strcmp(w->params[i].name, name) == 0)
            return env->params[i];
    fprintf(stderr, "mmbench: error: workload '%s' has no parameter '%s'\n", w->name, name);
    abort();
}

/* ---- threads -------------------------------------------------------------------------------- */

typedef struct worker {
    pthread_t thread;
    unsigned index;
    struct crew *crew;
    uint64_t units;
    int status;
    char err[256];
} worker;

typedef struct crew {
    const mmb_workload_env *env;
    mmb_worker_fn fn;
    void *arg;
    pthread_barrier_t start;
    uint64_t t0_ns; /* written by the barrier's serial thread, read after the barrier */
} crew;

static void *worker_main(void *p) {
    worker *w = p;
    crew *c = w->crew;
    const mmb_workload_env *env = c->env;
    if (env->on_thread_start)
        env->on_thread_start(env->thread_ctx, w->index);
    /* Everyone starts together; the last to arrive sets the common start. Not attached yet: a
     * thread waiting here holds up no collection. */
    if (pthread_barrier_wait(&c->start) == PTHREAD_BARRIER_SERIAL_THREAD)
        c->t0_ns = mmb_now_ns();
    pthread_barrier_wait(&c->start);
    mmb_thread_attach(env->heap);
    w->status = c->fn(env, w->index, c->arg, &w->units, w->err, sizeof w->err);
    mmb_thread_detach(env->heap);
    uint64_t end = mmb_now_ns();
    if (env->on_thread_end)
        env->on_thread_end(env->thread_ctx, w->index, w->units, end - c->t0_ns);
    return NULL;
}

int mmb_run_threads(const mmb_workload_env *env, unsigned n, mmb_worker_fn fn, void *arg,
                    uint64_t *work_units, char *err, size_t err_bytes) {
    *work_units = 0;
    if (n == 0) {
        snprintf(err, err_bytes, "no worker threads asked for");
        return -1;
    }
    worker *ws = calloc(n, sizeof *ws);
    if (!ws) {
        snprintf(err, err_bytes, "out of memory for %u workers", n);
        return -1;
    }
    crew c = {.env = env, .fn = fn, .arg = arg};
    pthread_barrier_init(&c.start, NULL, n);
    mmb_thread_detach(env->heap);
    unsigned started = 0;
    int status = 0;
    for (; started < n; started++) {
        ws[started] = (worker){.index = started, .crew = &c};
        int e = pthread_create(&ws[started].thread, NULL, worker_main, &ws[started]);
        if (e) {
            /* The barrier counts n: the started ones would wait for ever. Nothing to do but say
             * so; a machine that cannot start a few threads cannot run this workload. */
            fprintf(stderr, "mmbench: cannot start worker thread %u of %u: %s\n", started + 1, n,
                    strerror(e));
            abort();
        }
    }
    for (unsigned i = 0; i < started; i++) {
        pthread_join(ws[i].thread, NULL);
        *work_units += ws[i].units;
        if (ws[i].status && status == 0) {
            snprintf(err, err_bytes, "thread %u: %s", i, ws[i].err);
            status = -1;
        }
    }
    mmb_thread_attach(env->heap);
    pthread_barrier_destroy(&c.start);
    free(ws);
    return status;
}
