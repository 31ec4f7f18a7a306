# SPDX-License-Identifier: MIT
"""Every public class, method and property of the package says what it does (help()
and the API reference show it), and the raw CPython entry points have real
signatures (inspect.signature works, as it does for pybind11's methods)."""
import inspect
import re

import mpstate
from mpstate import _core, _proxies

PUBLIC_CLASSES = [
    mpstate.Client, mpstate.Manager, mpstate.LoopState, mpstate.Fence, _proxies.ValueProxy, _proxies.DictProxy,
    _proxies.ListProxy, _proxies.ArrayProxy, _proxies.NamespaceProxy, _proxies.BarrierProxy, _core.Queue,
    _core.JoinableQueue, _core.Lock, _core.RLock, _core.Semaphore, _core.BoundedSemaphore, _core.Condition,
    _core.Event,
]
# pybind11's generated lines: "name(self: T, ...) -> R", "Overloaded function.", and
# the "--" of a text signature
_GENERATED = re.compile(r"^\s*(\d+\. )?\w+\((self|\$self)[:,)]|^\s*(Overloaded function\.|--)\s*$")


def written_doc(obj):
    doc = getattr(obj, "__doc__", None) or ""
    return "\n".join(line for line in doc.strip().splitlines() if not _GENERATED.match(line)).strip()


def public_members(cls):
    for name in dir(cls):
        if name.startswith("_"):
            continue
        owner = next((k for k in cls.__mro__ if name in k.__dict__), object)
        if owner.__module__ not in ("mpstate", "mpstate._core", "mpstate._proxies"):
            continue  # object's, and the stdlib's
        yield name, inspect.getattr_static(cls, name)


def test_every_public_class_method_and_property_has_a_docstring():
    missing = [cls.__qualname__ for cls in PUBLIC_CLASSES if not written_doc(cls)]
    for cls in PUBLIC_CLASSES:
        for name, member in public_members(cls):
            if isinstance(member, (classmethod, staticmethod)):
                member = member.__func__
            if not written_doc(member):
                missing.append(f"{cls.__qualname__}.{name}")
    assert not missing, f"no docstring: {missing}"


def test_the_raw_entry_points_have_real_signatures():
    signatures = {
        _core.Lock.acquire: "(self, /, blocking=True, timeout=-1)",
        _core.RLock.release: "(self, /)",
        _core.Queue.put: "(self, /, item, block=True, timeout=None)",
        _core.JoinableQueue.get: "(self, /, block=True, timeout=None)",
        _proxies.ValueProxy.add: "(self, /, delta, fence=None)",
    }
    for fn, expected in signatures.items():
        assert str(inspect.signature(fn)) == expected, fn.__qualname__
    assert inspect.signature(mpstate.Manager).parameters["serializer"].default == "json"
