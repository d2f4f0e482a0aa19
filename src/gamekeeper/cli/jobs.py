"""`gamekeeper jobs list|show|cancel`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from gamekeeper.cli.services import cli_user, open_services
from gamekeeper.errors import InvalidInput

if TYPE_CHECKING:
    from rich.console import Console

    from gamekeeper.domain.jobs import JobStatus


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("jobs", help="see and cancel jobs")
    sub = parser.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    listing = sub.add_parser("list", help="jobs, newest first")
    listing.add_argument("--status", action="append", help="only jobs in this status (repeatable)")
    listing.add_argument("--type", dest="job_type", help="only jobs of this type")
    listing.add_argument("--limit", type=int, default=20)
    listing.set_defaults(handler=list_command)
    show = sub.add_parser("show", help="one job in full")
    show.add_argument("job_id")
    show.set_defaults(handler=show_command)
    cancel = sub.add_parser("cancel", help="ask a job to stop at its next boundary")
    cancel.add_argument("job_id")
    cancel.set_defaults(handler=cancel_command)


def _statuses(names: list[str] | None) -> frozenset[JobStatus] | None:
    from gamekeeper.domain.jobs import JobStatus

    if not names:
        return None
    try:
        return frozenset(JobStatus(n.lower()) for n in names)
    except ValueError:
        known = ", ".join(s.value for s in JobStatus)
        raise InvalidInput(f"unknown status in {names}; use one of {known}") from None


async def list_command(args: argparse.Namespace, console: Console) -> int:
    if not 1 <= args.limit <= 500:
        raise InvalidInput("--limit must be between 1 and 500")
    from rich.table import Table

    from gamekeeper.cli.render import job_summary
    from gamekeeper.storage.base import JobQuery

    async with open_services() as services:
        user = await cli_user(services)
        query = JobQuery(
            owner=None if user.is_admin else user.name,
            statuses=_statuses(args.status),
            job_type=args.job_type.lower() if args.job_type else None,
            limit=args.limit,
        )
        page = await services.jobs.list(query)
    table = Table("id", "type", "status", "created", "summary")
    for job in page.items:
        table.add_row(
            job.id,
            job.job_type,
            job.status.value,
            job.created_at.strftime("%Y-%m-%d %H:%M"),
            job_summary(job),
        )
    console.print(table if page.items else "no jobs")
    return 0


async def show_command(args: argparse.Namespace, console: Console) -> int:
    from gamekeeper.cli.render import render_job

    async with open_services() as services:
        user = await cli_user(services)
        job = await services.jobs.get(args.job_id, owner=None if user.is_admin else user.name)
    console.print(render_job(job))
    return 0


async def cancel_command(args: argparse.Namespace, console: Console) -> int:
    async with open_services() as services:
        user = await cli_user(services)
        job = await services.jobs.cancel(args.job_id, owner=None if user.is_admin else user.name)
    if job.status.terminal:
        console.print(f"{job.id} is {job.status.value}", highlight=False)
    else:
        console.print(f"{job.id}: cancel requested; it stops at its next boundary", highlight=False)
    return 0
