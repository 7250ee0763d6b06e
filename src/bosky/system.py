"""Reads of the running system that the CLI wires in: process age, random UUIDs.

Edge functions: they touch /proc and the OS's randomness so that nothing
below `cli` has to.
"""

import os
import time

from bosky import deadline


def random_uuid():
    """A random (version 4) UUID string, without importing uuid (it loads ctypes on 3.6)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    text = raw.hex()
    return "-".join((text[:8], text[8:12], text[12:16], text[16:20], text[20:]))


def read_process_age(started):
    """Seconds since this process started (Linux /proc), else since `main` began."""
    try:
        with open("/proc/self/stat") as stat, open("/proc/uptime") as uptime:
            age = deadline.process_age(stat.read(), uptime.read(), os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError):
        age = None
    return age if age is not None else time.monotonic() - started
