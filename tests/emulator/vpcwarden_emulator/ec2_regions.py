"""DescribeRegions: which Regions an account has enabled.

Against moto.ec2.models.availability_zones_and_regions / responses.availability_zones_and_regions,
which list every Region of every partition, ignore ``AllRegions`` and ``Filters``,
and mark some opt-in Regions (af-south-1, ap-southeast-3, eu-south-1) as not
needing opt-in:

* Only the caller's partition is listed.  The 17 Regions launched before
  20 March 2019 are ``opt-in-not-required``; every other Region of the aws
  partition is ``not-opted-in`` for every account, as for a new AWS account,
  until the admin API (``POST /vpcwarden-api/regions``) marks it ``opted-in``.
* Without ``AllRegions`` (or with false) only enabled Regions are listed; with
  ``RegionNames`` those Regions are listed whether enabled or not.
* Filters: ``endpoint``, ``opt-in-status``, ``region-name`` (wildcards; values
  OR, filters AND); another filter name is ``InvalidParameterValue``.

The opt-in state is kept per account in a moto backend, so a moto reset clears it.
"""

from __future__ import annotations

from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.responses import ActionResult
from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend
from moto.ec2.responses.availability_zones_and_regions import AvailabilityZonesAndRegions
from moto.utilities.utils import get_partition

from .utils import filter_objects, invalid_filter

# Launched before 20 March 2019: enabled in every account, cannot be disabled.
DEFAULT_REGIONS = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2",
        "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
        "ap-southeast-1", "ap-southeast-2", "ca-central-1",
        "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1",
        "sa-east-1",
    }
)
OPT_IN_STATES = ("opted-in", "not-opted-in")
FILTERS = {"endpoint": "Endpoint", "opt-in-status": "OptInStatus", "region-name": "RegionName"}


class RegionOptInBackend(BaseBackend):
    """Per account: the opt-in Regions whose status differs from not-opted-in."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.statuses: dict[str, str] = {}


region_opt_in_backends = BackendDict(
    RegionOptInBackend, "ec2", use_boto3_regions=False, additional_regions=["aws"]
)


def is_opt_in_region(region: str) -> bool:
    return get_partition(region) == "aws" and region not in DEFAULT_REGIONS and region in _known_regions()


def _known_regions() -> set[str]:
    return {r.name for r in RegionsAndZonesBackend.regions}


def opt_in_status(account_id: str, region: str) -> str:
    if not is_opt_in_region(region):
        return "opt-in-not-required"
    return region_opt_in_backends[account_id]["aws"].statuses.get(region, "not-opted-in")


def set_opt_in_status(account_id: str, region: str, status: str) -> None:
    """For the admin API: mark an opt-in Region enabled or not for one account."""
    if status not in OPT_IN_STATES:
        raise ValueError(f"opt_in_status must be one of {', '.join(OPT_IN_STATES)}")
    if not is_opt_in_region(region):
        raise ValueError(f"{region} is not an opt-in Region of the aws partition")
    region_opt_in_backends[account_id]["aws"].statuses[region] = status


def regions_of(account_id: str, partition: str) -> list[dict[str, str]]:
    return [
        {"RegionName": r.name, "Endpoint": r.endpoint, "OptInStatus": opt_in_status(account_id, r.name)}
        for r in RegionsAndZonesBackend.regions
        if get_partition(r.name) == partition
    ]


def describe_regions(
    account_id: str,
    partition: str,
    region_names: list[str],
    all_regions: bool,
    filters: dict[str, list[str]],
) -> list[dict[str, str]]:
    regions = regions_of(account_id, partition)
    if region_names:
        regions = [r for r in regions if r["RegionName"] in region_names]
    elif not all_regions:
        regions = [r for r in regions if r["OptInStatus"] != "not-opted-in"]
    return filter_objects(regions, filters, _filter_value)


def _filter_value(region: dict[str, str], name: str) -> Any:
    if name not in FILTERS:
        raise invalid_filter(name)
    return region[FILTERS[name]]


def describe_regions_response(self: Any) -> ActionResult:
    self.error_on_dryrun()
    regions = describe_regions(
        self.current_account,
        self.partition,
        self._get_param("RegionNames", []),
        str(self._get_param("AllRegions", "false")).lower() == "true",
        self._filters_from_querystring(),
    )
    return ActionResult({"Regions": regions})


describe_regions_response.__name__ = "describe_regions"


def apply() -> None:
    AvailabilityZonesAndRegions.describe_regions = describe_regions_response  # type: ignore[method-assign]
