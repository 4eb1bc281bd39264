"""Models of the test app (label ``tests``, no migrations: created by syncdb)."""

from bulk_signals_django import BulkSignalManager, BulkSignalModelMixin, BulkSignalQuerySet
from django.contrib.contenttypes.fields import GenericForeignKey
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


class Flagged:
    """A mixin after ``Model`` in the MRO: ``Model.__init__`` ends with ``super().__init__()``, which runs this."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.flagged = True


class InitAfterModel(BulkSignalModelMixin, models.Model, Flagged):
    """``InitAfterModel.__init__ is Model.__init__``, yet building it without ``__init__`` would skip ``Flagged``."""

    name = models.CharField(max_length=100)
    level = models.IntegerField(default=0)


class NewOwned(BulkSignalModelMixin, models.Model):
    """Its own ``__new__``: ``Model.from_db`` (``cls(*values)``) runs it."""

    name = models.CharField(max_length=100)

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        obj.made_by_new = True
        return obj


class SetAttrOwned(BulkSignalModelMixin, models.Model):
    """Its own ``__setattr__``: every attribute ``Model.__init__`` sets goes through it."""

    name = models.CharField(max_length=100)

    def __setattr__(self, name, value):
        if name == "name" and isinstance(value, str):
            value = value.upper()
        super().__setattr__(name, value)


class FromDbOwned(BulkSignalModelMixin, models.Model):
    """Its own ``from_db``."""

    name = models.CharField(max_length=100)

    @classmethod
    def from_db(cls, db, field_names, values):
        obj = super().from_db(db, field_names, values)
        obj.loaded = True
        return obj


class Attachment(BulkSignalModelMixin, models.Model):
    """A ``FileField``: its attribute is a ``FileDescriptor``, not a plain ``DeferredAttribute``."""

    name = models.CharField(max_length=100)
    upload = models.FileField(default="", blank=True)


class Tag(BulkSignalModelMixin, models.Model):
    """A ``GenericForeignKey`` (a private field: ``__init__`` sets it only when given one)."""

    label = models.CharField(max_length=40)
    # db_constraint=False: this app is created by syncdb, before contenttypes' migrations make their table.
    content_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    object_id = models.PositiveIntegerField(null=True, blank=True)
    target = GenericForeignKey("content_type", "object_id")
    weight = models.FloatField(default=1.0)


class Kinds(BulkSignalModelMixin, models.Model):
    """One column of each common kind (the property tests generate values for every one)."""

    account = models.ForeignKey(Account, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+")
    title = models.CharField(max_length=20, default="")
    count = models.IntegerField(default=0)
    ratio = models.FloatField(null=True)
    amount = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    day = models.DateField(null=True)
    stamp = models.DateTimeField(null=True)
    active = models.BooleanField(default=True)
    color = models.CharField(max_length=5, choices=[("red", "Red"), ("green", "Green")], default="red")
    data = models.JSONField(default=dict)
    token = models.UUIDField(null=True)
