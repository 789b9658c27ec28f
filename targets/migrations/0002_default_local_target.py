from django.db import migrations


def create_local_target(apps, schema_editor):
    Target = apps.get_model("targets", "Target")
    if not Target.objects.filter(is_default=True).exists():
        Target.objects.get_or_create(name="local", defaults={"kind": "local", "is_default": True})


class Migration(migrations.Migration):
    dependencies = [("targets", "0001_initial")]
    operations = [migrations.RunPython(create_local_target, migrations.RunPython.noop)]
