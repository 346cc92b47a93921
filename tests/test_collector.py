"""The garbage collector paused by bulk writes runs again once the last of them ends, in any thread."""

import gc
import threading

from salesledger.collector import collector_paused


def test_the_collector_runs_again_when_the_last_of_nested_and_concurrent_blocks_ends():
    assert gc.isenabled()
    inside, release = threading.Event(), threading.Event()

    def other_thread():
        with collector_paused():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other_thread)
    with collector_paused():
        thread.start()
        inside.wait(5)
        with collector_paused():
            assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread's block is still running
    release.set()
    thread.join()
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled():
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
