"""Clear due dates that cannot be read back (issue 9, finding 2).

The API accepted any offset date-time, so ``0001-01-01T00:00:00+14:00`` was stored as
``0001-12-31 10:00:00+00 BC``: PostgreSQL's timestamptz reaches 4713 BC to 294276 AD, but
psycopg cannot turn a year before 1 or after 9999 into a Python datetime and raises
DataError, so every list of that tenant answered 500 and the ticket could be neither read
nor deleted. The API now refuses such values (``DateTimeIn``); this clears the ones already
stored. A due date outside the calendar Python knows was never a real deadline, so it is
removed rather than moved. One UPDATE with a range filter: a single pass over the table
(a 1M-row table is scanned in well under a second) and only the bad rows are written.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0008_drop_redundant_tenant_indexes"),
    ]

    operations = [
        migrations.RunSQL(
            """
            UPDATE tickets_ticket SET due_at = NULL
            WHERE due_at < '0001-01-01 00:00:00+00'::timestamptz
               OR due_at >= '10000-01-01 00:00:00+00'::timestamptz
            """,
            migrations.RunSQL.noop,
        ),
    ]
