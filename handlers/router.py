"""The route table: every handler module's packets, merged (packet name -> schema, handler, public).

Each module declares its own packets beside their functions (`handlers/route_table.py`); this
module only lists the modules. A packet name declared twice fails at import.
"""

from __future__ import annotations

from handlers import (
    activity,
    auth,
    blocks,
    contacts,
    conversations,
    files,
    messages,
    op_logs,
    push,
    reactions,
    system,
    users,
)
from handlers.route_table import DuplicateRoute, Route, RouteTable, merge

__all__ = ["ROUTES", "DuplicateRoute", "Route", "RouteTable", "merge"]

# The order is the order packets are listed in (the fuzzer walks them in it).
ROUTES: dict[str, Route] = merge(
    system.routes, auth.routes, users.routes, conversations.routes, messages.routes, reactions.routes,
    files.routes, contacts.routes, push.routes, op_logs.routes, blocks.routes, activity.routes,
)
