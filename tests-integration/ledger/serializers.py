"""Serializers of the ledger API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from .models import Account, Transaction


class AccountSerializer(serializers.ModelSerializer):
    owner = serializers.HiddenField(default=serializers.CurrentUserDefault())

    class Meta:
        model = Account
        fields = ["id", "owner", "name", "balance", "status"]
        read_only_fields = ["balance"]


class TransactionSerializer(serializers.ModelSerializer):
    owner = serializers.HiddenField(default=serializers.CurrentUserDefault())

    class Meta:
        model = Transaction
        fields = ["id", "owner", "account", "reference", "amount", "memo"]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:  # a transaction can only go to one of the user's own accounts
            user = request.user if request.user.is_authenticated else None  # None: the anonymous schema view
            fields["account"].queryset = Account.objects.filter(owner=user)
        return fields
