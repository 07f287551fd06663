"""Organizations: who may read and change the organisation, paging, account closure.

Against moto.organizations (models.OrganizationsBackend, responses.OrganizationsResponse):

* Reads of the organisation's structure (ListAccounts, ListAccountsForParent,
  ListChildren, ListOrganizationalUnitsForParent, ListRoots, ListParents,
  DescribeAccount, DescribeOrganizationalUnit, ListDelegatedAdministrators) are
  answered from the management account and from delegated administrators.
  From another member they are AccessDeniedException; moto answered from the
  member's own, empty, backend.  Changes (CreateAccount, CreateOrganizationalUnit,
  MoveAccount, CloseAccount, RegisterDelegatedAdministrator, ...) are for the
  management account only.  Outside any organisation both are
  AWSOrganizationsNotInUseException.
* ListAccounts, ListAccountsForParent, ListChildren and
  ListOrganizationalUnitsForParent page with MaxResults 1-20 (AWS's bounds; 20
  when omitted) and NextToken.  moto gave up to 100 a page, accepted any
  MaxResults, and did not page ListChildren at all.
* CloseAccount leaves the account PENDING_CLOSURE for 5 minutes of the emulator's
  clock, then SUSPENDED; after 90 days its State is CLOSED (Status stays
  SUSPENDED).  moto made it SUSPENDED at once.
* CreateOrganizationalUnit checks its parent (ParentNotFoundException); MoveAccount
  answers SourceParentNotFoundException / DestinationParentNotFoundException and
  DuplicateAccountException.  Security Hub may have a delegated administrator.
* A moto reset forgets which accounts were members (moto kept that map).
"""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

from moto.organizations.exceptions import (
    AccountAlreadyClosedException,
    AWSOrganizationsNotInUseException,
    ConstraintViolationException,
    InvalidInputException,
    OrganizationsClientError,
)
from moto.organizations.models import (
    FakeAccount,
    FakeDelegatedAdministrator,
    OrganizationsBackend,
    organizations_backends,
)
from moto.organizations.responses import OrganizationsResponse

from . import clock

CLOSING_TIME = datetime.timedelta(minutes=5)
SUSPENDED_TIME = datetime.timedelta(days=90)
MAX_PAGE = 20

# Actions a delegated administrator may call as well as the management account.
READS = {
    "ListAccounts",
    "ListAccountsForParent",
    "ListChildren",
    "ListOrganizationalUnitsForParent",
    "ListRoots",
    "ListParents",
    "DescribeAccount",
    "DescribeOrganizationalUnit",
    "ListDelegatedAdministrators",
    "ListDelegatedServicesForAccount",
}
# Actions only the management account may call.
CHANGES = {
    "CreateAccount",
    "CloseAccount",
    "CreateOrganizationalUnit",
    "UpdateOrganizationalUnit",
    "DeleteOrganizationalUnit",
    "MoveAccount",
    "RegisterDelegatedAdministrator",
    "DeregisterDelegatedAdministrator",
}


class AccessDeniedException(OrganizationsClientError):
    def __init__(self) -> None:
        super().__init__("AccessDeniedException", "You don't have permissions to access this resource.")


NOT_FOUND_WHAT = {
    "ParentNotFoundException": "parent",
    "SourceParentNotFoundException": "a source parent",
    "DestinationParentNotFoundException": "a destination parent",
}


def _not_found(code: str) -> OrganizationsClientError:
    return OrganizationsClientError(code, f"You specified {NOT_FOUND_WHAT[code]} that doesn't exist.")


# -- who is calling -------------------------------------------------------------
def management_backend(own: OrganizationsBackend) -> OrganizationsBackend | None:
    """The backend of the organisation's management account, or None outside any organisation."""
    if own.org is not None:
        return own
    membership = organizations_backends.master_accounts.get(own.account_id)
    if membership is None:
        return None
    management = organizations_backends[membership[0]][membership[1]]
    return management if management.org is not None else None


def is_delegated_admin(management: OrganizationsBackend, account_id: str) -> bool:
    return any(admin.account.id == account_id and admin.services for admin in management.admins)


def backend_for(own: OrganizationsBackend, action: str) -> OrganizationsBackend:
    """The backend that answers ``action`` for the caller, or the error AWS gives it."""
    if action not in READS and action not in CHANGES:
        return own
    management = management_backend(own)
    if management is None:
        raise AWSOrganizationsNotInUseException()
    if management is own:
        return own
    if action in READS and is_delegated_admin(management, own.account_id):
        return management
    raise AccessDeniedException()


# -- paging -------------------------------------------------------------------------
def page(items: list[Any], max_results: Any, next_token: str | None) -> tuple[list[Any], str | None]:
    size = MAX_PAGE if max_results is None else int(max_results)
    if size < 1:
        raise InvalidInputException("You provided a numeric parameter that has a smaller value than allowed.")
    if size > MAX_PAGE:
        raise InvalidInputException("You provided a numeric parameter that has a larger value than allowed.")
    start = _token_offset(next_token, len(items))
    end = start + size
    token = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[start:end], token


def _token_offset(next_token: str | None, total: int) -> int:
    if not next_token:
        return 0
    try:
        start = int(base64.urlsafe_b64decode(next_token.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        start = -1
    if not 0 <= start <= total:
        raise InvalidInputException("Get the value for the NextToken parameter from the response to a previous call of the operation.")
    return start


# -- account closure -------------------------------------------------------------------
def refresh(account: FakeAccount) -> None:
    """Move a closing account along: PENDING_CLOSURE, then SUSPENDED, then State CLOSED."""
    closed_at = getattr(account, "closed_at", None)
    if closed_at is None:
        return
    elapsed = clock.now() - closed_at
    if elapsed >= SUSPENDED_TIME:
        account.status, account.state = "SUSPENDED", "CLOSED"
    elif elapsed >= CLOSING_TIME:
        account.status, account.state = "SUSPENDED", "SUSPENDED"
    else:
        account.status, account.state = "PENDING_CLOSURE", "PENDING_CLOSURE"


_original_describe = FakeAccount.describe


def describe_account(self: FakeAccount) -> dict[str, Any]:
    refresh(self)
    return _original_describe(self)


def close(self: FakeAccount) -> None:
    refresh(self)
    if self.status != "ACTIVE":
        raise AccountAlreadyClosedException()
    self.closed_at = clock.now()
    refresh(self)


# -- backend mixin -----------------------------------------------------------------------
class OrganizationsAccountsBackend:
    """Mixin for moto's OrganizationsBackend (``apply`` installs it)."""

    org: Any
    accounts: list[FakeAccount]
    ou: list[Any]
    account_id: str

    def find_parent(self, parent_id: str, code: str = "ParentNotFoundException") -> str:
        if not any(unit.id == parent_id for unit in self.ou):
            raise _not_found(code)
        return parent_id

    def accounts_under(self, parent_id: str) -> list[FakeAccount]:
        self.find_parent(parent_id)
        return [a for a in self.accounts if a.parent_id == parent_id]

    def units_under(self, parent_id: str) -> list[Any]:
        self.find_parent(parent_id)
        return [unit for unit in self.ou if unit.parent_id == parent_id]

    def children_of(self, parent_id: str, child_type: str) -> list[dict[str, str]]:
        if child_type == "ACCOUNT":
            return [{"Id": a.id, "Type": "ACCOUNT"} for a in self.accounts_under(parent_id)]
        if child_type == "ORGANIZATIONAL_UNIT":
            return [{"Id": u.id, "Type": "ORGANIZATIONAL_UNIT"} for u in self.units_under(parent_id)]
        raise InvalidInputException("You specified an invalid value.")


_original_create_ou = OrganizationsBackend.create_organizational_unit
_original_move_account = OrganizationsBackend.move_account
_original_close_account = OrganizationsBackend.close_account
_original_reset = OrganizationsBackend.reset


def create_organizational_unit(self: Any, **kwargs: Any) -> dict[str, Any]:
    self.find_parent(kwargs.get("ParentId", ""))
    return _original_create_ou(self, **kwargs)


def move_account(self: Any, **kwargs: Any) -> None:
    source = self.find_parent(kwargs["SourceParentId"], "SourceParentNotFoundException")
    destination = self.find_parent(kwargs["DestinationParentId"], "DestinationParentNotFoundException")
    account = self.get_account_by_id(kwargs["AccountId"])
    if account.parent_id == destination and source != destination:
        raise OrganizationsClientError("DuplicateAccountException", "That account is already present in the specified destination.")
    _original_move_account(self, **kwargs)


def close_account(self: Any, **kwargs: Any) -> None:
    if kwargs.get("AccountId") == self.account_id:
        raise ConstraintViolationException("You can't close the management account with this API.")
    _original_close_account(self, **kwargs)


def reset(self: Any) -> None:
    # Members of the organisation this account manages are members no more.
    members = organizations_backends.master_accounts
    for member, (management, _) in list(members.items()):
        if management == self.account_id:
            members.pop(member, None)
    _original_reset(self)


# -- responses ---------------------------------------------------------------------------------
def organizations_backend(self: OrganizationsResponse) -> OrganizationsBackend:
    own = organizations_backends[self.current_account][self.partition]
    return backend_for(own, self._get_action())


def _page_response(self: OrganizationsResponse, key: str, items: list[Any]) -> str:
    found, token = page(items, self._get_param("MaxResults"), self._get_param("NextToken"))
    result: dict[str, Any] = {key: found}
    if token:
        result["NextToken"] = token
    return json.dumps(result)


def list_accounts(self: OrganizationsResponse) -> str:
    backend = self.organizations_backend
    return _page_response(self, "Accounts", [a.describe() for a in backend.accounts])


def list_accounts_for_parent(self: OrganizationsResponse) -> str:
    backend = self.organizations_backend
    accounts = backend.accounts_under(self._get_param("ParentId"))
    return _page_response(self, "Accounts", [a.describe() for a in accounts])


def list_children(self: OrganizationsResponse) -> str:
    backend = self.organizations_backend
    children = backend.children_of(self._get_param("ParentId"), self._get_param("ChildType"))
    return _page_response(self, "Children", children)


def list_organizational_units_for_parent(self: OrganizationsResponse) -> str:
    backend = self.organizations_backend
    units = backend.units_under(self._get_param("ParentId"))
    return _page_response(self, "OrganizationalUnits", [u.describe()["OrganizationalUnit"] for u in units])


def apply() -> None:
    if OrganizationsAccountsBackend not in OrganizationsBackend.__mro__:
        OrganizationsBackend.__bases__ = OrganizationsBackend.__bases__ + (OrganizationsAccountsBackend,)
    OrganizationsBackend.create_organizational_unit = create_organizational_unit  # type: ignore[method-assign]
    OrganizationsBackend.move_account = move_account  # type: ignore[method-assign]
    OrganizationsBackend.close_account = close_account  # type: ignore[method-assign]
    OrganizationsBackend.reset = reset  # type: ignore[method-assign]
    FakeAccount.describe = describe_account  # type: ignore[method-assign]
    FakeAccount.close = close  # type: ignore[method-assign]
    if "securityhub.amazonaws.com" not in FakeDelegatedAdministrator.SUPPORTED_SERVICES:
        FakeDelegatedAdministrator.SUPPORTED_SERVICES.append("securityhub.amazonaws.com")
    OrganizationsResponse.organizations_backend = property(organizations_backend)  # type: ignore[assignment]
    OrganizationsResponse.list_accounts = list_accounts  # type: ignore[method-assign]
    OrganizationsResponse.list_accounts_for_parent = list_accounts_for_parent  # type: ignore[method-assign]
    OrganizationsResponse.list_children = list_children  # type: ignore[method-assign]
    OrganizationsResponse.list_organizational_units_for_parent = list_organizational_units_for_parent  # type: ignore[method-assign]
