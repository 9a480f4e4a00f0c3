"""LLM usage per day instead of per month, so the dashboard can chart latency and cost over
time. A month's existing row becomes the row of its first day (its calls are not spread
over days nobody recorded); the monthly budget sums days, so it is unchanged."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ai", "0003_replydraft_inserted_at")]

    operations = [
        migrations.RemoveConstraint(model_name="llmusage", name="ai_llmusage_once"),
        migrations.RenameField(model_name="llmusage", old_name="month", new_name="day"),
        migrations.AddConstraint(
            model_name="llmusage",
            constraint=models.UniqueConstraint(
                fields=("tenant", "day", "feature"), name="ai_llmusage_once"
            ),
        ),
    ]
