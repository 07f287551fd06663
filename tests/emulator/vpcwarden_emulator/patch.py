"""Apply vpcwarden's extensions to moto.  Call :func:`apply` once, before serving."""

from __future__ import annotations

import threading

_applied = False
_lock = threading.Lock()


def apply() -> None:
    """Patch moto in place.  Idempotent."""
    global _applied
    with _lock:
        if _applied:
            return
        from . import (
            ec2_endpoint_connections,
            ec2_endpoint_connections_responses,
            ec2_regions,
            ec2_route_tables,
            ec2_tags,
            ec2_vpc_peering_connections,
            elbv2_load_balancers,
            events_delivery,
            organizations_accounts,
            securityhub_findings,
            securityhub_findings_responses,
            lambda_functions,
            stepfunctions_engine,
            stepfunctions_lambda,
            stepfunctions_map_run,
            stepfunctions_result_writer,
        )

        ec2_tags.apply()
        ec2_vpc_peering_connections.apply()
        ec2_route_tables.apply()
        ec2_endpoint_connections.apply()
        ec2_endpoint_connections_responses.apply()
        elbv2_load_balancers.apply()
        ec2_regions.apply()
        events_delivery.apply()
        organizations_accounts.apply()
        securityhub_findings.apply()
        securityhub_findings_responses.apply()
        lambda_functions.apply()
        stepfunctions_engine.apply()
        stepfunctions_lambda.apply()
        stepfunctions_map_run.apply()
        stepfunctions_result_writer.apply()
        _applied = True
