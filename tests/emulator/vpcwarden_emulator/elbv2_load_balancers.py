"""Load balancer ARNs carry the load balancer type, as in AWS.

moto.elbv2.utils.make_arn_for_load_balancer always builds
``...:loadbalancer/app/<name>/<id>``; AWS uses ``net`` for network and ``gwy``
for gateway load balancers.  Everything else in moto keys on the ARN string
(listeners are derived from it by replacing ``:loadbalancer/``), so fixing the
ARN at creation is enough.
"""

from __future__ import annotations

import contextvars
import inspect
from typing import Any

_TYPE_SEGMENT = {"application": "app", "network": "net", "gateway": "gwy"}
_creating_type: contextvars.ContextVar[str | None] = contextvars.ContextVar("elbv2_lb_type", default=None)


def apply() -> None:
    import moto.elbv2.models as models
    from moto.elbv2.models import ELBv2Backend

    original_make_arn = models.make_arn_for_load_balancer
    original_create = ELBv2Backend.create_load_balancer
    signature = inspect.signature(original_create)

    def make_arn_for_load_balancer(account_id: str, lb_id: str, name: str, region_name: str) -> str:
        arn = original_make_arn(account_id=account_id, lb_id=lb_id, name=name, region_name=region_name)
        segment = _TYPE_SEGMENT.get((_creating_type.get() or "application").lower(), "app")
        return arn.replace(":loadbalancer/app/", f":loadbalancer/{segment}/", 1)

    def create_load_balancer(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        token = _creating_type.set(bound.arguments.get("loadbalancer_type"))
        try:
            return original_create(self, *args, **kwargs)
        finally:
            _creating_type.reset(token)

    create_load_balancer.__doc__ = original_create.__doc__
    models.make_arn_for_load_balancer = make_arn_for_load_balancer  # type: ignore[assignment]
    ELBv2Backend.create_load_balancer = create_load_balancer  # type: ignore[method-assign]
