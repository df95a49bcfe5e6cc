"""Deterministic local tools for the agent suite, and the state they work on.

Why local and stateful: an agent benchmark has to grade what the agent *did*, not what
it said it did, so every tool here acts on a per-task state dict (a small file store, a
calendar, an inventory with orders, weather and stock tables) that the task's YAML
``state:`` seeds and the checker inspects afterwards. Nothing touches the network, the
disk or the clock, so the same calls always give the same results and the same state.

Each tool is an OpenAI function schema plus a pure implementation ``fn(state, args)``
that may change ``state`` in place and returns a JSON-able dict. :func:`execute` is the
only entry point the loop uses: it checks the tool is offered and the arguments fit the
schema, and turns every failure — unknown tool, missing or mistyped argument, a missing
file, an overlapping meeting — into an ``{"error": ...}`` result for the model to read,
never an exception. Model output is hostile input: strings, paths, file contents, the
number of files and the calculator's expressions are all bounded.

Every tool that changes state has required arguments, so a model calling every offered
tool with empty arguments cannot change anything (the suite's tests rely on it).
"""
from __future__ import annotations

import ast
import copy
import datetime as _dt
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable

SECTIONS = ("files", "calendar", "inventory", "orders", "weather", "stocks")
MAX_TEXT = 200  # any short string argument (path, title, name, id)
MAX_CONTENT = 20_000  # a file's content
MAX_FILES = 200
MAX_EVENTS = 200
MAX_ORDERS = 500
MAX_QUANTITY = 100_000
MAX_EXPRESSION = 200
MAX_RESULT_ITEMS = 100


class ToolError(Exception):
    """A tool refused the call; the message goes back to the model as ``{"error": ...}``."""


# --------------------------------------------------------------------------- values


def jsonable(value):
    """YAML gives dates, datetimes and non-string keys; the state must be plain JSON."""
    if isinstance(value, dict):
        return {str(jsonable(k)) if not isinstance(k, str) else k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    return value


def new_state(seed: dict | None) -> dict:
    """A fresh, independent state for one task from its YAML ``state:``."""
    state = copy.deepcopy(jsonable(seed or {}))
    for name in SECTIONS:
        state.setdefault(name, {})
    return state


def fold(s: str) -> str:
    """Case- and width-insensitive form of a short text, for lookups and comparisons."""
    s = unicodedata.normalize("NFKC", str(s)).casefold()
    return re.sub(r"\s+", " ", s).strip()


_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def norm_date(value: str) -> str:
    m = _DATE.match(value.strip())
    if not m:
        raise ToolError(f"date {value[:40]!r} must be written YYYY-MM-DD")
    try:
        return _dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        raise ToolError(f"date {value[:40]!r} is not a real calendar date") from None


def norm_time(value: str) -> str:
    m = _TIME.match(value.strip())
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise ToolError(f"time {value[:40]!r} must be written HH:MM (24-hour)")
    return f"{int(m[1]):02d}:{m[2]}"


def norm_path(value: str) -> str:
    p = value.strip().replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    p = p.lstrip("/")
    p = re.sub(r"/{2,}", "/", p)
    if not p or p.endswith("/"):
        raise ToolError(f"path {value[:60]!r} must name a file, like 'notes/todo.txt'")
    if any(part in ("", ".", "..") for part in p.split("/")):
        raise ToolError(f"path {value[:60]!r} may not contain '.' or '..' parts")
    return p


# How each argument kind is normalized before use (and before a checker compares it).
NORMALIZERS: dict[str, Callable[[str], str]] = {
    "path": norm_path,
    "date": norm_date,
    "time": norm_time,
    "upper": lambda v: v.strip().upper(),
    "text": lambda v: re.sub(r"\s+", " ", v).strip(),
    "raw": lambda v: v,
}


# --------------------------------------------------------------------------- tools


@dataclass(frozen=True)
class Param:
    type: str  # string | integer | number
    description: str
    kind: str = "text"  # a NORMALIZERS key, for strings
    required: bool = True
    max_len: int = MAX_TEXT
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    params: dict = field(default_factory=dict)  # name -> Param
    fn: Callable[[dict, dict], dict] | None = None
    mutates: bool = False

    def spec(self) -> dict:
        """The OpenAI ``tools`` entry for this tool."""
        props = {}
        for pname, p in self.params.items():
            prop = {"type": p.type, "description": p.description}
            if p.minimum is not None:
                prop["minimum"] = p.minimum
            if p.maximum is not None:
                prop["maximum"] = p.maximum
            props[pname] = prop
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": {
                    "type": "object",
                    "properties": props,
                    "required": [n for n, p in self.params.items() if p.required],
                    "additionalProperties": False,
                },
            },
        }


def coerce_args(tool: Tool, args) -> dict:
    """Check ``args`` against the tool's parameters and normalize them, or raise ToolError."""
    if args is None:
        raise ToolError("arguments are not a valid JSON object")
    if not isinstance(args, dict):
        raise ToolError("arguments must be a JSON object")
    unknown = sorted(str(k)[:40] for k in args if k not in tool.params)
    if unknown:
        raise ToolError(f"unexpected argument(s) {unknown}; {tool.name} takes {sorted(tool.params)}")
    out = {}
    for pname, p in tool.params.items():
        if pname not in args or args[pname] is None:
            if p.required:
                raise ToolError(f"missing required argument {pname!r}")
            continue
        v = args[pname]
        if p.type == "string":
            if not isinstance(v, str):
                raise ToolError(f"argument {pname!r} must be a string")
            if len(v) > p.max_len:
                raise ToolError(f"argument {pname!r} is longer than {p.max_len} characters")
            v = NORMALIZERS[p.kind](v)
            if p.required and p.kind != "raw" and not v:
                raise ToolError(f"argument {pname!r} is empty")
        elif p.type == "integer":
            if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not v.is_integer()):
                raise ToolError(f"argument {pname!r} must be an integer")
            v = int(v)
        elif p.type == "number":
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ToolError(f"argument {pname!r} must be a number")
        if p.minimum is not None and v < p.minimum:
            raise ToolError(f"argument {pname!r} must be at least {p.minimum:g}")
        if p.maximum is not None and v > p.maximum:
            raise ToolError(f"argument {pname!r} must be at most {p.maximum:g}")
        out[pname] = v
    return out


def _next_id(existing, prefix: str) -> str:
    """The next id after the highest numeric suffix in use: deterministic, never reused
    while the higher one exists."""
    best = 0
    for k in existing:
        m = re.match(re.escape(prefix) + r"(\d{1,9})$", str(k))
        if m:
            best = max(best, int(m[1]))
    return f"{prefix}{best + 1}"


# ---- files


def _list_files(state, a):
    prefix = a.get("prefix", "")
    prefix = prefix.strip().lstrip("/") if prefix else ""
    names = sorted(p for p in state["files"] if p.startswith(prefix))
    return {"files": [{"path": p, "chars": len(str(state["files"][p]))} for p in names[:MAX_RESULT_ITEMS]], "count": len(names)}


def _read_file(state, a):
    path = a["path"]
    if path not in state["files"]:
        raise ToolError(f"no file {path!r}; list_files shows what exists")
    return {"path": path, "content": str(state["files"][path])}


def _write_file(state, a):
    path = a["path"]
    if path not in state["files"] and len(state["files"]) >= MAX_FILES:
        raise ToolError(f"the file store is full ({MAX_FILES} files)")
    existed = path in state["files"]
    state["files"][path] = a["content"]
    return {"ok": True, "path": path, "chars": len(a["content"]), "overwritten": existed}


def _move_file(state, a):
    src, dst = a["source"], a["destination"]
    if src not in state["files"]:
        raise ToolError(f"no file {src!r}")
    if dst in state["files"]:
        raise ToolError(f"{dst!r} already exists; delete it first or pick another name")
    state["files"][dst] = state["files"].pop(src)
    return {"ok": True, "moved": src, "to": dst}


def _delete_file(state, a):
    path = a["path"]
    if path not in state["files"]:
        raise ToolError(f"no file {path!r}")
    del state["files"][path]
    return {"ok": True, "deleted": path}


# ---- calendar


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _event_view(eid, ev):
    return {"event_id": eid, **{k: ev.get(k) for k in ("title", "date", "start", "end")}}


def _conflict(state, date, start, end, ignore=None):
    for eid, ev in sorted(state["calendar"].items()):
        if eid == ignore or ev.get("date") != date:
            continue
        try:
            s, e = _minutes(str(ev.get("start"))), _minutes(str(ev.get("end")))
        except (ValueError, AttributeError):
            continue
        if start < e and s < end:
            return eid, ev
    return None


def _list_events(state, a):
    date = a.get("date")
    items = [_event_view(k, v) for k, v in state["calendar"].items() if date is None or v.get("date") == date]
    items.sort(key=lambda e: (str(e["date"]), str(e["start"]), e["event_id"]))
    return {"events": items[:MAX_RESULT_ITEMS], "count": len(items)}


def _create_event(state, a):
    start, end = _minutes(a["start"]), _minutes(a["end"])
    if end <= start:
        raise ToolError("end must be later than start on the same day")
    if len(state["calendar"]) >= MAX_EVENTS:
        raise ToolError("the calendar is full")
    clash = _conflict(state, a["date"], start, end)
    if clash:
        eid, ev = clash
        raise ToolError(f"overlaps {eid} '{ev.get('title')}' {ev.get('start')}-{ev.get('end')} on {a['date']}")
    eid = _next_id(state["calendar"], "E")
    state["calendar"][eid] = {"title": a["title"], "date": a["date"], "start": a["start"], "end": a["end"]}
    return {"ok": True, "event": _event_view(eid, state["calendar"][eid])}


def _cancel_event(state, a):
    eid = a["event_id"]
    if eid not in state["calendar"]:
        raise ToolError(f"no event {eid!r}; list_events shows event ids")
    ev = state["calendar"].pop(eid)
    return {"ok": True, "cancelled": _event_view(eid, ev)}


def _move_event(state, a):
    eid = a["event_id"]
    if eid not in state["calendar"]:
        raise ToolError(f"no event {eid!r}; list_events shows event ids")
    ev = state["calendar"][eid]
    length = _minutes(ev["end"]) - _minutes(ev["start"])
    start = _minutes(a["start"])
    end = start + length
    if end > 24 * 60:
        raise ToolError("the event would run past midnight")
    clash = _conflict(state, a["date"], start, end, ignore=eid)
    if clash:
        oid, other = clash
        raise ToolError(f"overlaps {oid} '{other.get('title')}' {other.get('start')}-{other.get('end')} on {a['date']}")
    ev.update(date=a["date"], start=_clock(start), end=_clock(end))
    return {"ok": True, "event": _event_view(eid, ev)}


# ---- inventory and orders


def _product(state, sku):
    if sku not in state["inventory"]:
        raise ToolError(f"no product with sku {sku!r}; search_products finds skus by name")
    return {"sku": sku, **state["inventory"][sku]}


def _list_products(state, a):
    items = [_product(state, s) for s in sorted(state["inventory"])]
    return {"products": items[:MAX_RESULT_ITEMS], "count": len(items)}


def _search_products(state, a):
    q = fold(a["query"])
    items = [_product(state, s) for s in sorted(state["inventory"]) if q in fold(state["inventory"][s].get("name", "")) or q == fold(s)]
    return {"products": items[:MAX_RESULT_ITEMS], "count": len(items)}


def _check_stock(state, a):
    return _product(state, a["sku"])


def _restock(state, a):
    item = state["inventory"].get(a["sku"])
    if item is None:
        raise ToolError(f"no product with sku {a['sku']!r}")
    item["stock"] = int(item.get("stock", 0)) + a["quantity"]
    return {"ok": True, "sku": a["sku"], "added": a["quantity"], "stock": item["stock"]}


def _order_view(oid, o):
    return {"order_id": oid, **o}


def _get_order(state, a):
    oid = a["order_id"]
    if oid not in state["orders"]:
        raise ToolError(f"no order {oid!r}")
    return _order_view(oid, state["orders"][oid])


def _find_orders(state, a):
    who = fold(a["customer"])
    items = [_order_view(k, v) for k, v in sorted(state["orders"].items()) if fold(v.get("customer", "")) == who]
    return {"orders": items[:MAX_RESULT_ITEMS], "count": len(items)}


def _place_order(state, a):
    item = state["inventory"].get(a["sku"])
    if item is None:
        raise ToolError(f"no product with sku {a['sku']!r}")
    have = int(item.get("stock", 0))
    if a["quantity"] > have:
        raise ToolError(f"only {have} in stock for {a['sku']}")
    if len(state["orders"]) >= MAX_ORDERS:
        raise ToolError("too many orders")
    item["stock"] = have - a["quantity"]
    oid = _next_id(state["orders"], "O-")
    state["orders"][oid] = {"customer": a["customer"], "sku": a["sku"], "quantity": a["quantity"], "status": "placed"}
    return {"ok": True, "order": _order_view(oid, state["orders"][oid]), "stock_left": item["stock"]}


def _cancel_order(state, a):
    oid = a["order_id"]
    order = state["orders"].get(oid)
    if order is None:
        raise ToolError(f"no order {oid!r}")
    if order.get("status") != "placed":
        raise ToolError(f"order {oid} is {order.get('status')} and can no longer be cancelled")
    order["status"] = "cancelled"
    item = state["inventory"].get(order.get("sku"))
    if item is not None:
        item["stock"] = int(item.get("stock", 0)) + int(order.get("quantity", 0))
    return {"ok": True, "order": _order_view(oid, order)}


# ---- calculator


_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
}
_FUNCS = {"abs": (1, 1), "round": (1, 2), "min": (2, 10), "max": (2, 10), "sqrt": (1, 1)}
LIMIT = 1e15


def safe_eval(expression: str) -> float:
    """Arithmetic only, by walking the AST: numbers, + - * / // % **, parentheses and
    abs/round/min/max/sqrt. No names, attributes, calls to anything else, or ``eval``;
    sizes are bounded so no expression can eat the CPU or memory."""
    text = expression.replace("×", "*").replace("÷", "/").replace("−", "-").strip()
    if not text:
        raise ToolError("empty expression")
    if len(text) > MAX_EXPRESSION:
        raise ToolError(f"expression longer than {MAX_EXPRESSION} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ToolError("not an arithmetic expression (use numbers, + - * / ** and parentheses)") from None
    if sum(1 for _ in ast.walk(tree)) > 200:
        raise ToolError("expression is too complex")

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            left, right = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Pow):
                if abs(right) > 64 or (abs(left) > 1e6 and right > 2):
                    raise ToolError("power too large")
                if left == 0 and right < 0:
                    raise ToolError("division by zero")
                out = left**right
                if isinstance(out, complex):
                    raise ToolError("the result is not a real number")
                return _bounded(out)
            if isinstance(node.op, ast.BitXor):
                raise ToolError("'^' is not a power here; write ** instead")
            op = _BINOPS.get(type(node.op))
            if op is None:
                raise ToolError("unsupported operator")
            if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0:
                raise ToolError("division by zero")
            return _bounded(op(left, right))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS and not node.keywords:
            lo, hi = _FUNCS[node.func.id]
            if not lo <= len(node.args) <= hi:
                raise ToolError(f"{node.func.id} takes {lo} to {hi} arguments")
            vals = [ev(a) for a in node.args]
            name = node.func.id
            if name == "sqrt":
                if vals[0] < 0:
                    raise ToolError("square root of a negative number")
                return math.sqrt(vals[0])
            if name == "round":
                if len(vals) == 2 and (vals[1] != int(vals[1]) or abs(vals[1]) > 15):
                    raise ToolError("round's second argument must be a small whole number")
                return round(vals[0], int(vals[1])) if len(vals) == 2 else round(vals[0])
            return {"abs": abs, "min": min, "max": max}[name](*vals)
        raise ToolError("only numbers, + - * / // % **, parentheses and abs/round/min/max/sqrt are allowed")

    try:
        return ev(tree)
    except RecursionError:
        raise ToolError("expression is too deeply nested") from None
    except (OverflowError, ZeroDivisionError, ValueError, TypeError):
        raise ToolError("the expression cannot be computed") from None


def _bounded(v):
    if isinstance(v, float) and not math.isfinite(v):
        raise ToolError("the result is not a finite number")
    if abs(v) > LIMIT:
        raise ToolError("the result is too large")
    return v


def _calculate(state, a):
    v = safe_eval(a["expression"])
    if isinstance(v, float):
        v = round(v, 10)
        if v.is_integer():
            v = int(v)
    return {"expression": a["expression"], "result": v}


# ---- weather and stocks


def _city(state, name):
    want = fold(name)
    for city in state["weather"]:
        if fold(city) == want:
            return city
    raise ToolError(f"no weather data for {name!r}")


def _get_weather(state, a):
    city = _city(state, a["city"])
    days = state["weather"][city]
    if a.get("date"):
        if a["date"] not in days:
            raise ToolError(f"no forecast for {city} on {a['date']}; forecasts exist for {sorted(days)}")
        return {"city": city, "date": a["date"], **days[a["date"]]}
    return {"city": city, "forecast": [{"date": d, **days[d]} for d in sorted(days)]}


def _get_stock_price(state, a):
    sym = a["symbol"]
    if sym not in state["stocks"]:
        raise ToolError(f"unknown symbol {sym!r}; find_symbol looks one up by company name")
    return {"symbol": sym, **state["stocks"][sym]}


def _find_symbol(state, a):
    q = fold(a["company"])
    hits = [{"symbol": s, "company": v.get("company")} for s, v in sorted(state["stocks"].items()) if q and q in fold(v.get("company", ""))]
    if not hits:
        raise ToolError(f"no listed company matches {a['company'][:60]!r}")
    return {"matches": hits[:MAX_RESULT_ITEMS]}


# ---- the registry

_S = "string"
TOOLS: dict[str, Tool] = {
    t.name: t
    for t in [
        Tool("list_files", "List the files in the file store, optionally only those whose path starts with a prefix.",
             {"prefix": Param(_S, "Only paths starting with this, e.g. 'notes/'.", "raw", required=False)}, _list_files),
        Tool("read_file", "Read a file's full text.", {"path": Param(_S, "File path, e.g. 'notes/todo.txt'.", "path")}, _read_file),
        Tool("write_file", "Create or overwrite a file with the given text.",
             {"path": Param(_S, "File path.", "path"), "content": Param(_S, "The full new text of the file.", "raw", max_len=MAX_CONTENT)},
             _write_file, mutates=True),
        Tool("move_file", "Move or rename a file. Fails if the destination exists.",
             {"source": Param(_S, "Current path.", "path"), "destination": Param(_S, "New path.", "path")}, _move_file, mutates=True),
        Tool("delete_file", "Delete a file.", {"path": Param(_S, "File path.", "path")}, _delete_file, mutates=True),
        Tool("list_events", "List calendar events, optionally only those on one date.",
             {"date": Param(_S, "Date as YYYY-MM-DD.", "date", required=False)}, _list_events),
        Tool("create_event", "Add a calendar event. Fails if it overlaps an existing event.",
             {"title": Param(_S, "Event title.", "text"), "date": Param(_S, "Date as YYYY-MM-DD.", "date"),
              "start": Param(_S, "Start time as HH:MM (24-hour).", "time"), "end": Param(_S, "End time as HH:MM (24-hour).", "time")},
             _create_event, mutates=True),
        Tool("cancel_event", "Cancel (remove) a calendar event by its id.", {"event_id": Param(_S, "Event id, e.g. 'E3'.", "upper")},
             _cancel_event, mutates=True),
        Tool("move_event", "Move an event to a new date and start time, keeping its length. Fails on overlap.",
             {"event_id": Param(_S, "Event id.", "upper"), "date": Param(_S, "New date as YYYY-MM-DD.", "date"),
              "start": Param(_S, "New start time as HH:MM (24-hour).", "time")},
             _move_event, mutates=True),
        Tool("list_products", "List every product with its sku, name, stock and unit price.", {}, _list_products),
        Tool("search_products", "Find products whose name contains the query.", {"query": Param(_S, "Part of a product name.", "text")},
             _search_products),
        Tool("check_stock", "Stock level and unit price of one product.", {"sku": Param(_S, "Product sku, e.g. 'LMP-07'.", "upper")}, _check_stock),
        Tool("restock", "Add units to a product's stock.",
             {"sku": Param(_S, "Product sku.", "upper"),
              "quantity": Param("integer", "Units to add.", minimum=1, maximum=MAX_QUANTITY)},
             _restock, mutates=True),
        Tool("get_order", "Look up one order by id.", {"order_id": Param(_S, "Order id, e.g. 'O-1001'.", "upper")}, _get_order),
        Tool("find_orders", "List every order of one customer.", {"customer": Param(_S, "Customer's full name.", "text")}, _find_orders),
        Tool("place_order", "Place an order for a customer; takes the units out of stock. Fails if stock is short.",
             {"customer": Param(_S, "Customer's full name.", "text"), "sku": Param(_S, "Product sku.", "upper"),
              "quantity": Param("integer", "Units to order.", minimum=1, maximum=MAX_QUANTITY)},
             _place_order, mutates=True),
        Tool("cancel_order", "Cancel an order that has not shipped; its units go back into stock.",
             {"order_id": Param(_S, "Order id.", "upper")}, _cancel_order, mutates=True),
        Tool("calculate", "Evaluate an arithmetic expression, e.g. '(41.2 + 38.75) * 2'.",
             {"expression": Param(_S, "Numbers with + - * / ** ( ) and abs, round, min, max, sqrt.", "raw", max_len=MAX_EXPRESSION)},
             _calculate),
        Tool("get_weather", "Weather forecast for a city: one date, or every day available.",
             {"city": Param(_S, "City name.", "text"), "date": Param(_S, "Date as YYYY-MM-DD.", "date", required=False)}, _get_weather),
        Tool("get_stock_price", "Latest share price and today's change for a ticker symbol.",
             {"symbol": Param(_S, "Ticker symbol, e.g. 'NRTB'.", "upper")}, _get_stock_price),
        Tool("find_symbol", "Find the ticker symbol of a listed company by (part of) its name.",
             {"company": Param(_S, "Company name.", "text")}, _find_symbol),
    ]
}


def specs(names) -> list[dict]:
    """OpenAI ``tools`` for the offered tool names, in the order given."""
    return [TOOLS[n].spec() for n in names]


def execute(state: dict, name, arguments, offered) -> tuple[dict, str]:
    """Run one tool call; returns (result, status). Never raises on model input.

    status: ``ok``; ``error`` (bad arguments or the tool refused); ``unoffered`` (a real
    tool this task did not offer); ``unknown`` (a tool that does not exist).
    """
    name = name if isinstance(name, str) else ""
    if name not in TOOLS:
        return {"error": f"unknown tool {name[:60]!r}; use one of: {', '.join(offered)}"}, "unknown"
    if name not in offered:
        return {"error": f"tool {name!r} is not available in this task; use one of: {', '.join(offered)}"}, "unoffered"
    tool = TOOLS[name]
    try:
        args = coerce_args(tool, arguments)
        result = tool.fn(state, args)
    except ToolError as exc:
        return {"error": str(exc)[:500]}, "error"
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # malformed seed state is a task bug, but it must still reach the model as data
        return {"error": f"{name} failed: {type(exc).__name__}"}, "error"
    return json.loads(json.dumps(result)), "ok"
