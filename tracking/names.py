"""Readable random names ("Big Red Caribou") for customers created without a name or an email."""

import random

ADJECTIVES = (
    "Big", "Little", "Brave", "Calm", "Clever", "Eager", "Gentle", "Happy", "Jolly", "Kind", "Lucky", "Mighty",
    "Nimble", "Proud", "Quick", "Quiet", "Shy", "Swift", "Witty", "Bold",
)  # fmt: skip
COLOURS = (
    "Red", "Blue", "Green", "Amber", "Azure", "Coral", "Crimson", "Golden", "Indigo", "Ivory", "Jade", "Lime",
    "Magenta", "Olive", "Orange", "Purple", "Scarlet", "Silver", "Teal", "Violet",
)  # fmt: skip
ANIMALS = (
    "Caribou", "Badger", "Beaver", "Bison", "Cheetah", "Dolphin", "Falcon", "Ferret", "Gazelle", "Heron", "Ibex",
    "Jaguar", "Koala", "Lemur", "Lynx", "Marmot", "Narwhal", "Otter", "Panda", "Puffin", "Raccoon", "Salmon",
    "Tapir", "Walrus", "Wombat", "Yak", "Zebra",
)  # fmt: skip


# A display name, not a secret: drawn from a generator seeded once by the system (a bulk import names
# thousands of customers; `secrets` read the system's randomness three times a name).
_NAMES = random.Random()


def random_customer_name() -> str:
    """An adjective, a colour and an animal: 'Big Red Caribou'."""
    return " ".join(_NAMES.choice(words) for words in (ADJECTIVES, COLOURS, ANIMALS))
