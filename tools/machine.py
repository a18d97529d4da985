"""One line saying what a benchmark ran on, printed first by every benchmark script."""

import os
import platform
from pathlib import Path


def describe_machine(library):
    """CPU model, usable cores, load average, accelerators and the Keras backend, in one line.

    `library`: the digit_reader module (the notebook's library), for its accelerator detection."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    cpu = next(
        (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
        platform.processor() or "unknown CPU",
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{cpu}; {len(os.sched_getaffinity(0))} cores usable; load average {load}; "
        f"{library.describe_device(library.list_accelerators())}; "
        f"Keras {library.keras.__version__} on {library.BACKEND} {library.BACKEND_VERSION}"
    )
