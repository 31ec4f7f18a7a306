# SPDX-License-Identifier: MIT
"""mpstate's exceptions: one class per error code of docs/protocol.md, each also a
subclass of the builtin that fits, so ``except KeyError`` catches a missing
variable and ``except TimeoutError`` a timeout."""

import threading

from . import _core


class Error(Exception):
    """Every mpstate error. ``code`` is the protocol's error code."""
    code = "internal"


def _error(name, code, *bases, doc=""):
    cls = type(name, (Error, *bases), {"code": code, "__doc__": doc or f"mpstate error '{code}'."})
    globals()[name] = cls
    return cls


_CLASSES = [
    _error("NotFound", "not_found", KeyError, doc="No variable of that name (or it was deleted)."),
    _error("AlreadyExists", "already_exists", ValueError),
    _error("InvalidName", "invalid_name", ValueError),
    _error("InvalidType", "invalid_type", TypeError),
    _error("TypeMismatch", "type_mismatch", TypeError, doc="The variable has another type."),
    _error("ValueTooLarge", "value_too_large", ValueError),
    _error("SegmentFull", "segment_full", MemoryError),
    _error("InvalidArgument", "invalid_argument", ValueError),
    _error("OutOfRange", "out_of_range", OverflowError, IndexError,
           doc="An add that would overflow, or an index out of range."),
    _error("BadRequest", "bad_request", ValueError),
    _error("UnknownOp", "unknown_op", ValueError),
    _error("MissingField", "missing_field", ValueError),
    _error("LineTooLong", "line_too_long", ValueError),
    _error("PermissionDenied", "permission_denied", PermissionError),
    _error("TooManyConnections", "too_many_connections", ConnectionError),
    _error("ManagerUnavailable", "manager_unavailable", ConnectionError),
    _error("ManagerRunning", "manager_running", RuntimeError),
    _error("LayoutMismatch", "layout_mismatch", RuntimeError),
    _error("Timeout", "timeout", TimeoutError),
    _error("Busy", "busy", TimeoutError, doc="A variable stayed locked by a stopped or slow client."),
    _error("BrokenBarrier", "broken_barrier", threading.BrokenBarrierError),
    _error("LockUnrecoverable", "lock_unrecoverable", RuntimeError),
    _error("OwnershipLost", "ownership_lost", RuntimeError,
           doc="An op made as an owner (release, heartbeat, a fenced write) after the ownership ended: "
               "a lapsed lease, an evicted holder, a stale fence."),
    _error("SystemCallError", "system_error", OSError),
    _error("InternalError", "internal", RuntimeError),
]


class NotHeld(InvalidArgument, RuntimeError):  # noqa: F821 (made above by _error)
    """A lock released, or a condition waited on or notified, by a thread that does
    not hold it: a RuntimeError, as threading raises (and an InvalidArgument)."""


__all__ = ["Error", "NotHeld"] + [cls.__name__ for cls in _CLASSES]

_core._register_errors({cls.code: cls for cls in _CLASSES})
_core._not_held = NotHeld
