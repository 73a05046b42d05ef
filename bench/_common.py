"""Helpers shared by the benchmarks: measured subprocesses, tables, machine description.

Every contender runs in its own Python subprocess so that its peak resident memory is
its own: ``/usr/bin/time -v`` reports the maximum RSS of the child (GNU time; on a
system without it, psutil polls the child's RSS every 20 ms, which can miss short
peaks). The child measures its own wall time around the work only (imports and
interpreter start-up excluded) and prints it as the last line of its stdout, as JSON.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
"""The survomics checkout (Snakefile, src/, bench/)."""

GNU_TIME = Path("/usr/bin/time") if Path("/usr/bin/time").exists() else None


def machine() -> str:
    """One line describing the machine the benchmark ran on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = float("nan")
    return (
        f"{cpu}; {os.cpu_count()} cores visible, {len(os.sched_getaffinity(0))} usable; "
        f"{mem:.1f} GiB RAM; Python {platform.python_version()}; {platform.system()}"
    )


def run_measured(argv: Sequence[str], *, env: dict[str, str] | None = None) -> dict[str, float]:
    """Run ``argv``; return the child's JSON result plus ``peak_rss_mb`` and ``wall_s``.

    The child's last stdout line must be a JSON object (e.g. ``{"elapsed": 1.2}``).
    """
    full_env = {**os.environ, **(env or {})}
    start = time.perf_counter()
    if GNU_TIME is not None:
        with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
            proc = subprocess.run(
                ["/usr/bin/time", "-v", "-o", report.name, *argv],
                capture_output=True,
                text=True,
                env=full_env,
                check=False,
            )
            wall = time.perf_counter() - start
            text = Path(report.name).read_text()
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
        peak_kb = float(match.group(1)) if match else float("nan")
    else:  # pragma: no cover - machines without GNU time
        import psutil

        child = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env
        )
        ps = psutil.Process(child.pid)
        peak = 0
        while child.poll() is None:
            try:
                peak = max(peak, ps.memory_info().rss)
            except psutil.Error:
                break
            time.sleep(0.02)
        out, err = child.communicate()
        wall = time.perf_counter() - start
        proc = subprocess.CompletedProcess(argv, child.returncode, out, err)
        peak_kb = peak / 1024
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
        msg = f"benchmark child failed ({proc.returncode}): {' '.join(argv)}"
        raise RuntimeError(msg)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = peak_kb / 1024
    result["wall_s"] = wall
    return result


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table with right-aligned columns."""
    cells = [[str(h) for h in header]] + [
        [f"{c:.3g}" if isinstance(c, float) else str(c) for c in row] for row in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"
