# SPDX-License-Identifier: MIT
"""An embedded manager's log goes to Python's logging when asked (log="logging"), each
line at its own level on the logger mpstate.manager; a starter that dies takes the
relay with it, never the manager."""
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time

import pytest

import mpstate
import workers


class Collected(logging.Handler):
    """Records, and wakes whoever waits for one that matches."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records, self.changed = [], threading.Condition()

    def emit(self, record):
        with self.changed:
            self.records.append(record)
            self.changed.notify_all()

    def wait_for(self, text, timeout=10):
        with self.changed:
            self.changed.wait_for(lambda: any(text in r.getMessage() for r in self.records), timeout)
            return [r for r in self.records if text in r.getMessage()]


@pytest.fixture
def collected():
    handler, logger = Collected(), logging.getLogger("mpstate.manager")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)


def test_manager_lines_reach_logging_at_their_level(collected, capfd, tmp_path):
    name = f"py-log-{os.getpid()}"
    key_file = tmp_path / "key"
    key_file.write_text("a-key-for-the-manager-log-tests-0123\n")
    key_file.chmod(0o600)
    with mpstate.Manager(name=name, size="16M", log_level="info", log="logging",
                         args=["--listen", "127.0.0.1:0", "--key-file", str(key_file)]) as m:
        (started,) = collected.wait_for(f"serving '{name}'")
        assert started.levelno == logging.INFO and started.name == "mpstate.manager"
        host, port = m.stat()["listening"][0].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as peer:  # a wrong key: a warning
            peer.sendall(b'{"id":1,"op":"auth","key":"wrong"}\n')
            while peer.recv(4096):
                pass
        (refused,) = collected.wait_for("authentication failed")
        assert refused.levelno == logging.WARNING
    assert "mpstate-manager[" not in capfd.readouterr().err  # nothing went to standard error


def test_a_logger_of_ones_own_and_bad_values(collected):
    mine, records = logging.getLogger("myapp.state"), []
    handler = logging.Handler()
    handler.emit = records.append
    mine.addHandler(handler)
    mine.setLevel(logging.INFO)
    try:
        with mpstate.Manager(size="16M", log_level="info", log=mine):
            pass
    finally:
        mine.removeHandler(handler)
    assert any("serving" in r.getMessage() for r in records)
    with pytest.raises(ValueError, match="log is 'stderr', 'logging' or a logging.Logger"):
        mpstate.Manager(size="16M", log="syslog")


def test_the_manager_outlives_a_starter_that_relayed_its_log(tmp_path):
    name = f"py-log-orphan-{os.getpid()}"
    ready = multiprocessing.get_context("fork").Event()
    starter = multiprocessing.get_context("fork").Process(target=workers.start_logging_manager_and_wait,
                                                          args=(name, ready))
    starter.start()
    assert ready.wait(30)
    joined = mpstate.connect(name)
    counter = joined.Value("q", name="count")
    os.kill(starter.pid, signal.SIGKILL)  # the relay's reader dies with it
    starter.join()
    # the manager logs "the process that started this manager ... has ended" into the
    # closed pipe: it must serve on
    deadline = time.monotonic() + 20
    while not joined.stat()["starter_gone"] and time.monotonic() < deadline:
        counter.wait_for_change(counter.version, timeout=0.05)  # a bounded wait between looks
    assert joined.stat()["starter_gone"]
    assert counter.add(1) == 1
