"""``lobby department add|list|head`` and ``lobby user duty``: the policy's people from
the command line (registered on ``server.cli``'s groups when that module loads)."""

import click

from server.cli import _app, aligned, cli, display_width, padded, user
from server.models import DUTIES


@cli.group()
def department():
    """Departments and their heads (the approval chain's first step)."""


@department.command("add")
@click.argument("name")
@click.option("--head", "head_email", help="Email of the department head.")
def department_add(name, head_email):
    """Add a department (its people are users with --department NAME)."""
    from server.policy import organisation

    with _app().app_context():
        dept = organisation.add_department(name, head_email)
        head = dept.head.email if dept.head else "no head yet"
        click.echo(f"added department {dept.name} ({head})")


@department.command("head")
@click.argument("name")
@click.argument("email")
def department_head(name, email):
    """Make EMAIL the head of department NAME."""
    from server.policy import organisation

    with _app().app_context():
        dept = organisation.set_head(name, email)
        click.echo(f"{dept.name}: head {email}")


@department.command("list")
def department_list():
    """Departments, their heads and how many people each has."""
    from sqlalchemy import func, select

    from server.extensions import db
    from server.models import User
    from server.policy import organisation

    with _app().app_context():
        grouped = select(User.department, func.count()).group_by(User.department)
        counts = {name: n for name, n in db.session.execute(grouped)}
        rows = [
            (d.name, d.head.email if d.head else "-", str(counts.get(d.name, 0)))
            for d in organisation.departments()
        ]
        if not rows:
            click.echo("no departments yet: lobby department add NAME --head EMAIL")
            return
        head_width = max(display_width(head) for _, head, _ in rows)
        table = [
            (name, f"{padded(head, head_width)}  {count} people") for name, head, count in rows
        ]
        for line in aligned(table):
            click.echo(line)


@user.command("duty")
@click.argument("email")
@click.argument("duty", type=click.Choice(DUTIES))
@click.option("--remove", is_flag=True, help="Take the duty away instead.")
def user_duty(email, duty, remove):
    """Give a user a policy duty (marketing, finance, gm, president_office, auditor)."""
    from server.policy import organisation

    with _app().app_context():
        if remove:
            changed = organisation.remove_duty(email, duty)
            click.echo(f"{email}: {duty} removed" if changed else f"{email} did not have {duty}")
        else:
            changed = organisation.add_duty(email, duty)
            click.echo(f"{email}: {duty}" if changed else f"{email} already has {duty}")


@cli.group()
def room():
    """Meeting rooms (assigned by head count; bookings never overlap)."""


@room.command("add")
@click.argument("name")
@click.option("--capacity", type=int, required=True, help="How many people it seats.")
@click.option("--projector", is_flag=True, help="It has a projector.")
def room_add(name, capacity, projector):
    """Add a meeting room."""
    from server.policy import rooms

    with _app().app_context():
        added = rooms.add_room(name, capacity, projector)
        extra = ", projector" if added.projector else ""
        click.echo(f"added room {added.name} ({added.capacity} people{extra})")


@room.command("list")
def room_list():
    """Meeting rooms by size."""
    from server.policy import rooms

    with _app().app_context():
        found = rooms.rooms()
        if not found:
            click.echo("no rooms yet: lobby room add NAME --capacity N [--projector]")
            return
        for line in aligned(
            (r.name, f"{r.capacity} people{', projector' if r.projector else ''}") for r in found
        ):
            click.echo(line)
