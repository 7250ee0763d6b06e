"""crc.py against the check values of the CRC catalogue and against awscrt (the AWS
Common Runtime that the SDKs use for these checksums), over sizes around the block."""

import os
import random

import pytest

from bosky import crc


@pytest.mark.parametrize("make,check", [(crc.crc32c, "e3069283"),
                                        (crc.crc64nvme, "ae8b14860a799888")])
def test_the_catalogue_check_values(make, check):
    running = make()
    running.update(b"123456789")
    assert running.digest().hex() == check


@pytest.mark.parametrize("name", ["crc32c", "crc64nvme"])
def test_agrees_with_awscrt_in_any_pieces(name):
    checksums = pytest.importorskip("awscrt.checksums")
    rand = random.Random(7)
    width = 4 if name == "crc32c" else 8
    for size in (0, 1, 7, 8, 100, crc.BLOCK - 1, crc.BLOCK, crc.BLOCK + 1,
                 3 * crc.BLOCK + 5, 200003):
        data = os.urandom(size)
        running, at = getattr(crc, name)(), 0
        while at < size:
            step = rand.randint(1, 3 * crc.BLOCK)
            running.update(data[at:at + step])
            at += step
        assert running.digest() == getattr(checksums, name)(data).to_bytes(width, "big"), size
