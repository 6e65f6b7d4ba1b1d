#!/usr/bin/env python3
"""The cluster benchmark's closing note: medians per configuration, the bound, the
acceptance ratios; writes summary.csv and a hand-written SVG bar chart beside runs.csv.

    report.py RUNS.csv OUTDIR --quotas M,V1,V2 --units N --best NAME --local NAME ...
"""
import argparse
import csv
import statistics
import sys


def medians(rows):
    by = {}
    for r in rows:
        if r["round"] == "0":
            continue
        by.setdefault(r["config"], []).append(r)
    out = {}
    for name, rs in by.items():
        out[name] = {
            k: statistics.median(float(r[k]) for r in rs)
            for k in ("wall_s", "master_cpu_s", "v1_cpu_s", "v2_cpu_s", "serial_s")
        }
        out[name]["n"] = len(rs)
    return out


def svg(path, title, bars, bound):
    """Horizontal bars (seconds), a dashed line at the bound."""
    width, left, row, top = 760, 150, 34, 40
    height = top + row * len(bars) + 40
    scale = (width - left - 90) / max(v for _, v, _ in bars)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="13">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="22" font-size="15" font-weight="bold">{title}</text>',
    ]
    for i, (name, value, colour) in enumerate(bars):
        y = top + i * row
        w = value * scale
        parts.append(f'<text x="{left - 8}" y="{y + 20}" text-anchor="end">{name}</text>')
        parts.append(f'<rect x="{left}" y="{y + 5}" width="{w:.1f}" height="22" fill="{colour}"/>')
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 21}">{value:.1f}</text>')
    x = left + bound * scale
    parts.append(
        f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + row * len(bars)}" '
        'stroke="black" stroke-dasharray="5,4"/>'
    )
    parts.append(
        f'<text x="{x + 4:.1f}" y="{top + row * len(bars) + 18}">bound {bound:.1f} s</text>'
    )
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runs")
    ap.add_argument("out")
    ap.add_argument("--quotas", required=True)
    ap.add_argument("--units", required=True)
    ap.add_argument("--best", required=True)
    ap.add_argument("--local", required=True)
    ap.add_argument("--proposed", required=True)
    ap.add_argument("--ds-jobs", required=True)
    a = ap.parse_args()
    with open(a.runs) as f:
        rows = list(csv.DictReader(f))
    m = medians(rows)
    best_label = a.best
    if "best" not in m:
        # The grid found nothing faster than distsetup's own configuration.
        m["best"] = m["distsetup"]
    elif m["best"]["wall_s"] > m["distsetup"]["wall_s"]:
        # distsetup's configuration is a grid point too: when the grid's one-round winner
        # is slower over the rounds, distsetup's own point is the best one measured.
        best_label = f"distsetup's own point; {a.best}, the one-round winner, took " \
            f"{m['best']['wall_s']:.1f} s over the rounds"
        m["best"] = m["distsetup"]
    quotas = [float(q) for q in a.quotas.split(",")]
    t = {k: m[k]["wall_s"] for k in ("local", "seed", "distsetup", "best", "rebuild") if k in m}
    ds = m["distsetup"]
    cpu = ds["master_cpu_s"] + ds["v1_cpu_s"] + ds["v2_cpu_s"]
    # The serial part runs on the master at its quota: its CPU is counted once, as time.
    parallel_cpu = max(cpu - ds["serial_s"] * quotas[0], 0.0)
    bound = parallel_cpu / sum(quotas) + ds["serial_s"]
    summary = [
        ("units", a.units),
        ("rounds", min(v["n"] for v in m.values())),
        ("quotas_master_v1_v2", a.quotas),
        ("doctor_hosts", a.proposed),
        ("distsetup_jobs", a.ds_jobs),
        ("best_grid_config", best_label),
        ("local_config", a.local),
    ]
    summary += [(f"T_{k}_s", f"{v:.2f}") for k, v in t.items()]
    summary += [
        ("cluster_cpu_s", f"{cpu:.2f}"),
        ("serial_s", f"{ds['serial_s']:.2f}"),
        ("bound_s", f"{bound:.2f}"),
        ("speedup_over_local", f"{t['local'] / t['distsetup']:.2f}"),
        ("distsetup_over_best", f"{t['distsetup'] / t['best']:.3f}"),
        ("distsetup_over_seed", f"{t['distsetup'] / t['seed']:.3f}"),
        ("distsetup_over_bound", f"{t['distsetup'] / bound:.2f}"),
        ("rebuild_over_distsetup", f"{t['rebuild'] / t['distsetup']:.3f}"),
    ]
    with open(f"{a.out}/summary.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["metric", "value"])
        w.writerows(summary)
    bars = [
        ("master alone", t["local"], "#b0b0b0"),
        ("seeds' recipe", t["seed"], "#e0a040"),
        ("distsetup", t["distsetup"], "#3070c0"),
        (f"best of grid", t["best"], "#40a060"),
        ("rebuild, ccache", t["rebuild"], "#8060b0"),
    ]
    n = min(v["n"] for v in m.values())
    title = (
        f"makepkg, {a.units} C units: master {quotas[0]:g} CPU, volunteers {quotas[1]:g} "
        f"and {quotas[2]:g} CPU (median of {n}, s)"
    )
    svg(f"{a.out}/bench.svg", title, bars, bound)

    def ok(cond):
        return "yes" if cond else "NO"

    lines = [
        "",
        f"| configuration | median wall (s) | vs distsetup |",
        f"|---|---:|---:|",
    ]
    for label, key in (
        (f"T_local (master alone, {a.local})", "local"),
        ("T_seed (hand recipe)", "seed"),
        (f"T_distsetup ({a.proposed}, -j{a.ds_jobs})", "distsetup"),
        (f"T_best (grid: {best_label})", "best"),
        ("T_rebuild (--ccache, warm)", "rebuild"),
    ):
        lines.append(f"| {label} | {t[key]:.1f} | {t[key] / t['distsetup']:.2f} |")
    lines.append(f"| bound (parallel CPU {parallel_cpu:.1f} s / {sum(quotas):g} CPUs + serial "
                 f"{ds['serial_s']:.1f} s) | {bound:.1f} | {bound / t['distsetup']:.2f} |")
    lines += [
        "",
        f"- T_distsetup <= 1.05 x T_best: {t['distsetup'] / t['best']:.3f} -> "
        f"{ok(t['distsetup'] <= 1.05 * t['best'])}",
        f"- T_distsetup < T_seed: {t['distsetup']:.1f} < {t['seed']:.1f} -> "
        f"{ok(t['distsetup'] < t['seed'])}",
        f"- speed-up over the master alone: {t['local'] / t['distsetup']:.2f}x",
        f"- distance to the bound: T_distsetup = {t['distsetup'] / bound:.2f} x bound",
        f"- T_rebuild / T_distsetup: {t['rebuild'] / t['distsetup']:.3f} (target <= 0.3) -> "
        f"{ok(t['rebuild'] / t['distsetup'] <= 0.3)}",
    ]
    with open(f"{a.out}/table.md", "w") as f:
        f.write("\n".join(lines).lstrip("\n") + "\n")
    lines.append(f"- written: {a.out}/runs.csv, summary.csv, table.md, bench.svg")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
