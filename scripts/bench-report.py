#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench-report.py LOG OUTDIR: make bench's numbers from the guest console.

Reads the MDLOCK-BENCH lines tools/mdlock_bench.c printed (from one boot or
several, one after the other in LOG: the medians pool them), writes
OUTDIR/bench.csv (every measurement), OUTDIR/bench.json (per row and
method: median, 25th and 75th percentile of (lock + unlock) time per 4 KiB
page, and the ratio of each method's median to gup_test's), gnuplot data
and script (OUTDIR/plot.gp), and prints the table and each goal of the
performance issue with PASS or MISS.  Exits 1 if the log has no
measurements.
"""
import json
import os
import statistics
import sys

PAGE = 4096
COLS = ["kind", "access", "mode", "size", "method", "rep", "lock_ns", "unlock_ns", "bytes"]
# bench.csv: the boot (1, 2, ... in the order of the log's BEGIN markers) first.
CSV_COLS = ["boot"] + COLS


def quantile(values, q):
    values = sorted(values)
    pos = (len(values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def human(size):
    if size >= 1 << 20:
        return "%d MiB" % (size >> 20)
    return "%d KiB" % (size >> 10)


def main():
    log, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    rows = []
    mem = None
    boot = 0
    with open(log, errors="replace") as f:
        for line in f:
            line = line.strip().replace("\r", "")
            if line.endswith("MDLOCK-BENCH-BEGIN"):
                boot += 1
                continue
            if line.startswith("MDLOCK-BENCH-MEM,"):
                v = [int(x) for x in line.split(",")[1:]]
                if len(v) == 4:
                    mem = {"locked_pages": v[0], "table_bytes": v[1], "mdl_bytes": v[2],
                           "mdl_pages": v[3]}
                continue
            if not line.startswith("MDLOCK-BENCH,"):
                continue
            v = line.split(",")[1:]
            if len(v) != len(COLS):
                continue
            r = dict(zip(COLS, v))
            for k in ("size", "rep", "lock_ns", "unlock_ns", "bytes"):
                r[k] = int(r[k])
            r["boot"] = boot
            rows.append(r)
    if not rows:
        print("bench-report: no MDLOCK-BENCH lines in %s" % log, file=sys.stderr)
        return 1
    with open(os.path.join(out, "bench.csv"), "w") as f:
        f.write(",".join(CSV_COLS) + "\n")
        for r in rows:
            f.write(",".join(str(r[k]) for k in CSV_COLS) + "\n")

    groups = {}
    for r in rows:
        key = (r["kind"], r["access"], r["mode"], r["size"])
        per_page = (r["lock_ns"] + r["unlock_ns"]) / (r["bytes"] / PAGE)
        groups.setdefault(key, {}).setdefault(r["method"], []).append(per_page)

    table = []
    for key in sorted(groups, key=lambda k: (k[0], k[1], k[2], k[3])):
        kind, access, mode, size = key
        methods = groups[key]
        entry = {"kind": kind, "access": access, "mode": mode, "size": size, "methods": {}}
        base = statistics.median(methods["gup_test"]) if "gup_test" in methods else None
        if "gup_test_rt" in methods:
            base = statistics.median(methods["gup_test_rt"])
        for floor in ("alloc_raw", "umap_raw", "dma_raw"):
            if floor in methods:
                base = statistics.median(methods[floor])
        if mode == "threads":
            # each method's ratio: two threads' time against one thread's
            for m in list(methods):
                if m.endswith("_2t") and m[:-3] + "_1t" in methods:
                    entry.setdefault("vs_1t", {})[m] = (statistics.median(methods[m]) /
                                                       statistics.median(methods[m[:-3] + "_1t"]))
        for m, vals in methods.items():
            med = statistics.median(vals)
            entry["methods"][m] = {
                "ns_per_page": med,
                "p25": quantile(vals, 0.25),
                "p75": quantile(vals, 0.75),
                "n": len(vals),
                "ratio": med / base if base else None,
            }
        table.append(entry)

    # The queries: time per page asked with the whole buffers locked
    # against with 1 MiB locked.
    query = {}
    for e in table:
        if e["mode"] == "query":
            for m, d in e["methods"].items():
                query.setdefault(m, {})[e["size"]] = d["ns_per_page"]
    for m, by in query.items():
        if len(by) == 2:
            small, big = sorted(by)
            for e in table:
                if e["mode"] == "query" and e["size"] == big:
                    e.setdefault("vs_1mib", {})[m] = by[big] / by[small]

    order = ["gup_test", "raw", "kapi", "kapi_alloc", "kapi_sel", "dev", "lt_slow", "gup_test_rt",
             "dev_rt", "kapi_1t", "kapi_2t", "dev_1t", "dev_2t", "range_counts", "pages",
             "kapi_atomic", "drain", "alloc_raw", "alloc_mdl", "umap_raw", "umap_mdl",
             "dma_raw", "dma_mdl"]
    print("%-4s %-2s %-6s %8s  %s" % ("page", "rw", "mode", "size",
                                     "  ".join("%-22s" % m for m in order if m)))
    for e in table:
        cells = []
        for m in order:
            if m in e["methods"]:
                d = e["methods"][m]
                ratio = (" %.2fx" % d["ratio"] if d["ratio"] and
                         m not in ("gup_test", "gup_test_rt", "alloc_raw", "umap_raw",
                                   "dma_raw") else "")
                cells.append("%-22s" % ("%.0f ns/pg%s" % (d["ns_per_page"], ratio)))
            else:
                cells.append("%-22s" % "-")
        print("%-4s %-2s %-6s %8s  %s" % (e["kind"], e["access"], e["mode"], human(e["size"]),
                                         "  ".join(cells)))

    # The goals of the performance issue, row by row.
    goals = []
    for e in table:
        ms = e["methods"]
        big = e["size"] >= 2 << 20
        if e["mode"] != "get" and "kapi" in ms and ms["kapi"]["ratio"]:
            if e["kind"] == "4k" and big:
                goals.append(("kernel API <= 1.10x gup_test", e, "kapi", 1.10))
            elif e["kind"] == "thp":
                goals.append(("kernel API <= 1.25x gup_test (THP)", e, "kapi", 1.25))
            elif e["size"] == PAGE:
                goals.append(("one-page MDL <= 1.5x gup_test", e, "kapi", 1.5))
        if "dev" in ms and ms["dev"]["ratio"]:
            if e["kind"] == "4k" and big:
                goals.append(("/dev/mdlock <= 1.25x gup_test", e, "dev", 1.25))
            elif e["kind"] == "thp":
                goals.append(("/dev/mdlock <= 1.4x gup_test (THP)", e, "dev", 1.4))
        if "dev_rt" in ms:
            goals.append(("one-page ioctl round trip <= 2x gup_test", e, "dev_rt", 2.0))
        for m, r in e.get("vs_1t", {}).items():
            ms[m]["ratio"] = r
            goals.append(("2 threads each >= 90%% of 1 thread (%s)" % m, e, m, 1 / 0.9))
        for m, r in e.get("vs_1mib", {}).items():
            ms[m]["ratio"] = r
            goals.append(("query flat as the total locked grows (%s)" % m, e, m, 1.2))
    if mem:
        # The lock table's bytes per locked frame, and an MDL's beyond its
        # PFN array (8 bytes a page), with both buffers locked.
        mem["table_bytes_per_frame"] = mem["table_bytes"] / max(mem["locked_pages"], 1)
        mem["mdl_header_bytes"] = mem["mdl_bytes"] - 8 * mem["mdl_pages"]
        print("\nmemory: %d pages locked, lock table %d bytes (%.2f per locked frame); "
              "an MDL of %d pages %d bytes (%d of header, 8 per page)"
              % (mem["locked_pages"], mem["table_bytes"], mem["table_bytes_per_frame"],
                 mem["mdl_pages"], mem["mdl_bytes"], mem["mdl_header_bytes"]))
        goals.append(("lock table <= 16 bytes per locked frame",
                      {"kind": "4k+thp", "access": "w", "mode": "mem", "size": mem["locked_pages"] * PAGE,
                       "methods": {"table": {"ratio": mem["table_bytes_per_frame"]}}},
                      "table", 16.0))
    met = 0
    print()
    for name, e, m, limit in goals:
        r = e["methods"][m]["ratio"]
        ok = r <= limit
        met += ok
        print("%s  %-42s %-4s %-2s %-6s %8s  %.2fx" % ("PASS" if ok else "MISS", name, e["kind"],
                                                    e["access"], e["mode"], human(e["size"]), r))
    print("\n%d of %d goals met (medians of %d boot%s)" % (met, len(goals), boot,
                                                          "" if boot == 1 else "s"))
    with open(os.path.join(out, "bench.json"), "w") as f:
        json.dump({"rows": table, "memory": mem}, f, indent=1)

    # gnuplot: ns per page against size, per method, for each page kind
    # (write, short-term pin; long-term for dev).
    for kind in ("4k", "thp"):
        for m in ("gup_test", "raw", "kapi", "kapi_alloc", "dev"):
            mode = "pin_lt" if m == "dev" else "pin"
            with open(os.path.join(out, "%s-%s.dat" % (kind, m)), "w") as f:
                for e in table:
                    if (e["kind"], e["access"], e["mode"]) == (kind, "w", mode) and m in e["methods"]:
                        d = e["methods"][m]
                        f.write("%d %f %f %f\n" % (e["size"], d["ns_per_page"], d["p25"], d["p75"]))
    with open(os.path.join(out, "plot.gp"), "w") as f:
        f.write("set terminal pngcairo size 900,600 noenhanced\nset logscale xy\nset key top right\n"
                "set xlabel 'MDL size (bytes)'\nset ylabel 'lock + unlock, ns per 4 KiB page'\n")
        for kind, title in (("4k", "4 KiB pages"), ("thp", "THP")):
            f.write("set output '%s/%s.png'\nset title 'write lock, %s (median, 25-75%%)'\n"
                    % (out, kind, title))
            plots = ["'%s/%s-%s.dat' using 1:2:3:4 with yerrorlines title '%s'" % (out, kind, m, m)
                     for m in ("gup_test", "raw", "kapi", "kapi_alloc", "dev")
                     if os.path.getsize(os.path.join(out, "%s-%s.dat" % (kind, m)))]
            f.write("plot " + ", ".join(plots) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
