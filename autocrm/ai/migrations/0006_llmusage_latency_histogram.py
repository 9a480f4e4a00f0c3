"""LLM calls counted per latency bucket (autocrm.ai.histogram) on each usage row, so the
dashboard charts a p50/p95 per day or week instead of a mean. A constant column default is a
catalogue change in PostgreSQL (no table rewrite); rows from before hold zeros, and their days
keep showing the mean of their calls."""


import autocrm.ai.histogram
import django.contrib.postgres.fields
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ai', '0005_pendinghandoff'),
    ]

    operations = [
        migrations.AddField(
            model_name='llmusage',
            name='latency_histogram',
            field=django.contrib.postgres.fields.ArrayField(base_field=models.PositiveIntegerField(), db_default=[0] * 57, default=autocrm.ai.histogram.empty, size=57),
        ),
    ]
