"""Inventory writes, in two halves: `stock` (the stock ledger) and `catalogue` (products, variants)."""
