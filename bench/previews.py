"""Card previews against the ID-photo pipeline: one preview, and the 40 cards of one order.

A 40-card order is what ``services.photos.render_order_cards`` draws when production starts: 40 different officials
(names, functions, accents and hyphens as in the national directory, from ``bench.generate_rne``'s lists), each with
its normalised 413 x 531 photo, numbered cards. Fonts, text measures and masks, and the card's constant part are made
once per container (cached): the first preview's extra cost is reported apart. S3 reads and writes are not part of the
figure (the same for any renderer). Every card has its own photo in a real order: nothing is cached per photo (here
the 40 cards share one photo, so such a cache would flatter the figure)."""
from __future__ import annotations

import dataclasses
import datetime
import random
import time

from .common import interleaved, median
from . import photo as photo_bench

ORDER_SIZE = 40


# One order per round: a warm container draws order after order, of different communes (Ain, as in the journey).
COMMUNES = ("Bourg-en-Bresse", "Oyonnax", "Ambérieu-en-Bugey", "Valserhône", "Gex", "Belley", "Miribel",
            "Divonne-les-Bains", "Trévoux", "Meximieux", "Saint-Genis-Pouilly", "Châtillon-sur-Chalaronne")


def cards(photo_jpeg: bytes, count: int = ORDER_SIZE, seed: int = 3, order: int = 0,
          used_surnames: set | None = None) -> list:
    """The cards of one order (``order`` numbers the orders of a run: its commune, its card numbers).

    Surnames are never reused across the orders of ``used_surnames`` (a compound one is drawn instead): the
    renderer caches text per container, and the bench's name lists are far shorter than the country's, so a
    repeated surname would be a cache hit that real orders seldom get. First names and functions do repeat, as they
    do in real orders."""
    from chalicelib.domain.functions import function_label
    from chalicelib.imaging.card import CardData

    from .generate_rne import FEMALE_FIRST_NAMES, LAST_NAMES, MALE_FIRST_NAMES

    rng = random.Random(seed)
    used = used_surnames if used_surnames is not None else set()
    commune = COMMUNES[order % len(COMMUNES)] + ("" if order < len(COMMUNES) else f" {order // len(COMMUNES) + 1}")
    result = []
    for index in range(count):
        sex = rng.choice("MF")
        function = "maire" if index == 0 else ("adjoint" if index < 15 else "maire_delegue")
        last_name = rng.choice(LAST_NAMES) + (f"-{rng.choice(LAST_NAMES)}" if rng.random() < 0.2 else "")
        while last_name in used:
            last_name = f"{rng.choice(LAST_NAMES)}-{rng.choice(LAST_NAMES)}"
        used.add(last_name)
        result.append(CardData(
            last_name=last_name,
            first_name=rng.choice(FEMALE_FIRST_NAMES if sex == "F" else MALE_FIRST_NAMES),
            function_label=function_label(function, sex), commune_name=commune,
            department_label="Ain (01)", mandate_start=datetime.date(2026, 3, 15),
            card_number=f"2026-{order * count + index + 1:07d}", photo_jpeg=photo_jpeg,
        ))
    return result


def first_preview_ms(photo_jpeg: bytes) -> float:
    """One preview with cold caches (fonts, text measures and masks, the card's constant part): what the first card
    of a fresh container costs."""
    from chalicelib.imaging import card as card_module, typography

    typography.clear_caches()
    card_module._header.cache_clear()
    card_module._blank_card.cache_clear()
    started = time.perf_counter()
    card_module.render_card_preview(cards(photo_jpeg, 1)[0])
    return (time.perf_counter() - started) * 1000


def measure(rounds: int = 9) -> dict:
    """The 40-card order is timed card by card, a photo pipeline run after every 8 cards, so that the order and its
    reference share the same moments of the shared machine; the order's time is the sum of each card's median.

    Each round draws another order (another commune, other officials, new card numbers): a card's own texts are
    drawn for the first time, as in production, while what an order's cards share (labels, commune, date,
    functions) is drawn once per container, as in production too."""
    from chalicelib.imaging.card import render_card_preview

    warmup = 1
    data = photo_bench.photo_bytes()
    photo_jpeg = photo_bench.ours(data)
    used: set = set()
    orders = [cards(photo_jpeg, seed=3 + number, order=number, used_surnames=used)
              for number in range(warmup + rounds)]
    cold_ms = first_preview_ms(photo_jpeg)
    # Card ``index`` of the next order at each call (each function is called warmup + rounds times).
    slots = [iter([order[index] for order in orders]) for index in range(ORDER_SIZE)]
    without_photo = iter([dataclasses.replace(order[1], photo_jpeg=None) for order in orders])
    functions = {}
    for index, slot in enumerate(slots):
        if index % 8 == 0:
            functions[f"pipeline{index // 8}"] = lambda: photo_bench.ours(data)
        functions[f"card{index}"] = lambda slot=slot: render_card_preview(next(slot))
    # Where a card's time goes: the photo (decode the 413 x 531 JPEG, Lanczos to the 280 x 360 box), and the rest.
    functions["photo_in_card"] = lambda: _card_photo(photo_jpeg)
    functions["card_without_photo"] = lambda: render_card_preview(next(without_photo))
    times = interleaved(functions, rounds, warmup=warmup)
    pipeline_ms = median([t for name, values in times.items() if name.startswith("pipeline") for t in values]) * 1000
    card_ms = [median(times[f"card{index}"]) * 1000 for index in range(ORDER_SIZE)]
    order_ms = sum(card_ms)
    return {
        "time_ms": {"pipeline": round(pipeline_ms, 2), "preview": round(card_ms[0], 2), "order40": round(order_ms, 1),
                    "photo_in_card": round(median(times["photo_in_card"]) * 1000, 2),
                    "card_without_photo": round(median(times["card_without_photo"]) * 1000, 2)},
        "first_preview_ms": round(cold_ms, 1),
        "runs": rounds,
        "preview_vs_photo": card_ms[0] / pipeline_ms,
        "previews40_vs_photo": order_ms / pipeline_ms,
        "per_card_ms": round(order_ms / ORDER_SIZE, 2),
    }


def _card_photo(photo_jpeg: bytes):
    """What ``card._draw_photo`` does with the photo before pasting it."""
    from chalicelib.imaging.card import fitted_photo

    return fitted_photo(photo_jpeg)
