"""Run code in a kernel of a Jupyter server the way JupyterLab does: over the kernel's websocket.

``vae-course bench --only class`` uses it to make learners' kernels, started in their own
single-user servers behind JupyterHub's proxy, execute a notebook's code cells; nothing here
knows about the hub. The websocket speaks Jupyter's JSON message protocol (one JSON text frame
per message, with a ``channel`` key), which every jupyter_server accepts when the client asks
for no sub-protocol.
"""

import asyncio
import json
import time
import uuid
from datetime import datetime, timezone


def code_cells(nb):
    """The sources of ``nb``'s code cells, in order, blank ones left out (Run All's work)."""
    return [cell.source for cell in nb.cells
            if cell.cell_type == "code" and cell.source.strip()]


def execute_request(code, session):
    """A Jupyter ``execute_request`` message for the shell channel."""
    return {"header": {"msg_id": uuid.uuid4().hex, "msg_type": "execute_request",
                       "username": "vae-course-bench", "session": session,
                       "date": datetime.now(timezone.utc).isoformat(), "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}


async def connect(ws_url, token, timeout=60):
    """Open the kernel's websocket (``ws://…/api/kernels/ID/channels``) with an API token."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    request = HTTPRequest(ws_url, headers={"Authorization": f"token {token}"},
                          connect_timeout=timeout, request_timeout=timeout)
    return await websocket_connect(request, max_message_size=1 << 30)


async def execute(ws, code, session, timeout):
    """Run ``code``; returns None, or ``"Name: value"`` of the error it raised.

    Done when the kernel has both replied on the shell channel and gone idle on iopub for this
    request (then every output of the cell has arrived)."""
    request = execute_request(code, session)
    msg_id = request["header"]["msg_id"]
    await ws.write_message(json.dumps(request))
    replied = idle = False
    error = None
    deadline = time.monotonic() + timeout
    while not (replied and idle):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no reply within {timeout:.0f} s")
        frame = await asyncio.wait_for(ws.read_message(), left)
        if frame is None:
            raise ConnectionError("the kernel's websocket closed")
        if not isinstance(frame, str):
            continue  # a binary-protocol frame: not ours (we asked for JSON)
        msg = json.loads(frame)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = msg["header"]["msg_type"], msg.get("content", {})
        if msg.get("channel") == "shell" and kind == "execute_reply":
            replied = True
            if content.get("status") == "error":
                error = f"{content.get('ename')}: {content.get('evalue')}"[:300]
            elif content.get("status") == "aborted":
                error = "aborted"
        elif kind == "status" and content.get("execution_state") == "idle":
            idle = True
    return error


async def wait_ready(ws, timeout=120):
    """Wait until the kernel answers a ``kernel_info_request`` (it has started)."""
    session = uuid.uuid4().hex
    request = execute_request("", session)
    request["header"]["msg_type"] = "kernel_info_request"
    request["content"] = {}
    msg_id = request["header"]["msg_id"]
    deadline = time.monotonic() + timeout
    await ws.write_message(json.dumps(request))
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"the kernel did not answer within {timeout:.0f} s")
        try:
            frame = await asyncio.wait_for(ws.read_message(), min(left, 5))
        except asyncio.TimeoutError:  # a kernel still starting may drop the first request
            await ws.write_message(json.dumps(request))
            continue
        if frame is None:
            raise ConnectionError("the kernel's websocket closed")
        if isinstance(frame, str):
            msg = json.loads(frame)
            if (msg.get("parent_header", {}).get("msg_id") == msg_id
                    and msg["header"]["msg_type"] == "kernel_info_reply"):
                return


async def run_cells(ws, cells, timeout=900):
    """Run ``cells`` one after another, stopping at the first error as Run All does.

    Returns ``{"seconds": wall time, "cells_run": n, "errors": count, "error": the first or
    None}``; a cell past ``timeout`` seconds counts as an error and stops the run."""
    session = uuid.uuid4().hex
    start = time.perf_counter()
    errors, first, done = 0, None, 0
    for code in cells:
        try:
            error = await execute(ws, code, session, timeout)
        except (TimeoutError, asyncio.TimeoutError, ConnectionError) as err:
            error = f"{type(err).__name__}: {err}"
        done += 1
        if error:
            errors += 1
            first = first or f"cell {done}: {error}"
            break
    return {"seconds": time.perf_counter() - start, "cells_run": done, "errors": errors,
            "error": first}
