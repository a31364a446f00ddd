"""kiosk flow: settings, site rules, signatures, photos, desk requests, visit language

Revision ID: 451e1848a0d6
Revises: 283846e3f244
Create Date: 2026-11-27 03:25:45.752631

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '451e1848a0d6'
down_revision = '283846e3f244'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('kiosk_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_name', sa.String(length=200), nullable=False),
    sa.Column('welcome_en', sa.String(length=500), nullable=False),
    sa.Column('welcome_zh', sa.String(length=500), nullable=False),
    sa.Column('logo_png', sa.LargeBinary(), nullable=True),
    sa.Column('photo_enabled', sa.Boolean(), nullable=False),
    sa.Column('rules_valid_days', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_settings'))
    )
    op.create_table('site_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('text_en', sa.Text(), nullable=False),
    sa.Column('text_zh', sa.Text(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_site_rules_published_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_rules')),
    sa.UniqueConstraint('version', name=op.f('uq_site_rules_version'))
    )
    op.create_table('desk_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('kiosk_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('attempt_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('handled_at', sa.DateTime(), nullable=True),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['handled_by_id'], ['users.id'], name=op.f('fk_desk_requests_handled_by_id_users')),
    sa.ForeignKeyConstraint(['kiosk_id'], ['kiosks.id'], name=op.f('fk_desk_requests_kiosk_id_kiosks')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_desk_requests_visit_id_visits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_requests')),
    sa.UniqueConstraint('attempt_key', name=op.f('uq_desk_requests_attempt_key'))
    )
    with op.batch_alter_table('desk_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_desk_requests_status'), ['status'], unique=False)

    op.create_table('signatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('rules_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('visitor_key', sa.String(length=300), nullable=False),
    sa.Column('image_png', sa.LargeBinary(), nullable=False),
    sa.Column('signed_at', sa.DateTime(), nullable=False),
    sa.Column('kiosk_id', sa.Integer(), nullable=True),
    sa.Column('attempt_key', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['kiosk_id'], ['kiosks.id'], name=op.f('fk_signatures_kiosk_id_kiosks')),
    sa.ForeignKeyConstraint(['rules_id'], ['site_rules.id'], name=op.f('fk_signatures_rules_id_site_rules')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_signatures_visit_id_visits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signatures')),
    sa.UniqueConstraint('attempt_key', name=op.f('uq_signatures_attempt_key'))
    )
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signatures_visit_id'), ['visit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signatures_visitor_key'), ['visitor_key'], unique=False)

    op.create_table('visit_photos',
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('jpeg', sa.LargeBinary(), nullable=False),
    sa.Column('taken_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_photos_visit_id_visits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('visit_id', name=op.f('pk_visit_photos'))
    )
    with op.batch_alter_table('kiosks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=10), nullable=False,
                                      server_default='en'))

    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=10), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('attempt_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_visits_attempt_key'), ['attempt_key'])



def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_visits_attempt_key'), type_='unique')
        batch_op.drop_column('attempt_key')
        batch_op.drop_column('language')

    with op.batch_alter_table('kiosks', schema=None) as batch_op:
        batch_op.drop_column('language')

    op.drop_table('visit_photos')
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signatures_visitor_key'))
        batch_op.drop_index(batch_op.f('ix_signatures_visit_id'))

    op.drop_table('signatures')
    with op.batch_alter_table('desk_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_desk_requests_status'))

    op.drop_table('desk_requests')
    op.drop_table('site_rules')
    op.drop_table('kiosk_settings')
