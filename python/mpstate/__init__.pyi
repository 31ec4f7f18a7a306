# SPDX-License-Identifier: MIT
# The public API's types (the package is pure Python over the extension module
# _core; these stubs say what each call takes and gives). mypy.stubtest checks them
# against the package (python/tests/test_typing.py).
import builtins
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Callable, Literal, Optional, Union

from . import _core
from ._core import Fence as Fence
from ._dashboard import dashboard as dashboard
from ._errors import Error as Error
from ._errors import NotFound as NotFound
from ._errors import AlreadyExists as AlreadyExists
from ._errors import InvalidName as InvalidName
from ._errors import InvalidType as InvalidType
from ._errors import TypeMismatch as TypeMismatch
from ._errors import ValueTooLarge as ValueTooLarge
from ._errors import SegmentFull as SegmentFull
from ._errors import InvalidArgument as InvalidArgument
from ._errors import OutOfRange as OutOfRange
from ._errors import BadRequest as BadRequest
from ._errors import UnknownOp as UnknownOp
from ._errors import MissingField as MissingField
from ._errors import LineTooLong as LineTooLong
from ._errors import PermissionDenied as PermissionDenied
from ._errors import TooManyConnections as TooManyConnections
from ._errors import ManagerUnavailable as ManagerUnavailable
from ._errors import ManagerRunning as ManagerRunning
from ._errors import LayoutMismatch as LayoutMismatch
from ._errors import Timeout as Timeout
from ._errors import Busy as Busy
from ._errors import BrokenBarrier as BrokenBarrier
from ._errors import LockUnrecoverable as LockUnrecoverable
from ._errors import OwnershipLost as OwnershipLost
from ._errors import SystemCallError as SystemCallError
from ._errors import InternalError as InternalError
from ._errors import NotHeld as NotHeld
from ._proxies import ArrayProxy as ArrayProxy
from ._proxies import BarrierProxy as BarrierProxy
from ._proxies import DictProxy as DictProxy
from ._proxies import ListProxy as ListProxy
from ._proxies import LoopState as LoopState
from ._proxies import NamespaceProxy as NamespaceProxy
from ._proxies import ValueProxy as ValueProxy

__version__: str
__all__: list[str]

_TypecodeOrType = Union[str, type, None]
_Size = Union[int, str]
_Serializer = Literal["json", "pickle"]

class Client:
    """A connection to a manager: makes and binds named variables."""
    def __init__(self, name: Optional[str] = None, *, socket_path: Optional[str] = None,
                 transport: Literal["auto", "local", "socket"] = "auto", serializer: _Serializer = "json",
                 trust_remote_pickles: bool = False) -> None: ...
    @property
    def name(self) -> str: ...
    @property
    def is_local(self) -> bool: ...
    @property
    def serializer(self) -> _Serializer: ...
    def Value(self, typecode_or_type: _TypecodeOrType = None, value: Any = None, *, name: Optional[str] = None,
              lock: bool = True) -> ValueProxy: ...
    def Array(self, typecode_or_type: _TypecodeOrType, size_or_initializer: Union[int, Sequence[Any]], *,
              name: Optional[str] = None, lock: bool = True) -> ArrayProxy: ...
    def dict(self, mapping: Union[Mapping[Any, Any], Iterable[tuple[Any, Any]]] = (), /, *,
             name: Optional[str] = None, **kwargs: Any) -> DictProxy: ...
    def list(self, sequence: Iterable[Any] = (), /, *, name: Optional[str] = None) -> ListProxy: ...
    def Namespace(self, *, name: Optional[str] = None, **attributes: Any) -> NamespaceProxy: ...
    def Queue(self, maxsize: int = 0, *, name: Optional[str] = None) -> _core.Queue: ...
    def JoinableQueue(self, maxsize: int = 0, *, name: Optional[str] = None) -> _core.JoinableQueue: ...
    def Lock(self, *, name: Optional[str] = None) -> _core.Lock: ...
    def RLock(self, *, name: Optional[str] = None) -> _core.RLock: ...
    def Semaphore(self, value: int = 1, *, name: Optional[str] = None,
                  return_dead_permits: bool = False) -> _core.Semaphore: ...
    def BoundedSemaphore(self, value: int = 1, *, name: Optional[str] = None,
                         return_dead_permits: bool = False) -> _core.BoundedSemaphore: ...
    def Condition(self, lock: None = None, *, name: Optional[str] = None) -> _core.Condition: ...
    def Counter(self, value: int = 0, *, name: Optional[str] = None) -> _core.Counter: ...
    def Event(self, *, name: Optional[str] = None) -> _core.Event: ...
    def Barrier(self, parties: int, action: Optional[Callable[[], Any]] = None, timeout: Optional[float] = None, *,
                name: Optional[str] = None) -> BarrierProxy: ...
    def loop(self, name: str) -> LoopState: ...
    def names(self, prefix: str = "") -> builtins.list[str]: ...
    def remove(self, name: str) -> None: ...
    def dump(self, prefix: str = "") -> Any: ...
    def stat(self) -> builtins.dict[str, Any]: ...
    def metrics(self) -> str: ...

class Manager(Client):
    """An embedded manager (mpstate-manager as a child process)."""
    def __init__(self, name: Optional[str] = None, size: _Size = "64M", *, keep: bool = False,
                 args: Sequence[str] = (), executable: Optional[str] = None,
                 log_level: Literal["debug", "info", "warning", "error", "off"] = "warning",
                 log: Union[Literal["stderr", "logging"], logging.Logger] = "stderr",
                 shared: bool = False, serializer: _Serializer = "json",
                 trust_remote_pickles: bool = False) -> None: ...
    @property
    def started(self) -> bool: ...
    @property
    def pid(self) -> Optional[int]: ...
    @property
    def socket_path(self) -> str: ...
    def shutdown(self) -> None: ...
    def __enter__(self) -> Manager: ...
    def __exit__(self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException],
                 traceback: Optional[TracebackType]) -> None: ...
    def __getstate__(self) -> Any: ...

def connect(name: Optional[str] = None, *, socket_path: Optional[str] = None,
            transport: Literal["auto", "local", "socket"] = "auto", serializer: _Serializer = "json",
            trust_remote_pickles: bool = False) -> Client: ...
