# SPDX-License-Identifier: MIT
"""serializer="pickle": what JSON cannot hold (dataclasses, datetimes, tuples, sets,
int-keyed dicts, ints past 64 bits) round-trips through values, dicts, lists and
queues, to fork and spawn children; only a pickle client ever unpickles, and a
pickle client is refused where someone other than this user could write."""
import datetime
import gc
import multiprocessing
import os

import pytest

import mpstate
import workers

KEY = "a-key-for-the-pickle-serializer-tests"


@pytest.fixture
def pickling():
    with mpstate.Manager(name=f"py-pickle-{os.getpid()}", size="16M", serializer="pickle") as m:
        yield m


def test_objects_json_cannot_hold_come_back_as_they_were(pickling):
    due = datetime.datetime(2026, 12, 7, 9, 30, tzinfo=datetime.timezone.utc)
    job = workers.Job(7, due, ("a", "b"))
    d = pickling.dict(name="jobs")
    d["job"], d["pair"], d["huge"], d["by_id"], d["plain"] = job, (1, 2), 2**70, {1: {2, 3}}, {"n": [1, 2]}
    assert (d["job"], d["pair"], d["huge"], d["by_id"], d["plain"]) == (job, (1, 2), 2**70, {1: {2, 3}}, {"n": [1, 2]})
    assert type(d["pair"]) is tuple
    v = pickling.Value(object, due, name="due")
    assert v.value == due and v.type == "json"
    items = pickling.list([job, (1,)], name="items")
    items.append(frozenset({4}))
    assert list(items) == [job, (1,), frozenset({4})]
    # What JSON holds stays JSON, readable by any language and by mpstate-dump
    assert pickling.dump("jobs/plain")["variables"][0]["value"] == {"n": [1, 2]}
    assert pickling.dump("jobs/pair")["variables"][0]["value"]["$mpstate"]["kind"] == "pickle"


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_children_read_and_write_pickled_objects_through_their_proxies(pickling, method):
    jobs, answers = pickling.Queue(name="jobs"), pickling.Queue(name="answers")
    due = datetime.datetime(2026, 12, 7)
    jobs.put(workers.Job(3, due, ("x",)))
    child = multiprocessing.get_context(method).Process(target=workers.take_job_and_answer, args=(jobs, answers))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert answers.get(timeout=5) == (3, ("x",), due + datetime.timedelta(days=1), {3: frozenset({"x"})})


def test_a_proxy_inside_a_pickled_value_keeps_its_variable(pickling):
    d = pickling.dict(name="holder")
    inner = pickling.list([1, 2])  # unnamed: collected with its last proxy, unless a value holds it
    d["pair"] = (inner, "x")
    name = inner._value.name
    del inner
    gc.collect()
    assert name in pickling.names("_py/")
    again, label = d["pair"]
    assert (list(again), label) == ([1, 2], "x")
    again.append(3)
    assert list(d["pair"][0]) == [1, 2, 3]


def test_pickle_trust_wants_a_clear_no_and_looks_at_the_socket_path_too(pickling):
    with pytest.raises(mpstate.PermissionDenied, match=r"over redis:// would unpickle"):
        mpstate.connect(socket_path="redis://127.0.0.1:1/0", serializer="pickle")


def test_a_json_client_never_unpickles_and_refuses_what_json_cannot_hold(pickling):
    pickling.dict(name="d")["t"] = (1, 2)
    plain = mpstate.connect(pickling.name)
    assert plain.serializer == "json"
    with pytest.raises(mpstate.TypeMismatch, match="pickled object; only a client made with serializer"):
        plain.dict(name="d")["t"]
    with pytest.raises(TypeError, match="Job is none of them"):
        plain.dict(name="d")["job"] = workers.Job(1, None, ())
    with pytest.raises(OverflowError):
        plain.Value("q", 0, name="n").value = 2**70


def test_a_stored_reference_cannot_make_its_reader_trust_pickles(pickling):
    pickling.dict(name="d")["t"] = (1, 2)
    plain = mpstate.connect(pickling.name)
    # A writer stores a reference to "d" that claims the pickle serializer, by hand
    ref = {"$mpstate": {"kind": "dict", "manager": pickling.name, "socket": pickling.socket_path,
                        "name": "d", "serializer": "pickle"}}
    plain._client.request({"op": "create", "name": "holder", "type": "json", "value": [ref]})
    (inner,) = plain.Value(None, name="holder").value
    with pytest.raises(mpstate.TypeMismatch, match="pickled object"):
        inner["t"]
    # and a pickle client storing a proxy stores no serializer in the reference
    pickling.Value(None, [pickling.dict(name="d")], name="holder2")
    stored = pickling.dump("holder2")["variables"][0]["value"][0]["$mpstate"]
    assert "serializer" not in stored and stored["name"] == "d"


def test_pickles_are_refused_where_other_writers_could_reach_the_manager(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o600)
    name = f"py-pickle-tcp-{os.getpid()}"
    with mpstate.Manager(name=name, size="16M", args=["--listen", "127.0.0.1:0", "--key-file", str(key_file)]) as m:
        url = "tcp://" + m.stat()["listening"][0]
        with pytest.raises(mpstate.PermissionDenied, match="serves TCP clients or other users"):
            mpstate.connect(name, serializer="pickle")
        with pytest.raises(mpstate.PermissionDenied, match=r"over tcp:// would unpickle"):
            mpstate.connect(url, serializer="pickle")
        os.environ["MPSTATE_KEY_FILE"] = str(key_file)
        try:
            remote = mpstate.connect(url, serializer="pickle", trust_remote_pickles=True)
            remote.dict(name="d")["when"] = datetime.date(2026, 12, 7)
            assert mpstate.connect(name, serializer="pickle", trust_remote_pickles=True).dict(name="d")["when"] == \
                datetime.date(2026, 12, 7)
        finally:
            del os.environ["MPSTATE_KEY_FILE"]
    with pytest.raises(mpstate.PermissionDenied, match="serves TCP clients or other users"):
        mpstate.Manager(name=f"{name}-uid", size="16M", args=["--allow-uid", "65534"], serializer="pickle")
    with pytest.raises(ValueError, match="serializer is 'json' or 'pickle'"):
        mpstate.Manager(size="16M", serializer="yaml")
