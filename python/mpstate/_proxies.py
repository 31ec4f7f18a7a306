# SPDX-License-Identifier: MIT
"""The Python side of the proxies: what Python's own types have beyond the C++
calls (slices, update(), repr, attribute access, awaitables). Each pickles as its
manager's address and its name (pybind11's pickling of the _core base)."""

import asyncio
import functools

from . import _core


async def _in_thread(fn, *args):
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args))


class ValueProxy(_core.Value):
    """A named variable: ``.value`` (or get()/set()), add(), compare_exchange(),
    update(fn), version and wait_for_change()."""


class DictProxy(_core.Dict):
    """Python's managed dict as named variables: key k is the variable "<name>/k"
    (keys are single name segments: letters, digits, '_', '.', '-')."""

    def update(self, other=(), /, **kwargs):
        items = other.items() if hasattr(other, "items") else other
        for key, value in items:
            self[key] = value
        for key, value in kwargs.items():
            self[key] = value

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def __eq__(self, other):
        return self.copy() == (other.copy() if isinstance(other, DictProxy) else other)

    def __repr__(self):
        return f"<mpstate.dict '{self.name}' {self.copy()!r}>"


class ArrayProxy(_core.Array):
    """A fixed-size array of one scalar type (multiprocessing.Array's use)."""

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self.tolist()[index]
        return super().__getitem__(index)

    def __iter__(self):
        return iter(self.tolist())

    def __repr__(self):
        return f"<mpstate.Array '{self.name}' {self.tolist()!r}>"


class ListProxy:
    """Python's managed list: a JSON list in one variable, each change made
    atomically under the variable's lock."""

    def __init__(self, client, name):
        self._client = client
        self._value = _core.Value(client, name)
        if self._value.type != "json" or not isinstance(self._value.get(), list):
            raise _core_type_mismatch(name, "a list")

    @classmethod
    def create(cls, client, name, items):
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
        self._change(lambda items: items.append(item))

    def extend(self, more):
        more = list(more)
        self._change(lambda items: items.extend(more))

    def insert(self, index, item):
        self._change(lambda items: items.insert(index, item))

    def pop(self, index=-1):
        return self._change(lambda items: items.pop(index))

    def remove(self, item):
        self._change(lambda items: items.remove(item))

    def clear(self):
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
        return iter(self._value.get())

    def __contains__(self, item):
        return item in self._value.get()

    def index(self, item, *args):
        return self._value.get().index(item, *args)

    def count(self, item):
        return self._value.get().count(item)

    def copy(self):
        return self._value.get()

    def __eq__(self, other):
        return self.copy() == (other.copy() if isinstance(other, ListProxy) else other)

    def __repr__(self):
        return f"<mpstate.list '{self._value.name}' {self.copy()!r}>"

    def __reduce__(self):
        return (_rebind_list, (self._client.manager_name, self._client.socket_path, self._value.name))


def _rebind_list(manager_name, socket_path, name):
    return ListProxy(_core.Client(manager_name, socket_path), name)


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

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in sorted(self._entries.copy().items()))
        return f"Namespace({fields})"

    def __reduce__(self):
        return (NamespaceProxy, (self._entries,))


class BarrierProxy(_core.Barrier):
    """threading.Barrier across processes (no action: code is never shared)."""

    def __init__(self, client, name, parties, timeout=None):
        super().__init__(client, name, parties)
        self._timeout = timeout

    def wait(self, timeout=None):
        return super().wait(self._timeout if timeout is None else timeout)


class LoopState(_core.LoopState):
    """A loop owned by one process, watched and stopped from others:
    idle -> starting -> running -> stopping -> stopped, or failed (its owner died)."""

    async def wait_for_async(self, state, timeout=None):
        """wait_for() for asyncio programs: waits without blocking the event loop."""
        return await _in_thread(self.wait_for, state, timeout)

    def __repr__(self):
        return f"<mpstate.LoopState '{self.name}' {self.state}>"
