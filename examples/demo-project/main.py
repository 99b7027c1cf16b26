"""A tiny command-line report over a demo warehouse."""
from inventory.models import Item, Warehouse
from inventory.store import receive, ship, stock_value_cents


def main() -> None:
    depot = Warehouse(code="BER-1")
    receive(depot, Item(sku="A-100", name="Anchor bolt", price_cents=45), 200)
    receive(depot, Item(sku="B-220", name="Bracket", price_cents=310), 40)
    ship(depot, "A-100", 25)
    print(f"{depot.code}: {len(depot.items)} SKUs, value {stock_value_cents(depot) / 100:.2f}")


if __name__ == "__main__":
    main()
