"""Blackhole routes: a route whose target is gone reads ``State: blackhole``.

moto.ec2.models.route_tables.Route.state is always "active".  AWS reports
"blackhole" when the route's target no longer works; for VPC peering
connection targets that is a connection that is deleted, rejected, expired or
failed.  DescribeRouteTables also gets the ``route.state`` filter (and the
missing ``route.destination-ipv6-cidr-block``).
"""

from __future__ import annotations

from typing import Any

from moto.ec2.models.route_tables import Route, RouteTable

from .ec2_vpc_peering_connections import DEAD_STATES


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


def apply() -> None:
    Route.state = property(state)  # type: ignore[assignment,method-assign]
    RouteTable.get_filter_value = get_filter_value  # type: ignore[method-assign]
