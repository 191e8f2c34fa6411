#!/usr/bin/env python3
"""How tradeoff.json and tradeoff_bad.json were made (kept for the record; tests do not run it).

Two real runs on a build without per-phase pauses or garbage sampling:
  mmbench run --workload live-heap --manager rc,cpython,marksweep,rc-atomic,rc-biased \
      --scale tiny --repetitions 3 --format none --out lh.json
  mmbench run --workload server,rings,small-live --manager (the same) --scale tiny \
      --repetitions 1 --format none --out rest.json
then, by this script: aggregates and histogram buckets dropped; rc-atomic and rc-biased renamed
cpython-inc and marksweep-inc (the incremental managers of issue 13, not built then); rings
copied as aging-cycles; and the numbers the trade-off reads set by hand to known values, in the
formats agreed for issue 13 (COMMON.md): mmbench.pauses.phases with steady_pause_* counters, and
mmbench.garbage with garbage_* counters. usage: make_fixtures.py lh.json rest.json OUTDIR
"""
import copy
import json
import sys

MiB = 1 << 20
US, MS = 1e3, 1e6

lh, rest, outdir = sys.argv[1:4]
a, b = json.load(open(lh)), json.load(open(rest))
RENAME = {"rc-atomic": "cpython-inc", "rc-biased": "marksweep-inc"}


def entries(doc):
    for e in doc["benchmarks"]:
        if e.get("run_type") != "iteration":
            continue
        for kind in ("full", "young", "cascade", "increment"):
            e["mmbench"]["pauses"][kind]["buckets"] = []
        m = e["mmbench"]["manager"]
        if m in RENAME:
            new = RENAME[m]
            for key in ("name", "run_name"):
                e[key] = e[key].replace("/" + m + "/", "/" + new + "/")
            e["mmbench"]["cell"] = e["mmbench"]["cell"].replace("/" + m + "/", "/" + new + "/")
            e["mmbench"]["manager"] = new
        yield e


def hist(max_ns, p99_ns, count=10):
    return {"count": count, "mean_ns": p99_ns / 2, "p50_ns": p99_ns / 4, "p90_ns": p99_ns / 2,
            "p99_ns": p99_ns, "p99_9_ns": max_ns, "total_ns": p99_ns * count, "max_ns": max_ns,
            "min_ns": min(1000, max_ns), "buckets": []}


def set_pauses(e, max_ns, p99_ns):
    """The whole run's headline pauses (mmbench.pauses.all and the counters)."""
    e["pause_max_ns"] = e["pause_p99_9_ns"] = float(max_ns)
    e["pause_p99_ns"] = float(p99_ns)
    e["mmbench"]["pauses"]["all"].update(max_ns=max_ns, p99_ns=p99_ns, p99_9_ns=max_ns,
                                         count=max(1, e["mmbench"]["pauses"]["all"]["count"]))


def set_steady(e, max_ns, p99_ns, counters=True):
    phases = {}
    t = 0
    for name, mx, p99, dur in (("build", max_ns / 2, p99_ns / 2, 2 * MS),
                               ("steady", max_ns, p99_ns, 10 * MS),
                               ("teardown", e["pause_max_ns"], e["pause_max_ns"], 1 * MS)):
        h = hist(mx, p99)
        h.update(start_ns=t, duration_ns=dur, mmu_10ms=0.5)
        phases[name] = h
        t += dur
    e["mmbench"]["pauses"]["phases"] = phases
    if counters:
        e["steady_pause_max_ns"] = float(max_ns)
        e["steady_pause_p99_ns"] = float(p99_ns)
        e["steady_mmu_10ms"] = 0.5
        e["teardown_pause_max_ns"] = e["pause_max_ns"]


def set_rss(e, rss):
    e["peak_rss_bytes"] = float(rss)
    e["mmbench"]["peak_rss_bytes"] = int(rss)


def sawtooth(peak, period_ms, base, points=21, span_ms=200):
    series = []
    for k in range(points):
        t = span_ms * k / (points - 1)
        g = round(peak * ((t % period_ms) / period_ms))
        live = base + g
        series.append([t, live // 48, live, g // 48, g])
    return series


def set_garbage(e, peak, series):
    g = {"available": True, "interval_ops": 1000, "samples": len(series),
         "peak_objects": peak // 48, "peak_bytes": peak, "mean_objects": peak // 96,
         "mean_bytes": peak // 2, "sampling_ns": 12345, "series": series}
    e["mmbench"]["garbage"] = g
    e["garbage_peak_objects"] = float(peak // 48)
    e["garbage_peak_bytes"] = float(peak)
    e["garbage_mean_objects"] = float(peak // 96)
    e["garbage_mean_bytes"] = float(peak // 2)


docs = list(entries(a)) + list(entries(b))
by = {}
for e in docs:
    by.setdefault((e["mmbench"]["workload"], e["mmbench"]["manager"]), []).append(e)

# live-heap: 3 repetitions, a steady phase in every cell; the medians decide, not the means.
# Front (steady max pause vs peak RSS): marksweep-inc, cpython-inc, cpython.
LIVE = {  # manager: [(rss MiB, steady max, steady p99, whole-run max)] per repetition
    "marksweep-inc": [(120, 2 * MS, 0.5 * MS, 900 * MS)] * 3,
    "cpython-inc": [(110, 20 * MS, 2 * MS, 4000 * MS)] * 3,
    "cpython": [(99, 480 * MS, 50 * MS, 5000 * MS), (100, 500 * MS, 52 * MS, 5000 * MS),
                (140, 9000 * MS, 60 * MS, 5000 * MS)],
    "rc": [(100, 800 * MS, 1 * MS, 4500 * MS)] * 3,
    "marksweep": [(130, 300 * MS, 300 * MS, 300 * MS)] * 3,
}
for m, reps in LIVE.items():
    for e, (rss, smax, sp99, wmax) in zip(by[("live-heap", m)], reps):
        set_rss(e, rss * MiB)
        set_pauses(e, wmax, wmax / 10)
        set_steady(e, smax, sp99)
# One repetition with the phases but not the counters: read from mmbench.pauses.phases.
e = by[("live-heap", "cpython-inc")][1]
for k in ("steady_pause_max_ns", "steady_pause_p99_ns", "steady_mmu_10ms", "teardown_pause_max_ns"):
    del e[k]

# server: rc's cell has no steady phase, so every cell is judged by the whole run's max pause.
# Front: rc (no pause), marksweep-inc, cpython-inc, cpython; marksweep is beaten by rc.
SERVER = {"rc": (11.5, 0), "cpython": (9.0, 99 * US), "marksweep": (12.8, 0),
          "cpython-inc": (9.5, 50 * US), "marksweep-inc": (10.0, 40 * US)}
for m, (rss, mx) in SERVER.items():
    e = by[("server", m)][0]
    set_rss(e, rss * MiB)
    set_pauses(e, mx, mx)
    if m != "rc":
        set_steady(e, mx / 100 + 1, mx / 200 + 1)

# rings: garbage in every cell, a one-sample series (no lines). RSS front: rc, marksweep (equal),
# cpython, cpython-inc (equal); garbage front: marksweep, marksweep-inc.
RINGS = {"rc": (9.4, 0, 5000000), "cpython": (9.2, 20 * US, 100000),
         "cpython-inc": (9.2, 20 * US, 300000), "marksweep": (9.4, 0, 50000),
         "marksweep-inc": (9.5, 10 * US, 40000)}
for m, (rss, mx, g) in RINGS.items():
    e = by[("rings", m)][0]
    set_rss(e, rss * MiB)
    set_pauses(e, mx, mx)
    set_garbage(e, g, [[1.5, 1000, 48000, g // 48, g]])

# aging-cycles, copied from rings: steady phases, garbage series; rc's sampler unavailable.
# RSS front: cpython, marksweep-inc, rc; garbage front: cpython, marksweep-inc.
AGING = {"cpython": (30, 40 * MS, [2000000], 40), "cpython-inc": (55, 3 * MS, [12000000, 30000000, 11000000], 100),
         "marksweep": (35, 60 * MS, [4000000], 50), "marksweep-inc": (40, 1 * MS, [6000000], 20),
         "rc": (80, 0.5 * MS, None, 0)}
aging = []
for m, (rss, smax, peaks, period) in AGING.items():
    for rep, peak in enumerate(peaks or [None]):
        e = copy.deepcopy(by[("rings", m)][0])
        for key in ("name", "run_name"):
            e[key] = e[key].replace("rings/", "aging-cycles/")
        e["mmbench"]["cell"] = e["mmbench"]["cell"].replace("rings/", "aging-cycles/")
        e["mmbench"]["workload"] = "aging-cycles"
        e["mmbench"]["params"] = {"lifetime": "geometric", "cycle": 4}
        e["repetitions"] = len(peaks or [None])
        e["repetition_index"] = rep
        e["mmbench"]["repetition"] = rep
        set_rss(e, rss * MiB)
        set_pauses(e, smax * 3, smax)
        set_steady(e, smax, smax / 2)
        if peak is None:
            e["mmbench"]["garbage"] = {"available": False,
                                       "reason": "the sampler cannot walk this manager's slots"}
            for k in ("garbage_peak_objects", "garbage_peak_bytes", "garbage_mean_objects",
                      "garbage_mean_bytes"):
                e.pop(k, None)
        else:
            set_garbage(e, peak, sawtooth(peak, period, 20 * MiB))
        aging.append(e)

order = ["small-live", "live-heap", "server", "rings"]
out = copy.deepcopy(b)
out["benchmarks"] = [e for w in order for e in docs if e["mmbench"]["workload"] == w]
rings_end = max(i for i, e in enumerate(out["benchmarks"]) if e["mmbench"]["workload"] == "rings")
out["benchmarks"][rings_end + 1:rings_end + 1] = aging
out["context"]["mmbench"]["command"] = ["run", "(issue 13 trade-off fixture: see make_fixtures.py)"]


def write(doc, path):
    """One entry a line, so that a grep finds a cell."""
    lines = [json.dumps(e, separators=(",", ":")) for e in doc["benchmarks"]]
    head = {k: v for k, v in doc.items() if k != "benchmarks"}
    with open(path, "w") as f:
        f.write(json.dumps(head, separators=(",", ":"))[:-1] + ',"benchmarks":[\n')
        f.write(",\n".join(lines) + "\n]}\n")


write(out, outdir + "/tradeoff.json")

# tradeoff_bad.json: the same cells with the trade-off's inputs deliberately wrong, none of which
# may reach a chart as a number: live-heap, a steady max pause that is a string (so the whole run's
# max is used: the phases are gone too) and a negative peak RSS (rc: no point on the RSS scatter); server, negative max
# pauses in all but cpython's cell (one point left: no scatter); rings, a sampler whose
# "available" is a string (not true: no garbage); aging-cycles, negative and absurd garbage peaks
# (counters and the sampler's own)
# and series that are not arrays or hold bad points, so that one line is left (no lines).
bad = copy.deepcopy(out)
for e in bad["benchmarks"]:
    w, m = e["mmbench"]["workload"], e["mmbench"]["manager"]
    if w == "live-heap" and m == "marksweep":
        e["steady_pause_max_ns"] = "300 ms"
        del e["mmbench"]["pauses"]["phases"]
    if w == "live-heap" and m == "rc":
        e["peak_rss_bytes"] = -1.0
    if w == "server" and m != "cpython":
        e["mmbench"]["pauses"]["all"]["max_ns"] = -5
    if w == "rings":
        e["mmbench"]["garbage"]["available"] = "yes"
        e.pop("garbage_peak_bytes", None)
    if w == "aging-cycles" and m == "cpython":
        e["garbage_peak_bytes"] = e["mmbench"]["garbage"]["peak_bytes"] = -100.0
        e["mmbench"]["garbage"]["series"] = "oops"
    if w == "aging-cycles" and m == "cpython-inc":
        e["garbage_peak_bytes"] = e["mmbench"]["garbage"]["peak_bytes"] = 1e300
        e["mmbench"]["garbage"]["series"] = [[0, 1, 2, 3, -4], [1, 1, "2", 3, 4], [-1, 1, 2, 3, 4]]
    if w == "aging-cycles" and m == "marksweep":
        e["mmbench"]["garbage"]["series"] = [[5, 1, 2, 3, 4], [1, 1, 2, 3, 4]]
write(bad, outdir + "/tradeoff_bad.json")
