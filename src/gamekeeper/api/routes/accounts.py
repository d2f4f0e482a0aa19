"""Accounts: the players whose games you keep."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from gamekeeper.api.auth import AuthFirstRoute
from gamekeeper.api.deps import CurrentUser, ServicesDep, owner_filter
from gamekeeper.api.errors import ERROR_RESPONSES
from gamekeeper.api.routes.jobs import CREATE_RESPONSES
from gamekeeper.api.schemas.accounts import AccountCreate, AccountOut, AccountSync, AccountUpdate
from gamekeeper.api.schemas.jobs import JobOut
from gamekeeper.api.views import job_out
from gamekeeper.bootstrap import Services
from gamekeeper.domain.accounts import Account
from gamekeeper.domain.limits import INT32_MAX
from gamekeeper.domain.users import User

router = APIRouter(
    prefix="/api/accounts", tags=["accounts"], responses=ERROR_RESPONSES, route_class=AuthFirstRoute
)

AccountId = Annotated[int, Path(ge=1, le=INT32_MAX)]


async def account_out(services: Services, account: Account, viewer: User) -> AccountOut:
    return AccountOut.of(await services.accounts.summary(account, viewer=viewer))


@router.post("", status_code=201, response_model=AccountOut)
async def add_account(body: AccountCreate, user: CurrentUser, services: ServicesDep) -> AccountOut:
    """Add an account (returns the existing one if you have it already)."""
    account = await services.accounts.add(
        user.name, body.platform, body.username, exempt=user.is_admin
    )
    return await account_out(services, account, user)


@router.get("", response_model=list[AccountOut])
async def list_accounts(user: CurrentUser, services: ServicesDep) -> list[AccountOut]:
    """Your accounts (every account for an admin)."""
    summaries = await services.accounts.summaries(owner_filter(user), viewer=user)
    return [AccountOut.of(s) for s in summaries]


@router.get("/{account_id}", response_model=AccountOut)
async def get_account(
    account_id: AccountId, user: CurrentUser, services: ServicesDep
) -> AccountOut:
    account = await services.accounts.get(account_id, owner=owner_filter(user))
    return await account_out(services, account, user)


@router.patch("/{account_id}", response_model=AccountOut)
async def update_account(
    account_id: AccountId, body: AccountUpdate, user: CurrentUser, services: ServicesDep
) -> AccountOut:
    """Turn scheduled syncs on (`auto_sync_minutes`) or off (null), and the engine on the
    games its syncs store (`auto_analyze`); fields left out stay as they are."""
    changes = body.model_dump(include=body.model_fields_set)
    account = await services.accounts.update(account_id, changes, owner=owner_filter(user))
    return await account_out(services, account, user)


@router.delete("/{account_id}", status_code=204, response_class=Response)
async def remove_account(
    account_id: AccountId, user: CurrentUser, services: ServicesDep
) -> Response:
    """Remove the account; its games stay."""
    await services.accounts.remove(account_id, owner=owner_filter(user))
    return Response(status_code=204)


@router.post(
    "/{account_id}/sync", status_code=202, response_model=JobOut, responses=CREATE_RESPONSES
)
async def sync_account(
    account_id: AccountId, user: CurrentUser, services: ServicesDep, body: AccountSync | None = None
) -> JobOut:
    """Start a sync of this account (full by default; `sync_metadata` or `sync_moves` too)."""
    body = body or AccountSync()
    params: dict[str, Any] = {"account_id": account_id}
    if body.job_type == "sync_moves":
        params |= {
            k: v for k, v in (("limit", body.limit), ("delay_ms", body.delay_ms)) if v is not None
        }
    else:
        params |= {k: v for k, v in (("since", body.since), ("max", body.max)) if v is not None}
    job = await services.job_service.create_for(user, body.job_type, params)
    return await job_out(services, job)
