# SPDX-License-Identifier: MIT
"""Python's containers as a Manager's proxies have them: dict keys of any hashable
JSON-ish type, proxies nested in containers, the list's operators, live iteration,
Array slices, bytes anywhere; and the bad inputs, each with a clear error."""
import multiprocessing
import pickle

import pytest

import workers


def test_dict_keys_are_str_int_float_bool_none_and_tuples_as_in_python(manager):
    d = manager.dict()
    for i in range(65, 70):
        d[i] = chr(i)
    d["user@example.com"] = "mail"
    d[(1, "a")] = "tuple"
    d[None] = "none"
    d[-5] = "negative"
    assert d.copy() == {**{i: chr(i) for i in range(65, 70)}, "user@example.com": "mail", (1, "a"): "tuple",
                        None: "none", -5: "negative"}
    assert d[65] == "A" and d[65.0] == "A"  # 65 == 65.0 is one key, as in a dict
    d[True] = "one"
    assert d[1] == "one" and d[1.0] == "one"
    assert "5" not in d and 5 not in d
    d[5], d["5"] = "int", "str"  # distinct keys, as in Python
    assert (d[5], d["5"]) == ("int", "str")
    assert sorted(map(repr, d.keys())) == sorted(map(repr, d.copy().keys()))
    with pytest.raises(KeyError) as e:
        d[404]
    assert e.value.args == (404,)


def test_dict_popitem_iteration_and_a_change_during_iteration(manager):
    d = manager.dict(a=1)
    assert d.popitem() == ("a", 1)
    with pytest.raises(KeyError, match="empty"):
        d.popitem()
    for i in range(3):
        d[i] = i
    it = iter(d)
    assert list(it) == [0, 1, 2] and list(it) == []
    it = iter(d)
    d.clear()
    with pytest.raises(RuntimeError, match="changed size"):
        next(it)


def test_a_key_removed_by_another_process_is_gone_for_a_bound_proxy(manager):
    d = manager.dict(name="shared/d")
    d["k"] = 1
    assert "k" in d  # bound here
    p = multiprocessing.get_context("fork").Process(target=workers.delete_key, args=(d, "k"))
    p.start()
    p.join()
    assert p.exitcode == 0
    assert "k" not in d and d.get("k") is None


def test_proxies_nest_in_containers_and_stay_live(manager):
    pets = manager.dict(ferrets=2)
    supplies = manager.dict(water=10)
    d = manager.dict(pets=pets, supplies=supplies)
    d["supplies"]["blankets"] = 5
    assert supplies["blankets"] == 5
    del pets, supplies
    assert d["pets"]["ferrets"] == 2
    nested = manager.list([manager.list(range(3)) for _ in range(3)])
    nested[0][-1] = 55
    assert [inner[:] for inner in nested] == [[0, 1, 55], [0, 1, 2], [0, 1, 2]]
    q = manager.Queue()
    box = manager.dict()
    box[0] = q
    box[0].put(123)
    assert q.get() == 123
    lock = manager.Lock()
    holder = manager.list([lock, manager.Event(), manager.Value("i", 7), manager.Barrier(2, timeout=3)])
    assert holder[0].name == lock.name and holder[2].value == 7 and holder[3]._timeout == 3
    # What is stored is a reference, readable from any language, never a pickle.
    [record] = manager.dump(holder._value.name)["variables"]
    stored = record["value"][0]
    assert stored == {"$mpstate": {"kind": "lock", "manager": lock.__getstate__()[0],
                                   "socket": lock.__getstate__()[1], "name": lock.name}}


def test_a_list_holding_itself_shows_and_unpickles(manager):
    b = manager.list()
    b.append(b)
    assert b[0][0][0]._value.name == b._value.name
    assert "..." in repr(b)
    assert pickle.loads(pickle.dumps(b))[0]._value.name == b._value.name


def test_a_nested_proxy_travels_to_a_child_process(manager):
    inner = manager.list()
    outer = manager.dict(inbox=inner)
    p = multiprocessing.get_context("spawn").Process(target=workers.append_to_nested, args=(outer, "inbox", 42))
    p.start()
    p.join(60)
    assert p.exitcode == 0
    assert inner[:] == [42]


def test_list_operators_sort_reverse_and_live_iteration(manager):
    b = manager.list(range(5))
    b *= 2
    assert b[:] == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]
    b += [9]
    assert b + [5] == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 9, 5] and [7] + b == [7] + b[:]
    assert b * 2 == b[:] * 2 and 2 * b == b[:] * 2
    b.sort()
    assert b[:] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 9]
    b.sort(key=lambda x: -x)
    assert b[0] == 9
    b.reverse()
    assert b[-1] == 9
    it = iter(b)
    b[0] = 100  # a change before the next item is seen, as with a Manager's list
    assert next(it) == 100
    assert list(it) == b[1:]


def test_array_slices_read_and_write_as_ctypes_arrays(manager):
    a = manager.Array("i", [0] * 5)
    a[1:3] = [7, 8]
    a[::2] = [1, 1, 1]
    assert a[:] == [1, 7, 1, 0, 1]
    with pytest.raises(ValueError, match="same size"):
        a[0:2] = [1]


def test_bytes_travel_in_queues_and_inside_json_values(manager):
    q = manager.Queue()
    q.put(b"\x00raw\xff")
    assert q.get() == b"\x00raw\xff"
    v = manager.Value("json", {"blob": b"\x01\x02", "list": [b"x"]})
    assert v.value == {"blob": b"\x01\x02", "list": [b"x"]}


def test_barrier_pickles_with_its_timeout_and_action(manager):
    b = manager.Barrier(1, action=workers.no_op, timeout=5)
    copy = pickle.loads(pickle.dumps(b))
    assert copy._timeout == 5 and copy._action is workers.no_op
    assert copy.wait() == 0


# The bad inputs of issue 22's table, and their neighbours: a builtin-derived error
# with a sentence, never pybind11's text; the manager serves on.
@pytest.mark.parametrize("call, error, words", [
    (lambda m: m.Value("q", 2**70), OverflowError, "64 bits"),
    (lambda m: m.Value("q", -2**70), OverflowError, "64 bits"),
    (lambda m: m.dict().__setitem__("x", 2**70), OverflowError, "64 bits"),
    (lambda m: m.dict().__setitem__("x", [1, 2**70]), OverflowError, "64 bits"),
    (lambda m: m.Queue().put(2**70), OverflowError, "64 bits"),
    (lambda m: m.dict().__setitem__([1], "x"), TypeError, "dict keys are"),
    (lambda m: m.dict().__setitem__(float("nan"), "x"), TypeError, "NaN"),
    (lambda m: m.dict().__setitem__("k" * 300, "x"), ValueError, "too long"),
    (lambda m: m.dict().__setitem__("x", {1: "a"}), TypeError, "str keys"),
    (lambda m: m.dict().__setitem__("x", {"$mpstate": 1}), ValueError, "mpstate's own"),
    (lambda m: m.dict().__setitem__("x", object()), TypeError, "object is none of them"),
    (lambda m: m.dict().__setitem__("x", float("inf")), ValueError, "finite"),
    (lambda m: m.list().append({1, 2}), TypeError, "set is none of them"),
    (lambda m: m.Barrier(2, action="no"), TypeError, "callable"),
    (lambda m: m.Lock().acquire(False, 1), ValueError, "non-blocking"),
    (lambda m: m.Lock().acquire(timeout=-100), ValueError, "non-negative"),
    (lambda m: m.Lock().acquire(timeout=1e100), OverflowError, "too large"),
    (lambda m: m.Lock().release(), RuntimeError, "not held"),
])
def test_bad_input_raises_a_python_error_with_a_sentence(manager, call, error, words):
    with pytest.raises(error) as e:
        call(manager)
    text = str(e.value)
    assert words in text
    assert "pybind11" not in text and "Invoked with" not in text and "C++" not in text
    assert manager.Value("i", 3).value == 3
