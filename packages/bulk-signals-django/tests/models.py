"""Models of the test app (label ``tests``, no migrations: created by syncdb)."""

from bulk_signals_django import BulkSignalManager, BulkSignalModelMixin, BulkSignalQuerySet
from django.db import models
from django.db.models.expressions import Col


class Account(BulkSignalModelMixin, models.Model):
    name = models.CharField(max_length=100)
    balance = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    status = models.CharField(max_length=20, default="open")
    note = models.TextField(default="")


class PlainAccount(models.Model):
    """Same columns as Account, no mixin: the vanilla Django baseline."""

    name = models.CharField(max_length=100)
    balance = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    status = models.CharField(max_length=20, default="open")
    note = models.TextField(default="")


class Place(BulkSignalModelMixin, models.Model):
    """MTI parent."""

    name = models.CharField(max_length=100)
    city = models.CharField(max_length=100, default="")


class Restaurant(Place):
    """MTI child."""

    serves_pizza = models.BooleanField(default=False)
    seats = models.IntegerField(default=0)


class Product(BulkSignalModelMixin, models.Model):
    """Unique key for upserts."""

    sku = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    price = models.IntegerField(default=0)


class PlainProduct(models.Model):
    sku = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    price = models.IntegerField(default=0)


class Membership(BulkSignalModelMixin, models.Model):
    """Composite unique key for upserts."""

    team = models.CharField(max_length=40)
    member = models.CharField(max_length=40)
    role = models.CharField(max_length=20, default="member")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "member"], name="membership_team_member")]


class BookQuerySet(BulkSignalQuerySet):
    def published(self):
        return self.filter(published=True)


class Book(BulkSignalModelMixin, models.Model):
    """Custom managers built from a BulkSignalQuerySet subclass."""

    title = models.CharField(max_length=100)
    published = models.BooleanField(default=False)

    objects = BookQuerySet.as_manager()
    shelf = BulkSignalManager.from_queryset(BookQuerySet)()


class Author(BulkSignalModelMixin, models.Model):
    """Rows with cascades: deleting an author deletes its posts."""

    name = models.CharField(max_length=100)


class Post(models.Model):
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="posts")
    title = models.CharField(max_length=100)


class Score(models.Model):
    """Source of Subquery values."""

    account = models.ForeignKey(Account, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    points = models.IntegerField()


class Ticket(BulkSignalModelMixin, models.Model):
    """A foreign key and a datetime on the fast record paths."""

    account = models.ForeignKey(Account, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+")
    title = models.CharField(max_length=100)
    opened = models.DateTimeField(null=True)
    amount = models.DecimalField(max_digits=8, decimal_places=3, default=0)


class Initialised(BulkSignalModelMixin, models.Model):
    """Overrides ``__init__``: its rows must be built by Django (the fast path would skip this)."""

    name = models.CharField(max_length=100)
    level = models.IntegerField(default=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initialised = True


class Keyworded(BulkSignalModelMixin, models.Model):
    """A field named like a Python keyword: no attribute store can be compiled for it."""

    name = models.CharField(max_length=100)
    vars()["from"] = models.IntegerField(default=0)
    data = models.JSONField(default=dict)


class Ligatured(BulkSignalModelMixin, models.Model):
    """A field named with a compatibility character ("\ufb01le", U+FB01): Python's parser NFKC-normalises
    identifiers, so a compiled ``obj.\ufb01le = ...`` would store the attribute ``file``."""

    name = models.CharField(max_length=100)
    vars()["\ufb01le"] = models.CharField(max_length=20, default="x")


class LowerSelected(models.CharField):
    """Read through SQL of its own (``select_format``), as GeoDjango's geometry columns and SQL-decrypting
    fields are: Django reads ``LOWER(column)``."""

    def select_format(self, compiler, sql, params):
        return f"LOWER({sql})", params


class LowerCol(Col):
    def as_sql(self, compiler, connection):
        sql, params = super().as_sql(compiler, connection)
        return f"LOWER({sql})", params


class LowerColumn(models.CharField):
    """Read through an expression of its own (``get_col``): Django reads ``LOWER(column)``."""

    def get_col(self, alias, output_field=None):
        return LowerCol(alias, self, output_field)


class SelectFormatted(BulkSignalModelMixin, models.Model):
    title = LowerSelected(max_length=100)
    note = models.CharField(max_length=100, default="")


class ColumnFormatted(BulkSignalModelMixin, models.Model):
    title = LowerColumn(max_length=100)
    note = models.CharField(max_length=100, default="")


class Profile(BulkSignalModelMixin, models.Model):
    """Mutable values (JSON dicts) on every record path; ``name`` is the upsert key."""

    name = models.CharField(max_length=100, unique=True)
    data = models.JSONField(default=dict)
    level = models.IntegerField(default=0)


class Vault(BulkSignalModelMixin, models.Model):
    name = models.CharField(max_length=100, default="")


class Guard(models.Model):
    """Protects its vault from deletion (ProtectedError before any delete receiver)."""

    vault = models.ForeignKey(Vault, on_delete=models.PROTECT, related_name="guards")
