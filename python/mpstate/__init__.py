# SPDX-License-Identifier: MIT
"""mpstate: named variables shared between processes, at shared-memory speed.

    import mpstate
    with mpstate.Manager(name="app", size="64M") as m:
        done = m.Value("i", 0, name="jobs/done")   # other processes: the same call binds it
        done.add(1)
        loop = m.loop("scheduler/loop")            # a child's event loop, seen from here

A Manager starts an embedded mpstate-manager process (it ends with the ``with``
block; if this process is killed, it serves on while others use it);
``mpstate.connect(name)`` attaches to a running one. Proxies work on the mapped
segment directly (no socket, no pickle) and travel to other processes by pickling
their name and the manager's address, never their value. Values are int, float,
bool, str, bytes and JSON-able objects; code is never pickled or stored.
"""

import logging
import os
import re
import threading
import time
import uuid

from . import _core, _programs
from ._errors import *  # noqa: F401,F403  (the exception classes)
from ._errors import __all__ as _error_names
from ._errors import ManagerRunning, ManagerUnavailable, PermissionDenied, TypeMismatch
from ._dashboard import dashboard  # noqa: F401  (mpstate.dashboard(m): an ASGI app)
from ._proxies import _in_thread, ArrayProxy, BarrierProxy, DictProxy, ListProxy, LoopState, NamespaceProxy, ValueProxy

__version__ = _core.__version__
Fence = _core.Fence
__all__ = ["Manager", "Client", "connect", "dashboard", "LoopState", "Fence"] + list(_error_names)

# typecodes of multiprocessing / array, and Python types, to mpstate types
_TYPECODES = {
    **dict.fromkeys("bhilq", "int64"),
    **dict.fromkeys("BHILQ", "uint64"),
    **dict.fromkeys("fd", "double"),
    "?": "bool", "u": "string", "c": "bytes",
}
_TYPES = {int: "int64", float: "double", bool: "bool", str: "string", bytes: "bytes",
          dict: "json", list: "json", object: "json"}
_ZERO = {"int64": 0, "uint64": 0, "double": 0.0, "bool": False, "string": "", "bytes": b"", "json": None}
_ARRAY_TYPES = {"int64", "uint64", "double", "bool"}


def _mpstate_type(typecode_or_type, value):
    if typecode_or_type is None:
        return _core_type_of(value)
    if isinstance(typecode_or_type, str):
        if typecode_or_type in _TYPECODES:
            return _TYPECODES[typecode_or_type]
        if typecode_or_type in _ZERO:
            return typecode_or_type
    elif typecode_or_type in _TYPES:
        return _TYPES[typecode_or_type]
    raise ValueError(f"unknown typecode or type {typecode_or_type!r}: use an array typecode "
                     f"('i', 'q', 'd', '?', ...), int, float, bool, str, bytes, or 'json'")


def _core_type_of(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64" if -(1 << 63) <= value < (1 << 63) else "uint64"
    return {float: "double", str: "string", bytes: "bytes"}.get(type(value), "json")


def _size_bytes(size):
    if isinstance(size, int):
        return size
    text = str(size).strip().upper().removesuffix("B")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    return int(float(text.rstrip("KMG")) * scale)


def _fresh_name(kind):
    return f"_py/{kind}-{uuid.uuid4().hex}"


_SERIALIZERS = ("json", "pickle")


class Client:
    """A connection to a manager: makes and binds named variables.

    Every factory takes ``name=``: a name other processes (and ``mpstate-dump``)
    find the variable by. The same call in another process binds the existing
    variable (its value kept). Without a name the variable gets a unique one.

    ``serializer="pickle"`` keeps what JSON cannot (tuples, datetimes, dataclasses,
    sets, dicts with int keys) as pickles, and unpickles them on reading. Unpickling
    runs code chosen by whoever wrote the value, so it is allowed only where every
    possible writer is this user: a local manager that neither listens on TCP nor
    admits other users (``--allow-uid``/``--allow-gid``). Elsewhere (``tcp://``,
    ``redis://``, such a manager) it raises PermissionDenied unless
    ``trust_remote_pickles=True`` says that everyone who holds the key may run code
    here. Proxies made from a pickle client, and copies of them pickled to other
    processes, share its serializer; a client without it raises TypeMismatch on a
    pickled value rather than unpickle it.
    """

    def __init__(self, name=None, *, socket_path=None, transport="auto", serializer="json",
                 trust_remote_pickles=False):
        if serializer not in _SERIALIZERS:
            raise ValueError(f"serializer is 'json' or 'pickle', not {serializer!r}")
        checked = serializer == "pickle" and not trust_remote_pickles
        where = next((w for w in (name, socket_path) if w and "://" in w), None)
        if checked and where:
            raise PermissionDenied(
                f"serializer='pickle' over {where.split('://')[0]}:// would unpickle what any holder of the key "
                f"wrote; pass trust_remote_pickles=True to allow it")
        self._client = _core.Client(name or "", socket_path or "", transport, serializer)
        if checked:
            self._check_pickle_writers()

    def _check_pickle_writers(self):
        """PermissionDenied unless every process that can write to this local manager
        is this user's (its segment and socket are 0600 by construction)."""
        stat = self.stat()
        # Each answer must be there and say no: a backend or an older manager that does
        # not say is not trusted.
        if "backend" in stat or stat.get("listening") != [] or stat.get("other_users_admitted") is not False:
            raise PermissionDenied(
                f"serializer='pickle': manager '{stat.get('manager', stat.get('url'))}' also serves TCP clients or "
                f"other users (or does not say that it does not), whose pickles would run code here; pass "
                f"trust_remote_pickles=True to allow it")

    @property
    def serializer(self):
        """'json' (the default) or 'pickle': how values JSON cannot hold are kept."""
        return self._client.serializer

    @property
    def name(self):
        """The manager's name (or its tcp:// address)."""
        return self._client.manager_name

    @property
    def is_local(self):
        """Whether proxies reach the variables in mapped shared memory (else over the socket)."""
        return self._client.is_local

    # ---- values and containers (multiprocessing.managers.SyncManager's names)
    def _unnamed(self, proxy, name):
        """An unnamed proxy's variable lives while any process holds a proxy to it
        (on a mapped segment; elsewhere, and named, until removed)."""
        self._client.set_collectable(name, True)
        return proxy

    def Value(self, typecode_or_type=None, value=None, *, name=None, lock=True):
        """A variable of one plain type (multiprocessing's Value): typecode ('i', 'q', 'd', '?', ...)
        or type (int, float, bool, str, bytes, 'json'), else the type of `value`. An existing
        variable `name` is bound with its value kept (TypeMismatch if of another type).
        `lock` is accepted for multiprocessing's signature: every write is atomic.
        """
        kind = _mpstate_type(typecode_or_type, value)
        if name is None:
            name = _fresh_name("value")
            return self._unnamed(self.Value(typecode_or_type, value, name=name), name)
        initial = _ZERO[kind] if value is None else value
        if kind == "double":
            initial = float(initial)
        elif kind in ("int64", "uint64") and isinstance(initial, bool):
            initial = int(initial)  # Value('i', False), as ctypes takes it
        self._client.create(name, initial, kind)
        proxy = ValueProxy(self._client, name)
        if proxy.type != kind:
            raise TypeMismatch(f"variable '{name}' is {proxy.type}, not {kind}")
        return proxy

    def Array(self, typecode_or_type, size_or_initializer, *, name=None, lock=True):
        """A fixed-size array of int, float or bool items (multiprocessing's Array): a size,
        or the initial items. An existing array `name` is bound as it is.
        """
        kind = _mpstate_type(typecode_or_type, None)
        if kind not in _ARRAY_TYPES:
            raise ValueError(f"an Array holds int, float or bool items, not {kind}")
        if name is None:
            name = _fresh_name("array")
            return self._unnamed(self.Array(typecode_or_type, size_or_initializer, name=name), name)
        items = None if isinstance(size_or_initializer, int) else list(size_or_initializer)
        size = size_or_initializer if items is None else len(items)
        fresh = self._client.type_of(name) is None
        array = ArrayProxy(self._client, name, kind, size)
        if items is not None and fresh:
            array.assign(items)
        return array

    def dict(self, mapping=(), /, *, name=None, **kwargs):
        """A dict shared between processes (Manager().dict()): each key its own variable
        '<name>/<key>'. The mapping and keyword arguments are stored into it.
        """
        proxy = self._dict_proxy(name, "dict")
        proxy.update(mapping, **kwargs)
        return proxy

    def _dict_proxy(self, name, kind):
        if name is not None:
            return DictProxy(self._client, name)
        # An unnamed dict's keys live under an anchor variable its proxies hold bound:
        # collecting the anchor removes the keys too.
        name = _fresh_name(kind)
        self._client.create(name, 0, "int64")
        proxy = DictProxy(self._client, name)
        proxy._anchor = ValueProxy(self._client, name)
        return self._unnamed(proxy, name)

    def list(self, sequence=(), /, *, name=None):
        """A list shared between processes (Manager().list()): one JSON value, each change
        an atomic update. A fresh list gets `sequence`; an existing one is bound as it is.
        """
        if name is None:
            name = _fresh_name("list")
            return self._unnamed(ListProxy.create(self._client, name, list(sequence)), name)
        return ListProxy.create(self._client, name, list(sequence))

    def Namespace(self, *, name=None, **attributes):
        """An object whose attributes are shared (Manager().Namespace()), over a dict."""
        ns = NamespaceProxy(self._dict_proxy(name, "namespace"))
        for key, value in attributes.items():
            setattr(ns, key, value)
        return ns

    def _made(self, factory, name, kind, *args):
        if name is not None:
            return factory(self._client, name, *args)
        name = _fresh_name(kind)
        return self._unnamed(factory(self._client, name, *args), name)

    def Queue(self, maxsize=0, *, name=None):
        """A FIFO queue (queue.Queue's put/get, block and timeout); `maxsize` 0 is unbounded."""
        return self._made(_core.Queue, name, "queue", maxsize)

    def JoinableQueue(self, maxsize=0, *, name=None):
        """A Queue with task_done() and join()."""
        return self._made(_core.JoinableQueue, name, "queue", maxsize)

    # ---- synchronisation (threading's names and semantics)
    def Lock(self, *, name=None):
        """A lock across processes (threading.Lock's calls); a holder that dies releases it and
        the next acquirer's previous_owner_died is True.
        """
        return self._made(_core.Lock, name, "lock")

    def RLock(self, *, name=None):
        """A reentrant lock across processes (threading.RLock's calls): one thread of one
        process holds it, as often as it acquired it.
        """
        return self._made(_core.RLock, name, "rlock")

    def Semaphore(self, value=1, *, name=None, return_dead_permits=False):
        """A counting semaphore (threading.Semaphore). With return_dead_permits=True each permit
        is owned and a dead holder's come back.
        """
        return self._made(_core.Semaphore, name, "semaphore", value, return_dead_permits)

    def BoundedSemaphore(self, value=1, *, name=None, return_dead_permits=False):
        """A semaphore that refuses a release past its initial value (threading.BoundedSemaphore)."""
        return self._made(_core.BoundedSemaphore, name, "semaphore", value, return_dead_permits)

    def Condition(self, lock=None, *, name=None):
        """A condition variable over a reentrant lock of its own (threading.Condition)."""
        if lock is not None:
            raise ValueError("an mpstate Condition has a lock of its own; pass no lock")
        return self._made(_core.Condition, name, "condition")

    def Counter(self, value=0, *, name=None):
        """A total many processes add to at once without a lock (add(delta), value): each
        add lands in the shard of the CPU it runs on. It wraps past int64 (on Redis: OutOfRange), and cannot be
        set or waited on."""
        return self._made(_core.Counter, name, "counter", value)

    def Event(self, *, name=None):
        """An event flag (threading.Event): set(), clear(), is_set(), wait(timeout)."""
        return self._made(_core.Event, name, "event")

    def Barrier(self, parties, action=None, timeout=None, *, name=None):
        """threading.Barrier across processes: the last party to arrive calls `action`
        (this proxy's, and copies' made by pickling it) before anyone passes."""
        if action is not None and not callable(action):
            raise TypeError("a Barrier's action is a callable")
        return self._made(BarrierProxy, name, "barrier", parties, timeout, action)

    def loop(self, name):
        """The loop-state handle `name` (created idle when absent)."""
        return LoopState(self._client, name)

    # ---- the rest of the namespace
    def names(self, prefix=""):
        """The names of the variables that start with `prefix`, in order."""
        return self._client.names(prefix)

    def remove(self, name):
        """Deletes the variable `name` (NotFound if there is none); its proxies then raise NotFound."""
        self._client.remove(name)

    def dump(self, prefix=""):
        """Every variable starting with `prefix`, as mpstate-dump shows them (a dict)."""
        return self._client.dump(prefix)

    def metrics(self):
        """The manager's figures and its loops, queues and locks in Prometheus's text
        format (docs/metrics.md): what ``mpstate-manager --metrics`` serves."""
        return self._client.request({"op": "metrics"})["text"]

    def stat(self):
        """The manager's figures (the protocol's stat op): segment size and free bytes,
        variables, connections, counters by op and error, ...
        """
        return self._client.request({"op": "stat"})


_LOG_LEVELS = ("debug", "info", "warning", "error", "off")  # mpstate-manager --log-level
# Its lines: "<time> <level> mpstate-manager[<pid>]: <message>" (or "<N>message", a
# syslog priority, under systemd's journal)
_LOG_LINE = re.compile(r"^\S+ (\w+) mpstate-manager\[\d+\]: (.*)$")
_JOURNAL_LINE = re.compile(r"^<(\d)>(.*)$")
_LEVEL_OF = {"trace": logging.DEBUG, "debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
             "error": logging.ERROR, "critical": logging.CRITICAL}
_LEVEL_OF_PRIORITY = {"7": logging.DEBUG, "6": logging.INFO, "5": logging.INFO, "4": logging.WARNING,
                      "3": logging.ERROR, "2": logging.CRITICAL}


def _relay_log(fd, logger):
    """Hands the manager's log lines to `logger` at their level, until the manager ends."""
    with open(fd, "r", encoding="utf-8", errors="replace") as lines:
        for line in lines:
            line = line.rstrip("\n")
            if m := _LOG_LINE.match(line):
                logger.log(_LEVEL_OF.get(m.group(1), logging.WARNING), "%s", m.group(2))
            elif m := _JOURNAL_LINE.match(line):
                logger.log(_LEVEL_OF_PRIORITY.get(m.group(1), logging.WARNING), "%s", m.group(2))
            elif line:
                logger.warning("%s", line)  # not a log line: whatever it is, it is told


class Manager(Client):
    """An embedded manager: starts mpstate-manager as a child process, serving
    `name` with a segment of `size` bytes ("64M"); it ends at ``shutdown()`` / the
    end of the ``with`` block. If this process is killed first, the manager serves
    on while other processes use it, then exits.

    ``shared=True`` is for processes that each want "the" manager `name` (the
    workers of ``uvicorn --workers N`` or gunicorn): the first starts it, the others
    join it, and it is never stopped from under them. ``shutdown()`` then leaves it
    running; once the process that started it has ended, it serves on while any
    process uses it, then exits. ``started`` says whether this process started it.

    The manager writes its log to standard error: by default only warnings and errors
    (a holder that died, a refused client); ``log_level="info"`` adds its start and
    end, ``"off"`` silences it. ``log="logging"`` hands its lines to Python's logging
    instead, on the logger ``mpstate.manager`` at their own level (or pass a
    ``logging.Logger``); lines the logger does not take up fast enough are dropped,
    never waited for. ``log`` and ``log_level`` apply when this process starts the
    manager (a shared one that another process started keeps its own). ``args`` are
    more mpstate-manager options
    (``mpstate-manager --help``)."""

    def __init__(self, name=None, size="64M", *, keep=False, args=(), executable=None, log_level="warning",
                 log="stderr", shared=False, serializer="json", trust_remote_pickles=False):
        self._started_by = os.getpid()
        self._serializer = {"serializer": serializer, "trust_remote_pickles": trust_remote_pickles}
        self._process = None
        self._manager_pid = None
        self._shared = shared
        if log_level not in _LOG_LEVELS:
            raise ValueError(f"log_level is one of {', '.join(_LOG_LEVELS)}, not {log_level!r}")
        logger = logging.getLogger("mpstate.manager") if log == "logging" else log
        if log != "stderr" and not isinstance(logger, logging.Logger):
            raise ValueError(f"log is 'stderr', 'logging' or a logging.Logger, not {log!r}")
        if shared and not name:
            raise ValueError("a shared Manager needs a name: the one every process joins")
        if shared and self._join(name, patience=0):
            return
        args = ["--log-level", log_level, *args]
        log_read, log_write = os.pipe() if log != "stderr" else (-1, -1)
        try:
            self._process = _core.ManagerProcess(name or "", _size_bytes(size), keep, args,
                                                 executable or _programs.manager_executable(), log_write)
        except ManagerRunning:
            if log_read >= 0:
                os.close(log_read)
            if shared and self._join(name, patience=10):  # another process started it first
                return
            raise
        except BaseException:
            if log_read >= 0:
                os.close(log_read)
            raise
        finally:
            if log_write >= 0:
                os.close(log_write)  # the manager holds it: the relay ends when the manager does
        if log_read >= 0:
            threading.Thread(target=_relay_log, args=(log_read, logger), name="mpstate-manager-log",
                             daemon=True).start()
        self._manager_pid = self._process.pid
        if shared:
            self._process.detach()  # never stopped from under the processes that joined it
        try:
            super().__init__(self._process.name, socket_path=self._process.socket_path, **self._serializer)
        except Exception:
            self.shutdown()
            raise

    def _join(self, name, patience):
        """Attaches to the running manager `name`; False when none answers within
        `patience` seconds (one that has just been started may not listen yet)."""
        deadline = time.monotonic() + patience
        while True:
            try:
                super().__init__(name, **self._serializer)
                # A client maps the segment of a manager that does not answer (one that
                # crashed, or one starting: between making its segment and listening).
                # Only an answer is a join: a socketless one fails at its first create.
                self._client.request({"op": "stat"})
                return True
            except ManagerUnavailable:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.02)

    @property
    def started(self):
        """Whether this process started the manager (False: it joined a running one)."""
        return self._process is not None

    @property
    def pid(self):
        """The manager's pid, when this process started it (else None)."""
        return self._manager_pid

    @property
    def socket_path(self):
        """The manager's Unix socket."""
        return self._process.socket_path if self._process is not None else self._client.socket_path

    def shutdown(self):
        """Stops the manager (in the process that started it; a no-op elsewhere, and
        for a shared manager, which serves on while any process uses it)."""
        if os.getpid() == self._started_by and self._process is not None and not self._shared:
            self._process.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown()

    def __getstate__(self):
        raise TypeError("a Manager does not travel to other processes; pass its proxies, "
                        "or mpstate.connect(name) there")


def connect(name=None, *, socket_path=None, transport="auto", serializer="json", trust_remote_pickles=False):
    """Attaches to the running manager `name` (or at `socket_path`, or a ``tcp://``
    or ``redis://`` address); `serializer` as for Client."""
    return Client(name, socket_path=socket_path, transport=transport, serializer=serializer,
                  trust_remote_pickles=trust_remote_pickles)


# threading's reprs (lock_tests checks them), with the variable's name.
def _lock_repr(self):
    state = "locked" if self.locked() else "unlocked"
    return f"<{state} mpstate.{type(self).__name__} object '{self.name}' at {id(self):#x}>"


def _event_repr(self):
    return f"<mpstate.Event at {id(self):#x} '{self.name}': {'set' if self.is_set() else 'unset'}>"


def _semaphore_repr(self):
    state = self.state()
    bound = f"/{state['bound']}" if "bound" in state else ""
    return f"<mpstate.{type(self).__name__} at {id(self):#x} '{self.name}': value={state['value']}{bound}>"


_core.Lock.__repr__ = _core.RLock.__repr__ = _core.Condition.__repr__ = _lock_repr


# The hooks threading.Condition uses when it wraps a lock, so that
# threading.Condition(mpstate_rlock) coordinates this process's threads correctly.
def _rlock_depth_if_owned(self):
    """This thread's depth on the rlock, 0 when it does not hold it. An owner's
    acquire(False) always succeeds (depth + 1), anyone else's fails or starts at 1."""
    if not self.acquire(False):
        return 0
    depth = self.state()["depth"] - 1
    self.release()
    return depth


def _rlock_is_owned(self):
    return _rlock_depth_if_owned(self) > 0


def _rlock_release_save(self):
    depth = _rlock_depth_if_owned(self)
    if depth == 0:
        raise RuntimeError("cannot release un-acquired lock")
    for _ in range(depth):
        self.release()
    return depth


def _rlock_acquire_restore(self, depth):
    for _ in range(depth):
        self.acquire()


_core.RLock._is_owned = _rlock_is_owned
_core.RLock._release_save = _rlock_release_save
_core.RLock._acquire_restore = _rlock_acquire_restore
_core.Event.__repr__ = _event_repr
_core.Semaphore.__repr__ = _core.BoundedSemaphore.__repr__ = _semaphore_repr


# Awaitable forms of the blocking calls, for asyncio programs: they wait in the
# loop's executor, so the event loop goes on meanwhile.
def _event_wait_async(self, timeout=None):
    """wait() for asyncio programs: awaits the flag without blocking the event loop."""
    return _in_thread(self.wait, timeout)


def _queue_get_async(self, timeout=None):
    """get() for asyncio programs: awaits an item without blocking the event loop."""
    return _in_thread(self.get, True, timeout)


def _queue_put_async(self, item, timeout=None):
    """put() for asyncio programs: awaits room without blocking the event loop."""
    return _in_thread(self.put, item, True, timeout)


def _lock_acquire_async(self, timeout=-1):
    """acquire() for asyncio programs: awaits the lock without blocking the event loop."""
    return _in_thread(self.acquire, True, timeout)


def _wait_for_change_async(self, seen, timeout=None):
    """wait_for_change() for asyncio programs: awaits a new version without blocking the loop."""
    return _in_thread(self.wait_for_change, seen, timeout)


_core.Event.wait_async = _event_wait_async
_core.Queue.get_async = _queue_get_async
_core.Queue.put_async = _queue_put_async
_core.Lock.acquire_async = _lock_acquire_async
ValueProxy.wait_for_change_async = _wait_for_change_async
