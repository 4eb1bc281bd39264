from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("bulk_drf", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="bulkjob",
            name="results_purged_at",
            field=models.DateTimeField(
                blank=True,
                help_text="when the per-record results and data were deleted (BULK_DRF_RESULTS_TTL)",
                null=True,
            ),
        ),
    ]
