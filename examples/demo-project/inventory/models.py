"""Data types for a small inventory service."""
from dataclasses import dataclass, field


@dataclass
class Item:
    """One stock-keeping unit."""

    sku: str
    name: str
    price_cents: int
    quantity: int = 0
    tags: list[str] = field(default_factory=list)

    def total_value_cents(self) -> int:
        """Value of all units of this item in stock."""
        return self.price_cents * self.quantity


@dataclass
class Warehouse:
    """Items kept in one place, by SKU."""

    code: str
    items: dict[str, Item] = field(default_factory=dict)
