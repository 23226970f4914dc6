"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from pyinstaller_tools.migrations.helpers import apply_section

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    # the files of this revision's section of db/install.txt (then=[...]: statements of its own), then the
    # check of the machinery's pin, last
    ${upgrades if upgrades else "apply_section(" + repr(up_revision) + ")"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
