"""What the numbers were measured on: CPU, cores, torch, device, MNIST, load average, date."""

import os
import platform
import time
from pathlib import Path

import torch

from ..device import get_device


def cpu_name():
    """The CPU's model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average():
    """The 1-, 5- and 15-minute load averages, or ``None`` where the system has none."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def machine_info(data=None, device=None):
    """The machine, the software and the MNIST in use, with the load average before the run."""
    device = get_device(device)
    info = {"cores": os.cpu_count(), "threads": torch.get_num_threads(),
            "torch": torch.__version__, "device": str(device),
            "python": platform.python_version(), "platform": platform.platform(),
            "cpu": cpu_name(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "load_before": load_average()}
    if device.type == "cuda":
        info["device_name"] = torch.cuda.get_device_name(device)
    if data is not None:
        info.update(mnist=data.source, mnist_train=len(data.x_train), mnist_test=len(data.x_test))
    return info
