# SPDX-License-Identifier: MIT
from typing import Any, Awaitable, Callable, Iterable, MutableMapping, Optional, Sequence, Union

from . import Client

MAX_VARIABLES: int
MAX_PER_KIND: int
MAX_VALUE_TEXT: int
STREAM_SECONDS: float
RETRY_MS: int

_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

class _Dashboard:
    interval: float
    read_only: bool
    @property
    def client(self) -> Client: ...
    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None: ...

def snapshot(client: Client, prefix: str = "") -> dict[str, Any]: ...
def dashboard(client: Union[Client, Callable[[], Optional[Client]]], *, interval: float = 0.25,
              read_only: bool = False, allowed_hosts: Optional[Iterable[str]] = None) -> _Dashboard: ...
def main(argv: Optional[Sequence[str]] = None) -> None: ...
