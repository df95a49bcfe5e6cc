"""The agent tools' registry: schemas, argument checking, and the one entry point.

Why its own module: this is the boundary the loop talks through. :class:`Tool` and
:class:`Param` describe each tool as an OpenAI function schema, :func:`coerce_args`
checks a model's arguments against it, :data:`TOOLS` binds every name to its
implementation in :mod:`.operations`, and :func:`execute` turns every failure into an
``{"error": ...}`` result for the model instead of an exception.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Callable

from .operations import (
    _calculate,
    _cancel_event,
    _cancel_order,
    _check_stock,
    _create_event,
    _delete_file,
    _find_orders,
    _find_symbol,
    _get_order,
    _get_stock_price,
    _get_weather,
    _list_events,
    _list_files,
    _list_products,
    _move_event,
    _move_file,
    _place_order,
    _read_file,
    _restock,
    _search_products,
    _write_file,
)
from .state import MAX_CONTENT, MAX_EXPRESSION, MAX_QUANTITY, MAX_TEXT, NORMALIZERS, ToolError


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
