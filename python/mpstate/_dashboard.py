# SPDX-License-Identifier: MIT
"""A live page of a manager's variables, loops, queues and locks, as an ASGI app.

Mount it inside your own app::

    app.mount("/mpstate", mpstate.dashboard(m))

or run it alone: ``mpstate dashboard NAME --port 8321`` (which runs main() here,
under uvicorn).

The page (``dashboard_static/``, no CDN: everything it needs is in the package)
follows ``events``, a stream of server-sent events: a snapshot each time something
changed, looked at every `interval` seconds. It is read-only but for one action:
asking a loop to stop (``POST api/stop``, as ``mpstate loop NAME stop`` and the
dump's ``request_stop`` do), which the page asks you to confirm. ``metrics`` serves
the manager's figures in Prometheus's text format (docs/metrics.md).
"""

import asyncio
import json
import time
from importlib import resources
from urllib.parse import parse_qs

from . import _errors as mpstate_errors

__all__ = ["dashboard"]

MAX_VARIABLES = 500  # rows of the variables table a snapshot carries (the rest: a count)
MAX_PER_KIND = 200  # loops, queues and locks a snapshot carries
# One events response lasts this long, then the page's EventSource reconnects (after
# RETRY_MS): an ASGI server that shuts down gracefully waits for open responses, and
# no ASGI message tells a mounted app that it is shutting down.
STREAM_SECONDS = 5.0
RETRY_MS = 200
_LOCKS = ("lock", "rlock", "condition")
_STATIC = {"": ("index.html", "text/html; charset=utf-8"),
           "dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
           "dashboard.css": ("dashboard.css", "text/css; charset=utf-8")}


def _static(name):
    return resources.files("mpstate").joinpath("dashboard_static", name).read_bytes()


MAX_VALUE_TEXT = 300  # characters of a value the variables table gets (a long one is cut)


def _shown_value(v):
    """A variable's value as the page needs it: a queue without its items, and any
    value whose JSON is long cut to a string of MAX_VALUE_TEXT characters."""
    value = v.get("value")
    if v["type"] == "queue" and isinstance(value, dict):
        return {k: x for k, x in value.items() if k != "items"}
    if isinstance(value, (dict, list, str)):
        text = value if isinstance(value, str) else json.dumps(value)
        if len(text) > MAX_VALUE_TEXT:
            return text[:MAX_VALUE_TEXT] + "…"
    return value


def snapshot(client, prefix=""):
    """What the page shows, as one JSON-able dict: the manager's figures, its loops,
    queues and locks (all of them, up to MAX_PER_KIND each), and the variables under
    `prefix` (up to MAX_VARIABLES)."""
    dump = client.dump("")
    stat = client.stat()
    variables = dump["variables"]
    now_ms = time.time() * 1000

    def row(v):
        written = v.get("last_write_ns", 0)
        return {"name": v["name"], "type": v["type"], "version": v.get("version"), "value": _shown_value(v),
                "writer": v.get("last_writer_pid"), "age_ms": now_ms - written / 1e6 if written > 0 else None,
                "error": v.get("error") or v.get("locked")}

    def of(types):
        return [row(v) for v in variables if v["type"] in types][:MAX_PER_KIND]

    shown = [v for v in variables if v["name"].startswith(prefix)]
    figures = {k: stat.get(k) for k in ("manager", "url", "version", "segment", "size", "free_bytes", "variables",
                                        "connections", "bindings", "waits_pending", "uptime_ms")}
    return {"time_ms": now_ms, "stat": figures, "loops": of(("loop",)), "queues": of(("queue",)),
            "locks": of(_LOCKS), "prefix": prefix, "matching": len(shown),
            "variables": [row(v) for v in shown[:MAX_VARIABLES]]}


class _Dashboard:
    def __init__(self, client, interval, read_only, allowed_hosts):
        self._client = client
        self.interval = interval
        self.read_only = read_only
        self.allowed_hosts = allowed_hosts
        self._latest = {}  # prefix -> (when, snapshot): every open page shares one per interval
        self._taking = {}  # prefix -> the snapshot being taken: pages that miss at once await this one

    @property
    def client(self):
        """The client, or what the callable given instead returns now (an app whose
        manager starts in its startup hook mounts the dashboard before it exists)."""
        client = self._client() if callable(self._client) else self._client
        if client is None:
            raise LookupError("no manager yet: the app has not started it")
        return client

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":  # run alone under uvicorn: nothing to set up or tear down
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    return await send({"type": "lifespan.shutdown.complete"})
        if scope["type"] != "http":
            return
        root = scope.get("root_path", "")
        path = scope["path"]
        if root and path.startswith(root + "/"):  # servers that leave the mount's prefix in path
            path = path[len(root):]
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        method = scope["method"]
        if path == "":
            return await _respond(send, 307, b"", "text/plain", [(b"location", (root + "/").encode())])
        route = path.lstrip("/")
        headers = dict(scope.get("headers", []))
        host = headers.get(b"host", b"").decode("latin-1")
        if self.allowed_hosts is not None and host not in self.allowed_hosts:
            return await _error(send, 403, "permission_denied", f"this dashboard is not served as '{host}'")
        try:
            self.client
        except LookupError as e:
            if route == "events":  # a stream the page's EventSource keeps asking for
                return await self.problem_stream(send, str(e))
            return await _error(send, 503, "manager_unavailable", str(e))
        if method in ("GET", "HEAD") and route in _STATIC:
            name, content_type = _STATIC[route]
            return await _respond(send, 200, _static(name), content_type)
        if method == "GET" and route == "events":
            return await self.events(send, receive, query.get("prefix", [""])[0])
        if method == "GET" and route == "api/state":
            state = await self.latest(query.get("prefix", [""])[0])
            return await _respond(send, 200, json.dumps(state).encode(), "application/json")
        if method == "GET" and route == "metrics":
            text = await self.blocking(self.client.metrics)
            return await _respond(send, 200, text.encode(), "text/plain; version=0.0.4; charset=utf-8")
        if route == "api/stop":
            if method != "POST":
                return await _error(send, 405, "method_not_allowed", "POST a JSON body {\"name\": LOOP}")
            return await self.stop(scope, receive, send)
        return await _error(send, 404, "not_found", f"no page '{route}' here")

    async def blocking(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    async def latest(self, prefix):
        """A snapshot under `prefix` no older than half an interval: the pages open at
        once share it, instead of each dumping the segment."""
        when, state = self._latest.get(prefix, (0.0, None))
        if time.monotonic() - when <= self.interval / 2:
            return state
        taking = self._taking.get(prefix)
        if taking is None:
            taking = asyncio.ensure_future(self.blocking(snapshot, self.client, prefix))
            self._taking[prefix] = taking
            taking.add_done_callback(lambda done: self._taken(prefix, done))
        return await asyncio.shield(taking)  # a page that goes away does not cancel it for the others

    def _taken(self, prefix, done):
        self._taking.pop(prefix, None)
        if done.cancelled() or done.exception() is not None:
            return  # each page that awaited it has the error
        if len(self._latest) > 64:
            self._latest.clear()
        self._latest[prefix] = (time.monotonic(), done.result())

    async def problem_stream(self, send, message):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]})
        await send({"type": "http.response.body", "body": f"retry: {RETRY_MS * 5}\n\n".encode(), "more_body": True})
        await _event(send, json.dumps({"error": message}), "problem")
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def events(self, send, receive, prefix):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache"),
                                (b"x-accel-buffering", b"no")]})
        gone = asyncio.ensure_future(_disconnected(receive))
        last, quiet_since = None, time.monotonic()
        ends = time.monotonic() + STREAM_SECONDS
        try:
            await send({"type": "http.response.body", "body": f"retry: {RETRY_MS}\n\n".encode(), "more_body": True})
            while not gone.done() and time.monotonic() < ends:
                try:
                    state = await self.latest(prefix)
                    changes = _changes(state)
                    # Something was written, or a second passed (the ages move on their own).
                    if changes != last or time.monotonic() - quiet_since > 1.0:
                        last = changes
                        await _event(send, json.dumps(state))
                        quiet_since = time.monotonic()
                except Exception as e:  # the manager ended, say: tell the page, keep trying
                    await _event(send, json.dumps({"error": f"{type(e).__name__}: {e}"}), "problem")
                await asyncio.wait([gone], timeout=self.interval)
            if not gone.done():
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            pass  # the browser went away mid-write
        finally:
            gone.cancel()

    async def stop(self, scope, receive, send):
        if self.read_only:
            return await _error(send, 403, "permission_denied", "this dashboard is read-only")
        headers = dict(scope.get("headers", []))
        # Only the page itself may ask: a browser says where a request comes from
        # (Origin, Sec-Fetch-Site), and a JSON body from another site needs a CORS
        # preflight besides.
        origin = headers.get(b"origin", b"").decode("latin-1")
        if origin and origin.split("://", 1)[-1] != headers.get(b"host", b"").decode("latin-1"):
            return await _error(send, 403, "permission_denied", f"a stop asked from another site ({origin})")
        if headers.get(b"sec-fetch-site", b"same-origin") not in (b"same-origin", b"none"):
            return await _error(send, 403, "permission_denied", "a stop asked from another site")
        if not headers.get(b"content-type", b"").startswith(b"application/json"):
            return await _error(send, 415, "bad_request", "send the loop's name as JSON: {\"name\": LOOP}")
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > 65536:
                return await _error(send, 413, "bad_request", "the body is over 64 KiB")
            if not message.get("more_body"):
                break
        try:
            name = json.loads(body)["name"]
            if not isinstance(name, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return await _error(send, 400, "bad_request", "send the loop's name as JSON: {\"name\": LOOP}")
        try:
            state = await self.blocking(_request_stop, self.client, name)
        except Exception as e:
            code = getattr(e, "code", "internal")
            return await _error(send, 404 if code == "not_found" else 409, code, str(e))
        return await _respond(send, 200, json.dumps(state).encode(), "application/json")


def _request_stop(client, name):
    """Asks loop `name` to stop; NotFound unless it is a loop (client.loop would make one)."""
    if not any(v["name"] == name and v["type"] == "loop" for v in client.dump(name)["variables"]):
        raise mpstate_errors.NotFound(f"no loop '{name}'")
    return {"state": client.loop(name).request_stop()}


def _changes(state):
    """What moves when something is written: every row's version (a loop's heartbeat is
    a write), and the figures but the uptime."""
    rows = [(v["name"], v["version"]) for kind in ("loops", "queues", "locks", "variables") for v in state[kind]]
    return rows, [(k, v) for k, v in state["stat"].items() if k != "uptime_ms"], state["matching"]


async def _disconnected(receive):
    while (await receive())["type"] != "http.disconnect":
        pass


async def _event(send, data, kind="state"):
    await send({"type": "http.response.body", "body": f"event: {kind}\ndata: {data}\n\n".encode(), "more_body": True})


async def _respond(send, status, body, content_type, headers=()):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": body})


async def _error(send, status, code, message):
    await _respond(send, status, json.dumps({"error": {"code": code, "message": message}}).encode(),
                   "application/json")


def dashboard(client, *, interval=0.25, read_only=False, allowed_hosts=None):
    """The dashboard of `client` (a Manager, or a Client from mpstate.connect) as an
    ASGI app: ``app.mount("/mpstate", mpstate.dashboard(m))``. `client` may also be a
    function that returns it, for an app that starts its manager later (in a startup
    hook): ``mpstate.dashboard(lambda: JobScheduler.manager)``. The page is looked at
    again every `interval` seconds; `read_only` takes its one action (stopping a
    loop) away; `allowed_hosts` (a list of Host header values, such as
    "127.0.0.1:8321") refuses requests for any other (DNS rebinding). Mounted in an
    app, it is guarded by that app's own authentication, like its other routes."""
    if interval <= 0:
        raise ValueError("interval must be positive")
    return _Dashboard(client, interval, read_only, None if allowed_hosts is None else set(allowed_hosts))


def main(argv=None):
    """``mpstate dashboard NAME [--host H] [--port P] [--read-only]``."""
    import argparse

    import mpstate
    parser = argparse.ArgumentParser(prog="mpstate dashboard", description="a live page of a manager's state")
    parser.add_argument("name", help="the manager's name, or tcp://HOST:PORT, or redis://...")
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address to serve on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8321, help="port to serve on (default 8321; 0: any free one)")
    parser.add_argument("--read-only", action="store_true", help="no stop button")
    args = parser.parse_args(argv)
    if not _is_loopback(args.host):
        parser.exit(2, f"mpstate dashboard: serves loopback addresses only, not {args.host}: it has no login. "
                       "Reach it through an SSH tunnel, or mount mpstate.dashboard(m) in an app behind its "
                       "authentication\n")
    try:
        import uvicorn
    except ImportError:
        parser.exit(2, "mpstate dashboard: needs uvicorn (Debian: apt install python3-uvicorn)\n")
    try:
        client = mpstate.connect(args.name)
        client.stat()  # a manager that is not there: say so now
    except mpstate.Error as e:
        parser.exit(3, f"mpstate dashboard: {e}\n")
    port = args.port
    if port == 0:  # a free one, known before serving: the Host names allowed carry it
        import socket
        with socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET) as probe:
            probe.bind((args.host, 0))
            port = probe.getsockname()[1]
    shown = f"[{args.host}]" if ":" in args.host else args.host
    names = ("127.0.0.1", "localhost", "[::1]", shown)
    hosts = [f"{h}:{port}" for h in names] + (list(names) if port == 80 else [])  # browsers drop ":80"
    print(f"mpstate dashboard of {args.name} on http://{shown}:{port}/", flush=True)
    app = dashboard(client, read_only=args.read_only, allowed_hosts=hosts)
    uvicorn.run(app, host=args.host, port=port, log_level="warning")


def _is_loopback(host):
    import ipaddress
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
