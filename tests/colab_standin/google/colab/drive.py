"""`drive.mount()` creates the mount point's MyDrive folder, as a mounted Drive has one."""

from pathlib import Path

from google.colab import record


def mount(mountpoint, force_remount=False):
    record("drive.mount", mountpoint)
    (Path(mountpoint) / "MyDrive").mkdir(parents=True, exist_ok=True)
