"""The 四单 workflow (点单 配单 接单 评单) as a service layer: no Telegram, HTTP or terminal here.

Front ends use only what this package exports: `Orders(db, config, clock)` – every command
and query, each checked against the acting person – and the values and errors it hands out.
"""

from orders.door import Orders
from orders.errors import AlreadyTaken, IllegalTransition, InvalidOrder, NotFound, OrderError, PermissionDenied
from orders.matching import eligible_teams
from orders.models import OPEN_STATUSES, STATUS_LABELS, OrderStatus
from orders.queries import Figures, OrderChange, OrderFilter, Stats, WorkItem
from orders.service import OrderRequest
from orders.views import EventView, OrderView

__all__ = [
    "OPEN_STATUSES",
    "STATUS_LABELS",
    "AlreadyTaken",
    "EventView",
    "Figures",
    "IllegalTransition",
    "InvalidOrder",
    "NotFound",
    "OrderChange",
    "OrderError",
    "OrderFilter",
    "OrderRequest",
    "OrderStatus",
    "OrderView",
    "Orders",
    "PermissionDenied",
    "Stats",
    "WorkItem",
    "eligible_teams",
]
