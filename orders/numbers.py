"""Order numbers that survive being read aloud on the phone: six digits, 3+3."""

from __future__ import annotations

import re
import secrets

_DIGITS = "0123456789"


def new_order_number() -> str:
    # No leading zero (people drop it) and no run of one digit repeated 4+ times.
    while True:
        number = secrets.choice("123456789") + "".join(secrets.choice(_DIGITS) for _ in range(5))
        if not re.search(r"(\d)\1{3}", number):
            return number


def normalise_order_number(text: str) -> str | None:
    """Accept '123 456', '123-456', '#123456', full-width digits; None if not a number."""
    digits = "".join(ch for ch in text.translate(_FULLWIDTH) if ch.isdigit())
    return digits if len(digits) == 6 and digits[0] != "0" else None


def display_order_number(number: str) -> str:
    return f"{number[:3]}-{number[3:]}"


_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
