from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('bulk_drf', '0003_job_bytes_and_last_upload'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='bulkjob',
            options={
                'ordering': ['-created_at'],
                'permissions': [('view_all_jobs', "Can see every user's bulk jobs in the admin")],
            },
        ),
    ]
