"""The portal-upload bench's memory sampling, on this test's own process."""

import os
import time

from bench.portal_upload import PeakRss, rss


def test_rss_reads_this_process_from_proc() -> None:
    assert 10 * 1024 * 1024 < rss(os.getpid()) < 64 * 1024 ** 3


def test_the_peak_sees_memory_taken_and_given_back_while_sampling() -> None:
    with PeakRss(os.getpid()) as memory:
        start = memory.peak
        held = bytearray(64 * 1024 * 1024)  # touched, so it is resident
        for i in range(0, len(held), 4096):
            held[i] = 1
        time.sleep(0.2)
        del held
    assert memory.peak - start > 48 * 1024 * 1024
