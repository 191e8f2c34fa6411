// The C face of Google Benchmark (gbench.h): the only C++ in mmbench. Debian's 1.7.1 has no C
// API, so this wraps RegisterBenchmark with a lambda that calls the C function; time is manual
// (the caller times its measured region) and each repetition is one iteration.
#include "gbench.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

struct mmb_gb_sink {
    benchmark::State *state;
};

extern "C" void mmb_gb_counter(mmb_gb_sink *sink, const char *name, double value, int kind) {
    sink->state->counters[name] =
        benchmark::Counter(value, kind == MMB_GB_COUNTER_RATE ? benchmark::Counter::kIsRate
                                                              : benchmark::Counter::kDefaults);
}

extern "C" void mmb_gb_register(const char *name, mmb_gb_fn fn, void *arg) {
    benchmark::RegisterBenchmark(name,
                                 [fn, arg](benchmark::State &state) {
                                     mmb_gb_sink sink{&state};
                                     for (auto _ : state) {
                                         double seconds = 0;
                                         char err[512] = "";
                                         if (fn(arg, &sink, &seconds, err, sizeof err) != 0) {
                                             state.SkipWithError(err);
                                             break;
                                         }
                                         state.SetIterationTime(seconds);
                                     }
                                 })
        ->UseManualTime()
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
}

extern "C" int mmb_gb_run(int argc, char **argv) {
    benchmark::Initialize(&argc, argv);
    if (argc > 1) {
        std::fprintf(stderr, "mmbench: error: run: unknown flag '%s' (hint: mmbench run --help)\n",
                     argv[1]);
        return 2;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
