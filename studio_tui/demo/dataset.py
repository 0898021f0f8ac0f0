"""The demo shop's data, made the same way on every run (fixed seed, fixed timestamps): the
customers, products, orders and reviews that the three databases each hold in their own shape,
with the same ids, so an order in MongoDB or an event in Redis names a customer PostgreSQL has."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache

SEED = 12
# Every timestamp counts back from here: the data looks the same whatever day it is loaded.
NOW = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)

CUSTOMERS, PRODUCTS, ORDERS, REVIEWS = 1_000, 120, 10_000, 3_000
CENT = Decimal("0.01")

FIRST = ["Ada", "Alan", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances",
         "Edsger", "Radia", "Donald", "Hedy", "Tim", "Katherine", "John", "Sophie", "Yukihiro",
         "Anita", "Guido", "Mary", "Niklaus", "Shafi", "Leslie", "Joan", "Bjarne", "Lin", "Ivan"]
LAST = ["Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie",
        "Allen", "Dijkstra", "Perlman", "Knuth", "Lamarr", "Berners-Lee", "Johnson", "Backus",
        "Wilson", "Matsumoto", "Borg", "van Rossum", "Shaw", "Wirth", "Goldwasser", "Lamport",
        "Clarke", "Stroustrup", "Chen", "Sutherland"]
CITIES = [("Lisbon", "PT", "1100"), ("Berlin", "DE", "10115"), ("Lyon", "FR", "69001"),
          ("Austin", "US", "73301"), ("Osaka", "JP", "530-0001"), ("Toronto", "CA", "M5H"),
          ("Melbourne", "AU", "3000"), ("Oslo", "NO", "0150"), ("Madrid", "ES", "28001"),
          ("Dublin", "IE", "D02"), ("Krakow", "PL", "30-001"), ("Utrecht", "NL", "3511")]
STREETS = ["Harbour Rd", "Mill Lane", "Station St", "Elm Ave", "Canal Walk", "Market Sq",
           "Orchard Way", "Bridge St", "Hill Rd", "Rue Verte"]
CATALOG = {
    "coffee": (["Ethiopia Yirgacheffe", "Colombia Huila", "Kenya AA", "Espresso Blend",
                "Decaf Swiss Water", "Guatemala Antigua"], ["250 g", "500 g", "1 kg"], (8, 32)),
    "brewing": (["Pour-over Dripper", "Gooseneck Kettle", "Burr Grinder", "French Press",
                 "Cold Brew Jar", "Paper Filters"], ["Black", "White", "Steel"], (6, 180)),
    "tea": (["Sencha", "Earl Grey", "Assam", "Jasmine Pearls", "Rooibos"], ["50 g", "100 g"],
            (5, 24)),
    "mugs": (["Stoneware Mug", "Double-wall Glass", "Travel Tumbler", "Espresso Cup"],
             ["Sand", "Ink", "Moss", "Clay"], (9, 35)),
}
STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled", "refunded"]
STATUS_WEIGHTS = [4, 8, 10, 70, 5, 3]
PAYMENT_METHODS = ["card", "card", "card", "paypal", "apple_pay", "bank_transfer"]
REVIEW_TITLES = {5: ["Perfect", "Best I've had", "Will buy again"],
                 4: ["Very good", "Solid choice", "Nice, fast delivery"],
                 3: ["It's fine", "Okay for the price", "Average"],
                 2: ["Not for me", "Arrived late", "Expected more"],
                 1: ["Broken on arrival", "Disappointed", "Would not recommend"]}
REVIEW_BODIES = ["Ordered it as a gift and kept it.", "Packaging was lovely and plastic-free.",
                 "Took a week to arrive but worth it.", "Grind size matters a lot with this one.",
                 "My second order of this.", "Does what it says.", "Customer service sorted "
                 "a mix-up quickly.", "A bit pricier than elsewhere."]


@dataclass(frozen=True)
class Customer:
    id: int
    name: str
    email: str
    city: str
    country: str
    postcode: str
    street: str
    created_at: datetime
    marketing_opt_in: bool


@dataclass(frozen=True)
class Product:
    id: int
    sku: str
    name: str
    category: str
    variant: str
    price: Decimal
    stock: int
    active: bool


@dataclass(frozen=True)
class Line:
    product_id: int
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class Order:
    id: int
    customer_id: int
    status: str
    created_at: datetime
    updated_at: datetime
    payment_method: str
    lines: tuple[Line, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.unit_price * line.quantity for line in self.lines), Decimal("0.00"))


@dataclass(frozen=True)
class Review:
    id: int
    product_id: int
    customer_id: int
    order_id: int
    rating: int
    title: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class Shop:
    customers: list[Customer] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)

    def customer(self, customer_id: int) -> Customer:
        return self.customers[customer_id - 1]

    def product(self, product_id: int) -> Product:
        return self.products[product_id - 1]


@cache
def shop() -> Shop:
    """The whole data set (about 0.2 s to make); the same object on every call."""
    rng = random.Random(SEED)
    made = Shop()
    for number in range(1, CUSTOMERS + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        city, country, postcode = rng.choice(CITIES)
        handle = f"{first}.{last}".lower().replace(" ", "").replace("-", "")
        made.customers.append(Customer(
            number, f"{first} {last}", f"{handle}{number}@example.com", city, country, postcode,
            f"{rng.randint(1, 220)} {rng.choice(STREETS)}",
            NOW - timedelta(days=rng.randint(30, 900), seconds=rng.randint(0, 86399)),
            rng.random() < 0.4))
    categories = list(CATALOG.items())
    while len(made.products) < PRODUCTS:
        category, (names, variants, (low, high)) = categories[len(made.products) % len(categories)]
        name, variant = rng.choice(names), rng.choice(variants)
        number = len(made.products) + 1
        made.products.append(Product(
            number, f"{category[:3].upper()}-{number:04d}", name, category, variant,
            (Decimal(rng.randint(low * 100, high * 100)) / 100).quantize(CENT), rng.randint(0, 400),
            rng.random() < 0.95))
    for number in range(1, ORDERS + 1):
        created = NOW - timedelta(minutes=(ORDERS - number) * 13 + rng.randint(0, 12))
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        if number > ORDERS - 60:  # the latest orders are still on their way
            status = rng.choice(["pending", "paid", "shipped"])
        lines = []
        for product_id in rng.sample(range(1, PRODUCTS + 1), rng.choice([1, 1, 2, 2, 3, 4])):
            lines.append(Line(product_id, rng.choice([1, 1, 1, 2, 3]),
                              made.product(product_id).price))
        made.orders.append(Order(
            number, rng.randint(1, CUSTOMERS), status, created,
            min(NOW, created + timedelta(hours=rng.randint(0, 72))), rng.choice(PAYMENT_METHODS),
            tuple(lines)))
    delivered = [o for o in made.orders if o.status == "delivered"]
    for number in range(1, REVIEWS + 1):
        order = rng.choice(delivered)
        rating = rng.choices([5, 4, 3, 2, 1], [45, 30, 12, 8, 5])[0]
        made.reviews.append(Review(
            number, rng.choice(order.lines).product_id, order.customer_id, order.id, rating,
            rng.choice(REVIEW_TITLES[rating]), rng.choice(REVIEW_BODIES),
            min(NOW, order.updated_at + timedelta(days=rng.randint(3, 20)))))
    return made
