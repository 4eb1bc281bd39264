import django
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models.functions import Lower

_level = models.Q(level__gte=0, level__lte=100)
# Django 5.1 renamed CheckConstraint(check=) to condition= (the old name warns).
_constraint = (
    models.CheckConstraint(condition=_level, name="jobs_app_meter_level_range")
    if django.VERSION >= (5, 1)
    else models.CheckConstraint(check=_level, name="jobs_app_meter_level_range")
)


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("jobs_app", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="Meter",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.CharField(max_length=20, unique=True)),
                ("level", models.IntegerField()),
                (
                    "owner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="meters",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["id"],
                "constraints": [
                    _constraint,
                    models.UniqueConstraint(Lower("code"), name="jobs_app_meter_code_ci"),
                ],
            },
        ),
        migrations.CreateModel(
            name="Reading",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("value", models.IntegerField()),
                (
                    "meter",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="readings", to="jobs_app.meter"
                    ),
                ),
            ],
        ),
    ]
