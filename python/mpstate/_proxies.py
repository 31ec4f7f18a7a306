# SPDX-License-Identifier: MIT
"""The Python side of the proxies: what Python's own types have beyond the C++
calls (slices, update(), repr, attribute access, awaitables). Each pickles as its
manager's address and its name (pybind11's pickling of the _core base)."""

import asyncio
import functools
import io
import json
import pickle
import threading

from . import _core


_shown = threading.local()  # the variables whose repr is being made, per thread


def _contents_repr(kind, name, contents):
    """repr of a container proxy with its contents, "..." for one inside itself
    (a list that holds a proxy to itself, as reprlib.recursive_repr does)."""
    active = _shown.__dict__.setdefault("names", set())
    if name in active:
        return f"<mpstate.{kind} '{name}' ...>"
    active.add(name)
    try:
        return f"<mpstate.{kind} '{name}' {contents()!r}>"
    finally:
        active.discard(name)


async def _in_thread(fn, *args):
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args))


class ValueProxy(_core.Value):
    """A named variable: ``.value`` (or get()/set()), add(), compare_exchange(),
    update(fn), version and wait_for_change()."""


class DictProxy(_core.Dict):
    """Python's managed dict as named variables: key k is the variable "<name>/k".
    Keys are str, int, float, bool, None or tuples of them; a str of letters,
    digits, '_', '.' and '-' is its own name segment (others are encoded), and keys
    come in the order of those names."""

    _anchor = None  # an unnamed dict's anchor variable, held bound while this proxy lives

    def __iter__(self):
        # Over the keys as they were at iter(); a key removed meanwhile raises, as a
        # dict that changed size during iteration does.
        return self._iterate(self.keys())

    def __reduce__(self):
        return (_from_ref, (_ref_of(self),))

    def _bind_anchor(self, client):
        """Holds an unnamed dict's anchor (its int variable of the dict's own name),
        as the proxy that made it does, so that the dict lives while this proxy does."""
        try:
            self._anchor = ValueProxy(client, self.name)
        except (KeyError, TypeError):  # a named dict: no anchor (or a variable of another type)
            pass

    def _iterate(self, keys):
        for key in keys:
            if key not in self:
                raise RuntimeError("dictionary changed size during iteration")
            yield key

    def update(self, other=(), /, **kwargs):
        """dict.update: stores each key of `other` (a mapping or (key, value) pairs) and of kwargs."""
        items = other.items() if hasattr(other, "items") else other
        for key, value in items:
            self[key] = value
        for key, value in kwargs.items():
            self[key] = value

    def setdefault(self, key, default=None):
        """The value of `key`; when absent, stores `default` first (another process may win the race:
        its value is then returned).
        """
        if key not in self:
            self[key] = default
        return self[key]

    def __eq__(self, other):
        return self.copy() == (other.copy() if isinstance(other, DictProxy) else other)

    def __repr__(self):
        return _contents_repr("dict", self.name, self.copy)


_core._install_fast_dict_slots(DictProxy)  # d[k] and d[k] = v without pybind11's dispatcher


class ArrayProxy(_core.Array):
    """A fixed-size array of one scalar type (multiprocessing.Array's use)."""

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self.tolist()[index]
        return super().__getitem__(index)

    def __setitem__(self, index, value):
        if isinstance(index, slice):  # as ctypes arrays: the slice keeps its length
            positions = range(*index.indices(len(self)))
            values = list(value)
            if len(positions) != len(values):
                raise ValueError("can only assign a sequence of the same size to an Array slice")
            for i, v in zip(positions, values):  # each item at once; other items' writers lose nothing
                super().__setitem__(i, v)
        else:
            super().__setitem__(index, value)

    def __iter__(self):
        return iter(self.tolist())

    def __repr__(self):
        return f"<mpstate.Array '{self.name}' {self.tolist()!r}>"


class ListProxy:
    """Python's managed list: a JSON list in one variable, each change made
    atomically under the variable's lock."""

    def __init__(self, client, name, *, check=True):
        self._client = client
        self._value = _core.Value(client, name)
        if check and (self._value.type != "json" or not isinstance(self._value.get(), list)):
            raise _core_type_mismatch(name, "a list")

    @classmethod
    def create(cls, client, name, items):
        """Makes the list `name` holding `items`, or binds it when it exists (its items kept)."""
        client.create(name, items, "json")
        return cls(client, name)

    def _change(self, fn):
        result = []

        def apply(items):
            result.append(fn(items))
            return items
        self._value.update(apply)
        return result[-1]

    def append(self, item):
        """Adds item at the end (atomically)."""
        self._change(lambda items: items.append(item))

    def extend(self, more):
        """Adds the items of `more` at the end (atomically)."""
        more = list(more)
        self._change(lambda items: items.extend(more))

    def insert(self, index, item):
        """Inserts item before `index` (atomically)."""
        self._change(lambda items: items.insert(index, item))

    def pop(self, index=-1):
        """Removes and returns the item at `index` (the last by default); IndexError when empty."""
        return self._change(lambda items: items.pop(index))

    def remove(self, item):
        """Removes the first item equal to `item`; ValueError when there is none."""
        self._change(lambda items: items.remove(item))

    def clear(self):
        """Removes every item."""
        self._value.set([])

    def __setitem__(self, index, item):
        def put(items):
            items[index] = item
        self._change(put)

    def __delitem__(self, index):
        def drop(items):
            del items[index]
        self._change(drop)

    def __getitem__(self, index):
        return self._value.get()[index]

    def __len__(self):
        return len(self._value.get())

    def __iter__(self):
        # Live, as a Manager's list proxy iterates (item i is read when reached),
        # with one read per change rather than one per item.
        i, seen, items = 0, None, None
        while True:
            version = self._value.version
            if version != seen:
                seen, items = version, self._value.get()
            if i >= len(items):
                return
            yield items[i]
            i += 1

    def __iadd__(self, more):
        self.extend(more)
        return self

    def __imul__(self, n):
        self._change(lambda items: items.__imul__(n))
        return self

    def __add__(self, other):
        return self.copy() + (other.copy() if isinstance(other, ListProxy) else other)

    def __radd__(self, other):
        return other + self.copy()

    def __mul__(self, n):
        return self.copy() * n

    __rmul__ = __mul__

    def sort(self, *, key=None, reverse=False):
        """Sorts the items in place (atomically), as list.sort."""
        self._change(lambda items: items.sort(key=key, reverse=reverse))

    def reverse(self):
        """Reverses the items in place (atomically)."""
        self._change(lambda items: items.reverse())

    def __contains__(self, item):
        return item in self._value.get()

    def index(self, item, *args):
        """The index of the first item equal to `item` (list.index's start and stop)."""
        return self._value.get().index(item, *args)

    def count(self, item):
        """How many items equal `item`."""
        return self._value.get().count(item)

    def copy(self):
        """The items now, as a plain list."""
        return self._value.get()

    def __eq__(self, other):
        return self.copy() == (other.copy() if isinstance(other, ListProxy) else other)

    def __repr__(self):
        return _contents_repr("list", self._value.name, self.copy)

    def __reduce__(self):
        return (_from_ref, (_ref_of(self),))


def _core_type_mismatch(name, what):
    from ._errors import TypeMismatch
    return TypeMismatch(f"variable '{name}' is not {what}")


class NamespaceProxy:
    """Python's managed Namespace: each attribute is the variable "<name>/<attr>"."""

    def __init__(self, entries):
        object.__setattr__(self, "_entries", entries)

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        try:
            return self._entries[attr]
        except KeyError:
            raise AttributeError(f"namespace '{self._entries.name}' has no attribute '{attr}'") from None

    def __setattr__(self, attr, value):
        self._entries[attr] = value

    def __delattr__(self, attr):
        try:
            del self._entries[attr]
        except KeyError:
            raise AttributeError(attr) from None

    def __repr__(self):  # as multiprocessing's: attributes starting with '_' are not shown
        fields = ", ".join(f"{k}={v!r}" for k, v in sorted(self._entries.copy().items()) if not k.startswith("_"))
        return f"Namespace({fields})"

    def __reduce__(self):
        return (_from_ref, (_ref_of(self),))


class BarrierProxy(_core.Barrier):
    """threading.Barrier across processes. The last party to arrive runs `action`
    (its own proxy's: a pickled proxy carries it, by reference as pickle sends
    functions) before anyone passes."""

    def __init__(self, client, name, parties, timeout=None, action=None):
        super().__init__(client, name, parties)
        self._timeout = timeout
        self._action = action

    def wait(self, timeout=None):
        """Waits until `parties` parties wait (threading.Barrier.wait); returns this party's index
        (0 to parties-1). `timeout` defaults to the barrier's own; BrokenBarrierError when broken.
        """
        return super().wait(self._timeout if timeout is None else timeout, self._action)

    def __reduce__(self):  # with its default timeout and its action
        return (_rebuild_barrier, (_ref_of(self), self._action))

    def __repr__(self):
        if self.broken:
            return f"<mpstate.Barrier at {id(self):#x} '{self.name}': broken>"
        return f"<mpstate.Barrier at {id(self):#x} '{self.name}': waiters={self.n_waiting}/{self.parties}>"


def _rebuild_barrier(ref, action):
    proxy = _from_ref(ref)
    proxy._action = action
    return proxy


class LoopState(_core.LoopState):
    """A loop owned by one process, watched and stopped from others:
    idle -> starting -> running -> stopping -> stopped, or failed (its owner died)."""

    async def wait_for_async(self, state, timeout=None):
        """wait_for() for asyncio programs: waits without blocking the event loop."""
        return await _in_thread(self.wait_for, state, timeout)

    def __repr__(self):
        return f"<mpstate.LoopState '{self.name}' {self.state}>"


# ---- references: a proxy inside a stored value, and a pickled Python-side proxy
# ({"kind", "manager", "socket", "name"}, + "timeout" for a barrier). Only these
# kinds are ever rebuilt from one: a reference names a variable, never code.
_KINDS = {
    "value": ValueProxy, "dict": DictProxy, "array": ArrayProxy, "list": ListProxy,
    "namespace": NamespaceProxy, "queue": _core.Queue, "joinable_queue": _core.JoinableQueue,
    "lock": _core.Lock, "rlock": _core.RLock, "semaphore": _core.Semaphore,
    "bounded_semaphore": _core.BoundedSemaphore, "condition": _core.Condition, "event": _core.Event,
    "barrier": BarrierProxy, "loop": LoopState, "counter": _core.Counter,
}
_KIND_OF = {cls: kind for kind, cls in _KINDS.items()}
_PROXY_TYPES = tuple(_KINDS.values())  # one isinstance call tells a proxy from anything else


def _ref_of(obj):
    """The reference to the variable a proxy stands for, or None for no proxy."""
    kind = _KIND_OF.get(type(obj))
    if kind is None:
        if not isinstance(obj, _PROXY_TYPES):
            return None
        kind = next(k for c, k in _KIND_OF.items() if isinstance(obj, c))
    if kind == "list":
        state = obj._value.__getstate__()
    elif kind == "namespace":
        state = obj._entries.__getstate__()
    else:
        state = obj.__getstate__()
    ref = {"kind": kind, "manager": state[0], "socket": state[1], "name": state[2]}
    if len(state) > 3:
        ref["serializer"] = state[3]
    if kind == "barrier" and obj._timeout is not None:
        ref["timeout"] = obj._timeout
    return ref


def _from_ref(ref):
    """The proxy a reference names (bound in this process, as unpickling binds), with
    the serializer the pickled proxy had."""
    cls = _KINDS.get(ref.get("kind")) if isinstance(ref, dict) else None
    if cls is None:
        raise ValueError(f"not an mpstate reference: {ref!r}")
    state = (ref.get("manager", ""), ref.get("socket", ""), ref["name"], ref.get("serializer", "json"))
    if cls is ListProxy:
        client = _core.Client(state[0], state[1], "auto", state[3])
        return ListProxy(client, state[2], check=False)  # checked when used
    if cls is NamespaceProxy:
        return NamespaceProxy(_from_ref({**ref, "kind": "dict"}))
    proxy = cls.__new__(cls)
    proxy.__setstate__(state)
    if cls is DictProxy:
        proxy._bind_anchor(_core.Client(state[0], state[1], "auto", state[3]))
    if cls is BarrierProxy:
        proxy._timeout, proxy._action = ref.get("timeout"), None
    return proxy


def _stored_ref_of(obj):
    """_ref_of() for a proxy stored inside another variable: an unnamed proxy's
    variable then stays until removed (no proxy count follows it into a value). It
    never carries a serializer: whoever reads it decides whether to trust pickles."""
    ref = _ref_of(obj)
    if ref is not None:
        serializer = ref.pop("serializer", "json")
        _core.Client(ref["manager"], ref["socket"], "auto", serializer).set_collectable(ref["name"], False)
    return ref


def _stored_from_ref(ref):
    """The proxy a stored reference names, with the JSON serializer whatever the
    reference says (a writer must not make a reader trust pickles)."""
    if isinstance(ref, dict):
        ref = {k: v for k, v in ref.items() if k != "serializer"}
    return _from_ref(ref)


class _ValuePickler(pickle.Pickler):
    """A value's pickle (serializer="pickle"): a proxy inside it goes as a stored
    reference, as in a JSON value, so its variable stays while the value holds it."""

    def persistent_id(self, obj):
        ref = _stored_ref_of(obj)
        return None if ref is None else json.dumps(ref)


class _ValueUnpickler(pickle.Unpickler):
    def persistent_load(self, pid):
        return _stored_from_ref(json.loads(pid))


def _pickle_value(obj):
    out = io.BytesIO()
    _ValuePickler(out, pickle.HIGHEST_PROTOCOL).dump(obj)
    return out.getvalue()


def _unpickle_value(data):
    return _ValueUnpickler(io.BytesIO(data)).load()


_core._ref_of = _stored_ref_of  # what json_values.cpp stores
_core._from_ref = _stored_from_ref
_core._pickle_value = _pickle_value
_core._unpickle_value = _unpickle_value
