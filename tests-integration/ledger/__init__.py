"""The demo app: accounts, their transactions, and the receivers that keep balances and an audit trail."""
