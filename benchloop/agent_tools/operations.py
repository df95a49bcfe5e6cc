"""What each agent tool does: the pure implementations ``fn(state, args)``.

Why its own module: these are the bulk of the tools' behaviour (the file store, calendar,
inventory and orders, the calculator, weather and stocks) and they change together when a
tool's semantics change, apart from the schemas and the call plumbing in
:mod:`.registry`. Every function here receives arguments already checked and normalized
by :func:`~.registry.coerce_args`, may change ``state`` in place, returns a JSON-able dict,
and refuses with :class:`~.state.ToolError`. Results feed the agent suite's scores, which
are hashed by the checker version: change nothing here without bumping it.
"""
from __future__ import annotations

import ast
import math
import re

from benchloop import pyast

from .state import (
    MAX_EVENTS,
    MAX_EXPRESSION,
    MAX_FILES,
    MAX_ORDERS,
    MAX_RESULT_ITEMS,
    ToolError,
    fold,
)


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
        tree = pyast.parse(text, mode="eval")
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
