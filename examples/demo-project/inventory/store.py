"""Operations on warehouses: receiving, shipping, reporting."""
from .models import Item, Warehouse


class OutOfStock(Exception):
    """Raised when a shipment asks for more units than are in stock."""


def receive(warehouse: Warehouse, item: Item, units: int) -> Item:
    """Adds `units` of `item` to the warehouse and returns the stored item."""
    stored = warehouse.items.setdefault(item.sku, item)
    stored.quantity += units
    return stored


def ship(warehouse: Warehouse, sku: str, units: int) -> Item:
    """Removes `units` of the item with `sku`, or raises OutOfStock."""
    item = warehouse.items[sku]
    if item.quantity < units:
        raise OutOfStock(f"{sku}: {item.quantity} in stock, {units} requested")
    item.quantity -= units
    return item


def stock_value_cents(warehouse: Warehouse) -> int:
    """Value of everything in the warehouse."""
    return sum(item.total_value_cents() for item in warehouse.items.values())
