"""Blackhole routes: a route whose target is gone reads ``State: blackhole``.

moto.ec2.models.route_tables.Route.state is always "active".  AWS reports
"blackhole" when the route's target no longer works; for VPC peering
connection targets that is a connection that is deleted, rejected, expired or
failed.  DescribeRouteTables also gets the ``route.state`` filter (and the
missing ``route.destination-ipv6-cidr-block``), and pages: ``MaxResults``
(5-100, AWS's bounds for this action) / ``NextToken``; without ``MaxResults``
every table comes in one answer, as moto gave it before.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.models.route_tables import Route, RouteTable
from moto.ec2.responses.route_tables import RouteTables

from .ec2_vpc_peering_connections import DEAD_STATES
from .utils import paginate


def state(self: Route) -> str:
    pcx = self.vpc_pcx
    if pcx is not None and pcx.status["Code"] in DEAD_STATES:
        return "blackhole"
    return "active"


_original_get_filter_value = RouteTable.get_filter_value


def get_filter_value(self: RouteTable, filter_name: str, method_name: str | None = None) -> Any:
    if filter_name == "route.state":
        return [route.state for route in self._routes.values()]
    if filter_name == "route.destination-ipv6-cidr-block":
        return [
            route.destination_ipv6_cidr_block
            for route in self._routes.values()
            if route.destination_ipv6_cidr_block is not None
        ]
    return _original_get_filter_value(self, filter_name, method_name)


def describe_route_tables_response(self: Any) -> ActionResult:
    ids = self._get_param("RouteTableIds", [])
    filters = self._filters_from_querystring()
    tables = self.ec2_backend.describe_route_tables(ids, filters)
    page, next_token = paginate(
        tables, self._get_param("MaxResults"), self._get_param("NextToken"), minimum=5, maximum=100
    )
    return ActionResult({"RouteTables": page, "NextToken": next_token})


describe_route_tables_response.__name__ = "describe_route_tables"


def apply() -> None:
    Route.state = property(state)  # type: ignore[assignment,method-assign]
    RouteTable.get_filter_value = get_filter_value  # type: ignore[method-assign]
    RouteTables.describe_route_tables = describe_route_tables_response  # type: ignore[method-assign]
