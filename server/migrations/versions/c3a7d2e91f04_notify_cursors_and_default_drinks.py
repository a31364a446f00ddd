"""notify cursors (the alerts fan-out's place in the event log) and the default drinks menu

Revision ID: c3a7d2e91f04
Revises: 8f61123fa601
Create Date: 2026-12-01 23:00:00

A fresh install has a drinks menu (issue 16, item 6): tea 茶, green tea 绿茶, coffee 咖啡 and
water 矿泉水, inserted only when the menu is empty (a site that has its own keeps it).
"""

import sqlalchemy as sa
from alembic import op

revision = "c3a7d2e91f04"
down_revision = "8f61123fa601"
branch_labels = None
depends_on = None

DEFAULT_DRINKS = [("Tea", "茶"), ("Green tea", "绿茶"), ("Coffee", "咖啡"), ("Water", "矿泉水")]


def upgrade():
    op.create_table(
        "notify_cursors",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_notify_cursors")),
    )
    drinks = sa.table(
        "drinks",
        sa.column("name", sa.String),
        sa.column("name_zh", sa.String),
        sa.column("active", sa.Boolean),
    )
    bind = op.get_bind()
    if bind.execute(sa.select(sa.func.count()).select_from(drinks)).scalar() == 0:
        op.bulk_insert(
            drinks,
            [{"name": n, "name_zh": zh, "active": True} for n, zh in DEFAULT_DRINKS],
        )


def downgrade():
    op.drop_table("notify_cursors")
