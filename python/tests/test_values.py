# SPDX-License-Identifier: MIT
"""Values, containers and errors in one process: Python's spelling and semantics."""
import pickle
import queue
import threading

import pytest

import mpstate


def test_value_types_keep_their_python_type(manager):
    assert manager.Value("i", 5).value == 5
    assert manager.Value("Q", 2**64 - 1).value == 2**64 - 1
    assert manager.Value("d", 1).value == 1.0 and isinstance(manager.Value("d", 1).value, float)
    assert manager.Value("?", True).value is True
    assert manager.Value(str, "héllo").value == "héllo"
    assert manager.Value(bytes, b"\x00\xff").value == b"\x00\xff"
    assert manager.Value("json", {"a": [1, None, 2.5]}).value == {"a": [1, None, 2.5]}


def test_add_cas_update_and_versions(manager):
    v = manager.Value("i", 10, name="n")
    assert v.add(5) == 15
    assert v.compare_exchange(15, 20) == (True, 15)
    assert v.compare_exchange(15, 30) == (False, 20)
    assert v.update(lambda x: x * 2) == 40
    before = v.version
    v.value = 1
    assert v.version == before + 1
    assert v.wait_for_change(v.version, timeout=0.01) == v.version  # nothing changed: times out


def test_named_values_bind_across_calls_and_check_types(manager):
    a = manager.Value("i", 1, name="jobs/done")
    b = manager.Value("i", 99, name="jobs/done")  # binds: the value is kept
    a.add(1)
    assert b.value == 2
    with pytest.raises(mpstate.TypeMismatch) as e:
        manager.Value(str, "x", name="jobs/done")
    assert isinstance(e.value, TypeError) and e.value.code == "type_mismatch"


def test_bad_input_gets_clear_errors(manager):
    v = manager.Value("i", 0)
    with pytest.raises(TypeError):
        v.value = "not an int"
    with pytest.raises(mpstate.OutOfRange):
        manager.Value("q", 2**63 - 1).add(1)
    with pytest.raises(TypeError, match="JSON"):
        manager.Value("json", None).set(object())
    with pytest.raises(mpstate.InvalidName):
        manager.Value("i", 0, name="bad name!")
    with pytest.raises(ValueError, match="typecode"):
        manager.Value("z", 0)
    assert manager.Value("i", 7).value == 7  # and the manager serves on


def test_dict_is_a_mutable_mapping_of_typed_keys(manager):
    d = manager.dict({"a": 1}, name="cfg", b="two")
    d["c"] = [1, 2]
    d["a"] = 2.5  # another type: the key is made again
    assert d.copy() == {"a": 2.5, "b": "two", "c": [1, 2]}
    assert len(d) == 3 and "b" in d and "z" not in d
    assert d.get("z", 0) == 0 and d.pop("b") == "two" and d.pop("b", None) is None
    with pytest.raises(KeyError):
        d["z"]
    with pytest.raises(KeyError):
        del d["z"]
    other = manager.dict(name="cfg")  # the same keys, from a second proxy
    assert other["a"] == 2.5
    d.clear()
    assert len(other) == 0


def test_list_array_namespace(manager):
    lst = manager.list([1, 2])
    lst.append("three")
    lst.extend([4])
    lst[0] = 0
    assert lst.copy() == [0, 2, "three", 4] and lst.pop() == 4 and len(lst) == 3
    arr = manager.Array("i", [1, 2, 3])
    arr[1] = 20
    assert arr[:] == [1, 20, 3] and arr[-1] == 3 and len(arr) == 3
    with pytest.raises(IndexError):
        arr[3]
    ns = manager.Namespace(x=1)
    ns.y = "why"
    assert (ns.x, ns.y) == (1, "why")
    with pytest.raises(AttributeError):
        ns.nothing


def test_queue_follows_python_queue(manager):
    q = manager.Queue(maxsize=2)
    q.put(1)
    q.put_nowait({"two": 2})
    with pytest.raises(queue.Full):
        q.put(3, timeout=0.01)
    assert q.full() and q.qsize() == 2
    assert q.get() == 1 and q.get_nowait() == {"two": 2}
    with pytest.raises(queue.Empty):
        q.get(block=False)
    jq = manager.JoinableQueue()
    jq.put("job")
    assert jq.join(timeout=0.01) is False
    jq.get()
    jq.task_done()
    assert jq.join(timeout=1) is True


def test_sync_types_follow_threading(manager):
    lock = manager.Lock()
    assert lock.acquire() and lock.locked()
    assert lock.acquire(blocking=False) is False
    assert lock.acquire(timeout=0.01) is False
    lock.release()
    rlock = manager.RLock()
    with rlock, rlock:
        pass
    sem = manager.BoundedSemaphore(2)
    assert sem.acquire() and sem.acquire() and not sem.acquire(timeout=0.01)
    sem.release(2)
    with pytest.raises(mpstate.Error):
        sem.release()  # a BoundedSemaphore refuses a release past its bound
    event = manager.Event()
    threading.Timer(0.05, event.set).start()
    assert event.wait(5) and event.is_set()
    barrier = manager.Barrier(2, timeout=0.05)
    with pytest.raises(threading.BrokenBarrierError):
        barrier.wait()
    cond = manager.Condition()
    with cond:
        assert cond.wait(timeout=0.01) is False
        assert cond.wait_for(lambda: True, timeout=1)


def test_proxies_pickle_as_a_name_not_a_value(manager):
    v = manager.Value("i", 3, name="p/v")
    data = pickle.dumps(v)
    assert b"p/v" in data and len(data) < 300
    again = pickle.loads(data)
    again.add(1)
    assert v.value == 4
    for proxy in (manager.dict(name="p/d"), manager.Queue(), manager.Lock(), manager.Event(),
                  manager.Semaphore(), manager.loop("p/loop"), manager.list([1]), manager.Array("d", 2)):
        assert type(pickle.loads(pickle.dumps(proxy))) is type(proxy)
    with pytest.raises(TypeError):
        pickle.dumps(manager)


def test_connect_to_a_running_manager_and_a_missing_one(manager):
    manager.Value("i", 41, name="shared")
    other = mpstate.connect(manager.name)
    assert other.Value("i", name="shared").add(1) == 42
    with pytest.raises(mpstate.ManagerUnavailable) as e:
        mpstate.connect("no-such-manager-here")
    assert isinstance(e.value, ConnectionError)


def test_values_of_any_size_up_to_the_limit_at_creation_too():
    with mpstate.Manager(size="160M") as manager:  # a value takes two buffers of its size
        _create_large_values(manager)


def _create_large_values(manager):
    big_text, big_bytes = "x" * (8 << 20), bytes(range(256)) * (24 << 12)  # 8 MiB, 6 MiB
    assert manager.Value(str, big_text, name="big/text").value == big_text
    assert manager.Value(bytes, big_bytes, name="big/bytes").value == big_bytes
    d = manager.dict({"blob": big_bytes})
    assert d["blob"] == big_bytes
    q = manager.Queue()
    q.put(big_bytes[:256 << 10])  # a queue's 64 item slots together stay under the 64 MiB record limit
    assert q.get(timeout=5) == big_bytes[:256 << 10]
    with pytest.raises(mpstate.ValueTooLarge):
        manager.Value(str, "y" * (65 << 20))
    assert manager.Value(int, 7).value == 7  # the manager serves on


def test_an_embedded_manager_logs_only_warnings_unless_asked(tmp_path):
    import subprocess
    import sys
    program = ("import mpstate, sys\n"
               "with mpstate.Manager(size='1M', log_level=sys.argv[1]) as m:\n"
               "    m.Value('i', 1).add(1)\n")
    quiet = subprocess.run([sys.executable, "-c", program, "warning"], capture_output=True, text=True, timeout=60)
    chatty = subprocess.run([sys.executable, "-c", program, "info"], capture_output=True, text=True, timeout=60)
    assert quiet.returncode == 0 and chatty.returncode == 0, quiet.stderr + chatty.stderr
    assert quiet.stderr == ""
    assert " info mpstate-manager[" in chatty.stderr and "serving" in chatty.stderr
    with pytest.raises(ValueError, match="log_level"):
        mpstate.Manager(size="1M", log_level="chatty")


def test_the_raw_entry_points_answer_as_the_general_ones(manager):
    v, f, s = manager.Value("q", 0), manager.Value("d", 0.0), manager.Value(str, "x")
    assert v.add(5) == v._add(0) == 5 and f.add(0.5) == 0.5 and f.add(1) == 1.5  # an int on a double: general path
    v.value = 2**63 - 1
    for add in (v.add, v._add):
        with pytest.raises(mpstate.OutOfRange):
            add(1)
        with pytest.raises(mpstate.OutOfRange):
            add(2**70)
    with pytest.raises(mpstate.TypeMismatch):
        s.add(1)
    with pytest.raises(TypeError):
        v.add()
    d = manager.dict()
    d["k"] = 1
    d[2] = "two"
    assert d["k"] == d.__getitem__("k") == 1 and d[2] == "two"
    del d["k"]
    with pytest.raises(KeyError):
        d["k"]
    with pytest.raises(KeyError):
        del d["k"]
    with pytest.raises(TypeError):
        d[[1]] = 1  # an unhashable key, as a dict says
