"""Seeded simulator of a Chinese online shop (events, orders, products, users, spend, costs,
stock, purchase orders, shipments, returns).

The simulator produces the tables of the project's data contract as Parquet files, one per
logical table (``events``, ``orders``, ``order_items``, ``products``, ``users``,
``marketing_spend``, ``costs``, ``reviews``, ``inventory``, ``purchase_orders``,
``shipments``, ``returns``). All timestamps are naive UTC ``timestamp[us]``;
the shop itself lives in Asia/Shanghai (UTC+8, no DST), so calendar logic (weekdays,
Singles' Day, the evening peak, ``marketing_spend.date``, ``costs.month``) uses local days.
The window is 2025-08-01 00:00 to 2025-11-28 24:00 local time (120 days).

Model. A catalogue of ~20 categories, each with its own lognormal price level, gross margin,
traffic share, conversion level and basket quantity, holds SKUs with Zipf-like popularity
inside their category and a latent quality (a few percent are clearly bad: low ratings,
more refunds). Users arrive over the window (growing trend, weekly seasonality, a Singles'
Day surge) through ``search``/``ads``/``social``/``direct`` (plus a little ``push``/``sms``)
and get a platform, a region, a favourite category and a loyalty type. After signup a user
is active on day ``k`` with probability ``r * (1 + k) ** -beta`` (times the day's traffic
level); loyal users have a high ``r`` and a slow decay, casual ones a low ``r`` and a fast
decay, which gives D1 retention around 30 % and D30 around 5-10 % and a minority of repeat
buyers. Returning sessions come mostly through ``direct``, ``push`` and ``sms``.

Sessions walk GA4's recommended e-commerce events: ``session_start``, ``page_view``,
impressions and clicks of promotion slots (``view_promotion``/``select_promotion``, slots
differ in visibility, CTR and in how well their clickers convert), item list impressions and
clicks (``view_item_list``/``select_item``), ``view_item``, ``add_to_wishlist``,
``claim_coupon``, ``add_to_cart``, ``begin_checkout`` (creates the order, ``order_time``) and
``purchase`` (pays it, ``paid_time``). Purchase intent depends on channel, platform, loyalty,
category, price, SKU quality and the day (a pre-sale warm-up in early November with many
wishlists but deferred buying, then several times the traffic and conversion on 11-10 and
11-11). Some paid orders are later refunded or cancelled, some checkouts are never paid, and
coupons claimed in a session can be redeemed on that or a later order. Buyers review some
items days later with ratings driven by SKU quality. Daily marketing spend per paid channel
and billing model (CPC/CPM/CPT/CPS) is derived from the simulated traffic and GMV of that
channel, and monthly ROPG costs (platform, operating, goods, people) from the order volume.

Supply chain. Demand is simulated without looking at stock, and the supply tables are derived
from it afterwards with random streams of their own, so the other tables are the same with or
without them. Each SKU buys from one of six suppliers (promised lead times of 3 to 21 days;
late and short deliveries from 5 % to 45 % of orders), in lots worth at least a minimum order
value, kept above a safety stock. Daily stock per SKU (summed over two warehouses for the best
sellers) is built backwards from the last day so that ``on_hand(d) = on_hand(d - 1) +
received(d) - sold(d)`` holds exactly, with ``sold`` the units of paid, not cancelled order lines
by local payment day. Stock-outs are placed on quiet spells of stock-out prone SKUs (more often
those of unreliable suppliers): the last day with sales sells the last unit, the shelf stays
empty while shoppers still view the item, and a late purchase order refills it. So sales stop
while out of stock by construction, and the views on those days are the lost demand. Some SKUs
are bought for many months of demand (overstock), a quarter never sell (dead stock). Paid
orders ship from the warehouse after a gamma-distributed handling time that swells around
Singles' Day (the 48-hour promise slips), with one of five carriers that differ in speed and
price, by delivery zone of the buyer's region; a reviewed order is delivered before its review.

After-sales (issue 21). ``returns`` is derived last, from the written orders, lines and
shipments, with a random stream of its own (so again every other table is unchanged). Since
``refunded`` was decided before any parcel existed, every refunded order gets the request that
refunded it (the whole order, each line, or part of one line), made after delivery and refunded
before the window end with a lognormal delay (median 30 h, p90 120 h, half as long again in the
week after Singles' Day). Orders the model would refund after the end have open requests. Other
delivered orders ask for a return that is turned down at a rate driven by the category's refund
level, the worst SKU's quality, the carrier and, most, lateness against a 3-day promise from
payment to door (1-2 days late: 3 times, more: 10 times the on-time rate), so late parcels
come back more and more often for ``late_delivery``. Requests come days after delivery,
a few after more than 30 days.

Scale. Generation runs day by day, and within a day in slices of sessions ordered by start
time, with vectorised numpy; each slice is written through ``pyarrow.parquet.ParquetWriter``
so memory stays bounded for 100M events. Events whose session is still running at the next
slice's start are held back and merged into the next slice, which keeps ``events`` globally
sorted by ``event_time`` at every size. ``target_events`` scales the number of users (the 120
days stay fixed) and, more slowly, the number of SKUs. The same seed always gives the same
tables: every random draw comes from ``numpy.random.default_rng`` streams spawned from it.

Known truth (issue 17). Two optional features plant answers the monitoring and the risk flags
must find. *Incidents* (:class:`Incident`): on the local days ``start..end`` one probability of
the session walk is multiplied by ``size``: returning visits (``sessions``), a viewed item being
added to the cart (``add_to_cart``), a cart being checked out (``begin_checkout``) or a placed
order being paid (``purchase``, i.e. payment success), for the planted users below too. They
reuse the uniform draws already made, so everything before an incident's first day is unchanged
(after it, what follows from the changed outcomes differs). *Abusers and bots*
(:class:`Abusers`): a handful of extra users appended after the ordinary ones (ids
``n_users + 1`` on, see :func:`planted_users`) whose sessions are simulated with random streams
of their own and fed into the same event, order and shipment pipeline: coupon abusers (the
easiest coupon claimed every day), unpaid abusers (orders left unpaid or cancelled), refund
abusers (most paid orders refunded), crawler bots (hundreds of page views a minute) and session
bots (dozens of sessions a day). Their sessions and orders are numbered from
:data:`PLANTED_SESSION_BASE` and :data:`PLANTED_ORDER_BASE`, so the ordinary ids stay as they
were. Both are on for the committed sample
(:data:`SAMPLE_INCIDENTS`, :data:`SAMPLE_ABUSERS`) and off for ``--events`` data sets, whose
tables are therefore unchanged by them.

Known truth (issue 18): journeys. *On-site search*, a conversion driver: :data:`SEARCH_SHARE` of
the sessions with a ``view_item`` have a ``search`` (after the landing page view, before any item
view), and those add to the cart :data:`SEARCH_CART_LIFT` times as often as the other viewing
sessions. *Checkout detour*, a loop: :data:`CHECKOUT_DETOUR_SHARE` of the checkouts go back to
the cart (``view_cart``, then ``begin_checkout`` again) before paying or leaving, and are paid
:data:`CHECKOUT_DETOUR_PAY_MULT` times as often as the others; the first ``begin_checkout``
places the order. Both are drawn after the walk, given its outcome (:func:`_marked`), from a
random stream of their own, and only add events: every other table is the same with or without
them (``journeys``, on for every data set).

Known truth (issue 19): products bought together. :data:`BOUGHT_TOGETHER_PAIRS` pairs (A, B) of
SKUs, A the most popular SKU of an anchor category and B of a complementary one
(:data:`BOUGHT_TOGETHER_CATEGORIES`, :func:`bought_together_pairs`): each order line of A adds a
line of B with probability :data:`BOUGHT_TOGETHER_RATE` (unless B is in the order), carted with
A (an ``add_to_cart`` at the same instant). The lines, their quantities, prices and reviews are
drawn from a random stream of their own, and an order's cancellation and refund chances still
come from the shopper's own lines, so no walk draw moves: the orders' ids, times and statuses,
the other lines and events stay; amounts, coupons, units (stock, purchase orders, shipments,
costs) and the returns follow the larger baskets (``bought_together``, on for every data set;
off, the data are what they were before).

Known truth (issue 20): marketing. ``campaigns`` lists a category promotion
(:data:`PROMO_CATEGORY`, :data:`PROMO_START`..:data:`PROMO_END`) whose item views are carted
:data:`PROMO_CART_LIFT` times as often, with :data:`PROMO_DISCOUNT_RATE` off its lines in
``discount_amount``, then :data:`PROMO_DIP_MULT` times for :data:`PROMO_DIP_DAYS` days (pull-
forward), plus the calendar's coupons, price cuts and sale days. ``competitor_prices`` gives
three competitors' daily prices of the most popular SKUs; from :data:`PRICE_WAR_START` one
undercuts some of them by more than 10 %, and those are carted :data:`UNDERCUT_CART_MULT` times
as often. Both reuse the walk's uniform draws, as an incident does (nothing before their first
day moves). ``experiments`` assigns every user with a session in the A/B tests' window at the
first such session; :data:`EXPERIMENTS` gives each test's ratio of converting users, planted
after the simulation given the outcomes (:func:`_marked`), so no other table moves
(``marketing``: on for the sample, off by default with ``target_events``; off, the three tables
are not written and the others are as before).

Known truth (issue 19): customers with a known lifetime value. A cohort of new users
(:data:`KNOWN_CLV_CUSTOMERS`, ids :func:`known_clv_users`) whose paid orders follow BG/NBD from
their first purchase (:data:`KNOWN_CLV_BGNBD`) and whose order amounts follow Gamma-Gamma
(:data:`KNOWN_CLV_GAMMA_GAMMA`), as complete orders with their sessions' events, from random
streams and id ranges of their own (:class:`_KnownClv`; ``known_clv``: on for the sample, off by
default with ``target_events``; off, the data are what they were before it).

CLI: ``python -m lib.simulate --out data/sample [--seed 42] [--events 10_000_000]
[--incidents/--no-incidents] [--incident purchase,2025-10-20,2025-10-24,0.4]
[--abusers/--no-abusers] [--journeys/--no-journeys] [--bought-together/--no-bought-together]
[--marketing/--no-marketing] [--known-clv/--no-known-clv]``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lib import data

__all__ = [
    "Abusers",
    "BOUGHT_TOGETHER_CATEGORIES",
    "BOUGHT_TOGETHER_PAIRS",
    "BOUGHT_TOGETHER_RATE",
    "CHECKOUT_DETOUR_PAY_MULT",
    "CHECKOUT_DETOUR_SHARE",
    "END_LOCAL",
    "EXPERIMENTS",
    "INCIDENT_STEPS",
    "Incident",
    "KNOWN_CLV_BGNBD",
    "KNOWN_CLV_CUSTOMERS",
    "KNOWN_CLV_GAMMA_GAMMA",
    "N_DAYS",
    "NO_ABUSERS",
    "PROMO_CART_LIFT",
    "PROMO_CATEGORY",
    "PROMO_DIP_MULT",
    "PROMO_DISCOUNT_RATE",
    "PROMO_END",
    "PROMO_START",
    "SAMPLE_ABUSERS",
    "SAMPLE_INCIDENTS",
    "SCHEMAS",
    "SEARCH_CART_LIFT",
    "SEARCH_SHARE",
    "START_LOCAL",
    "TZ",
    "UNDERCUT_CART_MULT",
    "bought_together_pairs",
    "generate",
    "known_clv_users",
    "main",
    "planted_users",
]

# --------------------------------------------------------------------------------------
# Window and units
# --------------------------------------------------------------------------------------
TZ = "Asia/Shanghai"
UTC_OFFSET_HOURS = 8
N_DAYS = 120
START_DATE = date(2025, 8, 1)
START_LOCAL = datetime(2025, 8, 1)
END_LOCAL = START_LOCAL + timedelta(days=N_DAYS)  # exclusive: 2025-11-29 00:00 local
US_PER_S = 1_000_000
US_PER_HOUR = 3600 * US_PER_S
US_PER_DAY = 24 * US_PER_HOUR
START_US = (
    int((START_LOCAL - timedelta(hours=UTC_OFFSET_HOURS) - datetime(1970, 1, 1)).total_seconds())
    * US_PER_S
)
END_US = START_US + N_DAYS * US_PER_DAY

SAMPLE_USERS = 50_000
SAMPLE_SKUS = 2_000
# Measured mean events per user of this model (sample run); converts target_events to users.
EVENTS_PER_USER = 45.2
# Sessions per slice: ~7.5 events each, so a slice is ~400k events; large enough to amortise
# numpy call overhead, small enough to bound memory at any size.
SLICE_SESSIONS = 25_000
# Rows buffered per table before a row group is written (also bounds the writer's memory).
DEFAULT_ROW_GROUP_ROWS = 250_000

# --------------------------------------------------------------------------------------
# Vocabularies (order matters: codes are indexes into these tuples)
# --------------------------------------------------------------------------------------
# The contract's event names; a code is the index into this tuple. The journeys' events
# (issue 18), GA4's ``search`` and ``view_cart``, are the contract's too; any it did not list
# would come after its names.
JOURNEY_EVENTS = ("search", "view_cart")
EVENT_NAMES = data.EVENT_NAMES + tuple(e for e in JOURNEY_EVENTS if e not in data.EVENT_NAMES)
E = {name: i for i, name in enumerate(EVENT_NAMES)}
# Mean seconds since the previous event of the session (session_start is the session clock),
# by code. The journeys' events are not timed by it (see _Simulator._journeys).
_GAP_S = {
    "session_start": 0, "page_view": 4, "view_promotion": 2, "select_promotion": 6,
    "view_item_list": 5, "select_item": 8, "view_item": 2, "add_to_wishlist": 25,
    "add_to_cart": 35, "begin_checkout": 30, "purchase": 50, "claim_coupon": 12,
}  # fmt: skip
EVENT_GAP_S = np.array([_GAP_S.get(name, 0) for name in EVENT_NAMES], dtype=np.float64)
# ...and of the journeys' events: a detour back to the cart after an abandoned checkout
# (view_cart, then begin_checkout again); a search is placed inside an existing gap.
DETOUR_GAP_S = (20.0, 30.0)

CHANNELS = ("search", "ads", "social", "direct", "push", "sms")
SEARCH, ADS, SOCIAL, DIRECT, PUSH, SMS = range(6)
PLATFORMS = ("app_ios", "app_android", "mini_program", "web")
PLATFORM_P = np.array([0.25, 0.42, 0.23, 0.10])
# Acquisition channel of new users by platform: apps come from ads/search, the mini program
# from social sharing, the web from search; push/sms barely acquire anybody.
ACQ_CHANNEL_P = np.array(
    [
        [0.30, 0.33, 0.17, 0.16, 0.02, 0.02],
        [0.28, 0.36, 0.18, 0.14, 0.02, 0.02],
        [0.12, 0.18, 0.52, 0.15, 0.01, 0.02],
        [0.55, 0.20, 0.08, 0.15, 0.00, 0.02],
    ]
)
# Channel of a returning session by platform: re-engagement is direct/push/sms-heavy.
RET_CHANNEL_P = np.array(
    [
        [0.14, 0.09, 0.07, 0.37, 0.25, 0.08],
        [0.15, 0.11, 0.08, 0.34, 0.24, 0.08],
        [0.10, 0.08, 0.30, 0.30, 0.12, 0.10],
        [0.36, 0.15, 0.09, 0.30, 0.00, 0.10],
    ]
)
NULL_CHANNEL_P = 0.005  # unattributed returning sessions (tracking loss)

SLOTS = (
    "home_banner_1",
    "home_banner_2",
    "home_banner_3",
    "home_grid_1",
    "home_grid_2",
    "home_grid_3",
    "home_grid_4",
    "search_top",
    "category_top",
)
N_HOME_SLOTS = 7
SEARCH_TOP, CATEGORY_TOP = 7, 8
# Visibility given the page was seen (lower home positions need scrolling / carousel turns).
SLOT_SHOW_P = np.array([1.0, 0.45, 0.25, 0.40, 0.35, 0.22, 0.18, 0.90, 0.85])
SLOT_CTR = np.array([0.060, 0.035, 0.020, 0.045, 0.040, 0.025, 0.020, 0.090, 0.050])
# Add-to-cart multiplier of a promotion clicker: banners attract curious clicks on big
# campaign items, grid deals and search_top clicks carry intent.
SLOT_CONV = np.array([0.55, 0.65, 0.75, 1.20, 1.30, 1.10, 1.00, 2.00, 1.30])

USER_TYPES = ("loyal", "regular", "casual")
USER_TYPE_P = np.array([0.10, 0.25, 0.65])
RET_R = np.array([0.80, 0.50, 0.32])
RET_BETA = np.array([0.30, 0.60, 0.90])
EXTRA_SESSIONS_LAM = np.array([0.30, 0.12, 0.06])
TYPE_INTENT = np.array([1.6, 1.1, 0.8])
CHANNEL_INTENT = np.array([1.3, 0.8, 0.7, 1.2, 1.0, 0.9, 1.0])  # last entry: null channel
PLATFORM_INTENT = np.array([1.2, 1.0, 0.9, 0.8])
# Landing page by channel (home, search results, item page); last row: null channel.
LANDING_P = np.array(
    [
        [0.30, 0.50, 0.20],
        [0.35, 0.05, 0.60],
        [0.35, 0.05, 0.60],
        [0.85, 0.10, 0.05],
        [0.80, 0.00, 0.20],
        [0.75, 0.00, 0.25],
        [0.60, 0.20, 0.20],
    ]
)
LIST_IMPRESSIONS_LAM = np.array([1.6, 3.2, 0.8])
ENGAGED_P = np.array([0.70, 0.55, 0.50, 0.72, 0.60, 0.55, 0.60])

# (name, SKU share, median list price CNY, price sigma, gross margin, traffic weight,
#  add-to-cart level, mean extra quantity, refund level). Groceries: thin margins, high
#  traffic and baskets; beauty/apparel: fat margins; electronics: expensive, thin, rare.
CATEGORIES = (
    ("womens_apparel", 0.10, 159, 0.55, 0.55, 12, 0.90, 0.10, 2.2),
    ("mens_apparel", 0.07, 169, 0.55, 0.50, 7, 0.90, 0.10, 2.0),
    ("shoes", 0.06, 259, 0.45, 0.45, 6, 0.80, 0.03, 1.8),
    ("beauty", 0.06, 139, 0.65, 0.65, 7, 1.10, 0.20, 0.6),
    ("skincare", 0.06, 199, 0.65, 0.68, 6, 1.00, 0.20, 0.6),
    ("mother_baby", 0.05, 99, 0.75, 0.35, 5, 1.20, 0.40, 0.7),
    ("snacks", 0.07, 39, 0.45, 0.30, 8, 1.60, 1.00, 0.3),
    ("beverages", 0.04, 49, 0.45, 0.25, 5, 1.50, 1.20, 0.3),
    ("fresh_food", 0.04, 69, 0.55, 0.22, 5, 1.40, 0.60, 0.9),
    ("home_textiles", 0.05, 189, 0.55, 0.50, 4, 0.80, 0.20, 1.0),
    ("kitchen", 0.05, 119, 0.65, 0.40, 4, 0.90, 0.20, 0.8),
    ("appliances", 0.04, 899, 0.75, 0.18, 4, 0.50, 0.02, 0.9),
    ("phones", 0.02, 2999, 0.45, 0.08, 3, 0.25, 0.00, 0.8),
    ("computers", 0.02, 4999, 0.45, 0.07, 2, 0.20, 0.00, 0.8),
    ("digital_accessories", 0.06, 79, 0.65, 0.45, 6, 1.20, 0.30, 0.8),
    ("sports", 0.04, 199, 0.65, 0.40, 3, 0.80, 0.10, 1.0),
    ("outdoor", 0.03, 299, 0.75, 0.42, 2, 0.70, 0.05, 1.0),
    ("toys", 0.04, 129, 0.65, 0.45, 3, 0.90, 0.20, 0.8),
    ("books", 0.05, 49, 0.40, 0.28, 2, 1.30, 0.50, 0.4),
    ("pet_supplies", 0.04, 89, 0.65, 0.38, 3, 1.30, 0.50, 0.5),
)
CAT_NAMES = tuple(c[0] for c in CATEGORIES)
CAT_SKU_SHARE = np.array([c[1] for c in CATEGORIES], dtype=np.float64)
CAT_PRICE = np.array([c[2] for c in CATEGORIES], dtype=np.float64)
CAT_SIGMA = np.array([c[3] for c in CATEGORIES])
CAT_MARGIN = np.array([c[4] for c in CATEGORIES])
CAT_TRAFFIC = np.array([c[5] for c in CATEGORIES], dtype=np.float64)
CAT_TRAFFIC /= CAT_TRAFFIC.sum()
CAT_ATC = np.array([c[6] for c in CATEGORIES])
CAT_QTY = np.array([c[7] for c in CATEGORIES])
CAT_REFUND = np.array([c[8] for c in CATEGORIES])

# fmt: off
CAT_NOUNS = {
    "womens_apparel": ["Dress", "Blouse", "Knit Cardigan", "Wool Coat", "High-waist Jeans",
                       "Pleated Skirt", "Down Jacket", "Silk Scarf"],
    "mens_apparel": ["Polo Shirt", "Oxford Shirt", "Chinos", "Hoodie", "Down Jacket",
                     "Blazer", "T-shirt", "Cargo Pants"],
    "shoes": ["Running Shoes", "Sneakers", "Leather Boots", "Loafers", "Sandals",
              "Canvas Shoes", "Hiking Boots"],
    "beauty": ["Lipstick", "Eyeshadow Palette", "Foundation", "Mascara", "Perfume",
               "Brush Set", "Blush"],
    "skincare": ["Face Serum", "Moisturizer", "Sunscreen SPF50", "Cleanser", "Sheet Masks",
                 "Eye Cream", "Toner"],
    "mother_baby": ["Diapers", "Infant Formula", "Baby Wipes", "Stroller", "Baby Bottle",
                    "Onesie Set", "Teether"],
    "snacks": ["Mixed Nuts", "Beef Jerky", "Seaweed Snacks", "Dried Mango", "Potato Chips",
               "Sunflower Seeds", "Mooncakes"],
    "beverages": ["Green Tea", "Oolong Tea", "Coffee Beans", "Sparkling Water",
                  "Milk Tea Powder", "Soy Milk", "Fruit Juice"],
    "fresh_food": ["Hairy Crab", "Avocados", "Beef Steak", "Salmon Fillet", "Kiwi Fruit",
                   "Free-range Eggs", "Shrimp"],
    "home_textiles": ["Duvet", "Pillow", "Bedsheet Set", "Bath Towel", "Blanket", "Curtains",
                      "Mattress Topper"],
    "kitchen": ["Wok", "Knife Set", "Bowl Set", "Thermos", "Cutting Board", "Nonstick Pan",
                "Storage Jars"],
    "appliances": ["Rice Cooker", "Air Fryer", "Robot Vacuum", "Air Purifier",
                   "Electric Kettle", "Hair Dryer", "Dehumidifier"],
    "phones": ["5G Smartphone", "Smartphone Pro", "Foldable Phone", "Smartphone Lite"],
    "computers": ["Laptop 14", "Laptop 16", "Tablet 11", "Mini PC", "Gaming Laptop",
                  "Monitor 27"],
    "digital_accessories": ["Power Bank", "Phone Case", "USB-C Cable", "Wireless Earbuds",
                            "65W Charger", "Watch Band", "Screen Protector"],
    "sports": ["Yoga Mat", "Dumbbells", "Jump Rope", "Basketball", "Badminton Racket",
               "Sports Leggings", "Fitness Tracker"],
    "outdoor": ["Tent", "Camping Chair", "Trekking Poles", "Backpack 40L", "Sleeping Bag",
                "Fishing Rod"],
    "toys": ["Building Blocks", "Plush Toy", "RC Car", "1000pc Puzzle", "Doll House",
             "Board Game"],
    "books": ["Novel", "Picture Book", "Exam Prep Guide", "History Book", "Cookbook",
              "Business Book"],
    "pet_supplies": ["Cat Food", "Dog Food", "Cat Litter", "Pet Bed", "Scratching Post",
                     "Pet Treats"],
}
BRAND_SYLLABLES = (
    "an", "bei", "chen", "da", "fei", "guo", "hai", "hua", "jia", "jin", "kang", "lan", "le",
    "li", "mei", "ming", "nuo", "qi", "rui", "shan", "tai", "tian", "wei", "xin", "ya", "yi",
    "yue", "zhi", "zhen", "yun",
)
SERIES = ("", " Pro", " Lite", " Max", " Classic", " Plus", " Air", " Mini")

# Weighted roughly by online shopping volume (coastal provinces dominate).
REGIONS = (
    ("Guangdong", 14.0), ("Zhejiang", 9.0), ("Jiangsu", 9.0), ("Shanghai", 6.0),
    ("Beijing", 5.5), ("Shandong", 6.0), ("Fujian", 4.5), ("Sichuan", 4.5), ("Henan", 4.5),
    ("Hubei", 3.5), ("Hunan", 3.2), ("Anhui", 3.0), ("Hebei", 3.2), ("Shaanxi", 2.2),
    ("Chongqing", 2.2), ("Liaoning", 2.2), ("Tianjin", 1.6), ("Jiangxi", 1.8),
    ("Yunnan", 1.6), ("Guangxi", 1.8), ("Shanxi", 1.4), ("Guizhou", 1.2),
    ("Heilongjiang", 1.2), ("Jilin", 0.9), ("Inner Mongolia", 0.8), ("Xinjiang", 0.7),
    ("Gansu", 0.6), ("Hainan", 0.6), ("Ningxia", 0.25), ("Qinghai", 0.2), ("Tibet", 0.1),
    ("Hong Kong", 0.3), ("Macau", 0.05), ("Taiwan", 0.1),
)
# fmt: on
REGION_NAMES = tuple(r[0] for r in REGIONS)
REGION_P = np.array([r[1] for r in REGIONS])
REGION_P /= REGION_P.sum()

# (coupon_id, threshold, value, first local date, last local date). NEWUSER is only offered
# in a user's first session; the others are claimable in the coupon centre while active.
COUPONS = (
    ("NEWUSER-10OFF59", 59, 10, date(2025, 8, 1), date(2025, 11, 28)),
    ("STORE-20OFF199", 199, 20, date(2025, 8, 1), date(2025, 11, 28)),
    ("STORE-50OFF399", 399, 50, date(2025, 8, 1), date(2025, 11, 28)),
    ("QIXI-30OFF259", 259, 30, date(2025, 8, 25), date(2025, 8, 29)),
    ("GOLDENWEEK-40OFF299", 299, 40, date(2025, 9, 28), date(2025, 10, 8)),
    ("DOUBLE11-30OFF300", 300, 30, date(2025, 10, 31), date(2025, 11, 11)),
    ("DOUBLE11-80OFF599", 599, 80, date(2025, 10, 31), date(2025, 11, 11)),
    ("DOUBLE11-150OFF999", 999, 150, date(2025, 10, 31), date(2025, 11, 11)),
)
COUPON_IDS = tuple(c[0] for c in COUPONS)
COUPON_THRESHOLD = np.array([c[1] for c in COUPONS], dtype=np.float64)
COUPON_VALUE = np.array([c[2] for c in COUPONS], dtype=np.float64)
COUPON_VALID_DAYS = 7

# Paid channels: (channel, billing model, share of the channel's clicks, CTR, unit price).
# Unit price: CPC per click, CPM per 1000 impressions, CPT per day (scaled with shop size),
# CPS commission rate on the attributed GMV.
BILLING = (
    (SEARCH, "CPC", 0.85, 0.035, 0.9),
    (SEARCH, "CPT", 0.15, 0.080, 200.0),
    (ADS, "CPC", 0.50, 0.012, 0.7),
    (ADS, "CPM", 0.50, 0.009, 12.0),
    (SOCIAL, "CPM", 0.60, 0.011, 15.0),
    (SOCIAL, "CPS", 0.40, 0.015, 0.08),
    (SMS, "CPM", 1.00, 0.020, 30.0),
)


# --------------------------------------------------------------------------------------
# Supply chain: suppliers, warehouses, carriers
# --------------------------------------------------------------------------------------
# (name, promised lead time in days, share of purchase orders that arrive late, share that
#  arrive short). Inland factories promise long lead times and miss them often; the food
#  distributor next door is quick and dependable.
SUPPLIERS = (
    ("Yiwu General Trading", 7, 0.10, 0.05),
    ("Guangzhou Apparel Works", 10, 0.35, 0.15),
    ("Shenzhen Electronics Supply", 14, 0.15, 0.04),
    ("Ningbo Home Goods", 12, 0.20, 0.10),
    ("Shanghai Food Distribution", 3, 0.05, 0.03),
    ("Dongguan Factory Direct", 21, 0.45, 0.25),
)
SUPPLIER_NAMES = tuple(s[0] for s in SUPPLIERS)
SUPPLIER_PROMISED_DAYS = np.array([s[1] for s in SUPPLIERS], dtype=np.int64)
SUPPLIER_LATE_P = np.array([s[2] for s in SUPPLIERS])
SUPPLIER_SHORT_P = np.array([s[3] for s in SUPPLIERS])
# Suppliers able to serve each category (indexes into SUPPLIERS); a SKU buys from the first
# (its main supplier) with probability MAIN_SUPPLIER_P, else from the second.
CAT_SUPPLIERS = {
    "womens_apparel": (1, 5), "mens_apparel": (1, 5), "shoes": (1, 5),
    "beauty": (0, 3), "skincare": (0, 3), "mother_baby": (0, 3),
    "snacks": (4, 0), "beverages": (4, 0), "fresh_food": (4, 0), "pet_supplies": (4, 0),
    "home_textiles": (3, 5), "kitchen": (3, 5),
    "appliances": (2, 5), "phones": (2, 5), "computers": (2, 5), "digital_accessories": (2, 5),
    "sports": (0, 5), "outdoor": (0, 5), "toys": (0, 5), "books": (0, 0),
}  # fmt: skip
MAIN_SUPPLIER_P = 0.65
# Suppliers want orders worth about this much (CNY at cost), at most MAX_MOQ units.
MIN_ORDER_VALUE = 1_500.0
MAX_MOQ = 48
WAREHOUSES = ("Shanghai DC", "Guangzhou DC")
# The best sellers (this share of SKUs by units) are stocked in both warehouses.
SPLIT_STOCK_SHARE = 0.10
# A SKU is "stock-out prone" with probability STOCKOUT_BASE_P + STOCKOUT_LATE_P × its
# supplier's late share; each quiet spell of a prone SKU is a stock-out with STOCKOUT_RUN_P.
STOCKOUT_BASE_P = 0.05
STOCKOUT_LATE_P = 0.8
STOCKOUT_RUN_P = 0.5
STOCKOUT_MIN_DAYS, STOCKOUT_MAX_DAYS, STOCKOUTS_PER_SKU = 3, 35, 2
# The purchase order ending a stock-out came late with probability this × the supplier's late
# share (capped at 1); otherwise the buyer ordered too late and the supplier was on time.
STOCKOUT_SUPPLIER_BLAME = 2.0
OVERBUY_P = 0.12  # share of SKUs bought for far more days of demand than they need

# (name, mean transit days within the near zone, base cost CNY, cost per extra unit).
CARRIERS = (
    ("SF Express", 1.3, 16.0, 2.0),
    ("JD Logistics", 1.6, 13.0, 1.5),
    ("ZTO Express", 2.5, 7.0, 1.0),
    ("YTO Express", 2.8, 6.5, 1.0),
    ("EMS", 3.4, 11.0, 1.5),
)
CARRIER_NAMES = tuple(c[0] for c in CARRIERS)
CARRIER_DAYS = np.array([c[1] for c in CARRIERS])
CARRIER_BASE = np.array([c[2] for c in CARRIERS])
CARRIER_UNIT = np.array([c[3] for c in CARRIERS])
# Carrier mix for an ordinary parcel, a valuable one (insured, fast) and a remote address.
CARRIER_P = np.array(
    [
        [0.15, 0.15, 0.35, 0.30, 0.05],
        [0.60, 0.25, 0.08, 0.05, 0.02],
        [0.10, 0.05, 0.15, 0.10, 0.60],
    ]
)
VALUABLE_ORDER = 1_000.0
# Delivery zones from the East China warehouse: 0 near, 1 mid, 2 far, 3 remote.
REGION_ZONE = np.array(
    [
        1, 0, 0, 0, 1, 1, 1, 2, 1, 1, 1, 0, 1, 2, 2, 2, 1, 1,
        2, 2, 2, 2, 2, 2, 3, 3, 3, 2, 3, 3, 3, 3, 3, 3,
    ]
)  # fmt: skip
ZONE_EXTRA_DAYS = np.array([0.0, 0.6, 1.4, 3.0])
ZONE_COST = np.array([1.0, 1.15, 1.35, 2.2])
# Warehouse handling (payment to hand-over), gamma(shape, hours) times the day's load: the
# days around Singles' Day swamp the warehouse, so the 48-hour promise slips.
HANDLING_SHAPE, HANDLING_HOURS = 2.0, 7.0
HANDLING_LOAD = {date(2025, 11, 10): 2.5, date(2025, 11, 11): 4.0, date(2025, 11, 12): 3.0,
                 date(2025, 11, 13): 1.8, date(2025, 11, 14): 1.3}  # fmt: skip
CARRIER_SURGE_DAYS = 1.0  # carriers' networks are congested for parcels paid 11-10..11-13
LOST_PARCEL_P = 0.002

# --------------------------------------------------------------------------------------
# After-sales: return requests and refunds (issue 21)
# --------------------------------------------------------------------------------------
# Orders are simulated before their parcels, so whether a paid order is ``refunded`` cannot
# depend on its delivery. Returns are therefore derived afterwards: every refunded order gets
# the request that refunded it, and the other delivered orders get requests that were not
# refunded (turned down, or still open at the end of the data) at a rate that rises with
# lateness, category and carrier. That is where the late-delivery effect lives.
RETURN_REASONS = (
    "damaged",
    "wrong_item",
    "not_as_described",
    "late_delivery",
    "changed_mind",
    "size_fit",
)
# Unrefunded requests per delivered, not refunded order: this base rate times the order's
# category refund level (CAT_REFUND, the same level that drives refunds), its worst SKU's
# quality, the carrier and the lateness band.
UNREFUNDED_REQUEST_P = 0.008
# Lateness = payment-to-door days beyond a 3-day promise (the report's default
# slow_delivery_days, so its delay bands are the bands planted here; kept apart from the
# parameter so the sample does not move when the default does). Bands: on time (under 3 days),
# 1-2 days late (3 to under 5 days), more than 2 days late (5+ days).
PROMISED_DOOR_DAYS = 3.0
LATE_BAND_DAYS = (0.0, 2.0)
LATE_REQUEST_MULT = np.array([1.0, 3.0, 10.0])
# Weight of the late_delivery reason by band (the other reasons weigh 0.06 to 0.5).
LATE_REASON_W = np.array([0.02, 0.35, 1.0])
# Cheap carriers break and lose more parcels (damage reason, and requests overall).
CARRIER_DAMAGE = np.array([0.6, 0.7, 1.4, 1.6, 1.1])
CARRIER_REQUEST_MULT = np.array([0.8, 0.85, 1.15, 1.25, 1.0])
# Categories that arrive broken more often (glass, fresh food, screens) and those bought by size.
CAT_FRAGILE = np.array(
    [{"fresh_food": 2.5, "appliances": 1.8, "beverages": 1.5, "kitchen": 1.5, "computers": 1.5,
      "phones": 1.2, "beauty": 1.1}.get(name, 0.7) for name in CAT_NAMES]
)  # fmt: skip
CAT_SIZED = np.array([name in ("womens_apparel", "mens_apparel", "shoes") for name in CAT_NAMES])
# Request comes this many days after delivery: gamma(shape, scale) by reason (faults show at
# once, second thoughts take longer), except a few that ask late, uniformly in LATE_ASK_DAYS
# (some beyond a 30-day return window).
ASK_GAMMA = {"quick": (1.0, 1.0), "slow": (1.5, 3.0)}
LATE_ASK_P, LATE_ASK_DAYS = 0.03, (25.0, 50.0)
# Hours from request to refund: lognormal with median 30 h and p90 120 h (a long tail of
# disputed refunds); after-sales is swamped in the week after Singles' Day.
REFUND_MEDIAN_HOURS = 30.0
REFUND_SIGMA = math.log(120.0 / 30.0) / 1.2815516  # p90 / p50 = exp(z_0.9 * sigma)
REFUND_SLOW_DAYS = (date(2025, 11, 11), date(2025, 11, 17))
REFUND_SLOW_MULT = 1.5
# How a request names what goes back: a whole-order row (no sku_id, no quantity), every line
# itemised, or one line (partly, when the order holds more than one unit).
SHAPE_WHOLE, SHAPE_ITEMISED, SHAPE_PARTIAL = range(3)
MULTI_UNIT_SHAPE_P = np.array([0.40, 0.15, 0.45])
SINGLE_UNIT_SHAPE_P = np.array([0.65, 0.35, 0.0])
NO_REASON_P = 0.02  # requests whose reason was not recorded

# The tables as the contract lays them out (optional columns included, in order): one home for
# the schemas and the statuses, so the sample cannot drift from what lib.data checks.
SCHEMAS: dict[str, pa.Schema] = {name: spec.arrow_schema() for name, spec in data.CONTRACT.items()}
ORDER_STATUSES = data.ORDER_STATUSES
# the codes the simulator draws, as positions in ORDER_STATUSES (whatever order it lists them in)
ST_PAID, ST_UNPAID, ST_CANCELLED, ST_REFUNDED = (
    ORDER_STATUSES.index(status) for status in ("paid", "unpaid", "cancelled", "refunded")
)


# --------------------------------------------------------------------------------------
# Known truth: a conversion driver and a checkout detour (issue 18)
# --------------------------------------------------------------------------------------
# On-site search: among the sessions with a view_item, SEARCH_SHARE have a ``search`` (right
# after the landing page_view, before any view_item), and the share of them with an
# add_to_cart is SEARCH_CART_LIFT times that of the sessions without one. Drawn after the walk,
# given its outcome (so every draw of the walk, and every other table, stays as it was).
SEARCH_SHARE = 0.15
SEARCH_CART_LIFT = 1.8
# Checkout detour: CHECKOUT_DETOUR_SHARE of the checkouts go back to the cart (``view_cart``,
# then ``begin_checkout`` again) before paying or leaving; the share of them paid is
# CHECKOUT_DETOUR_PAY_MULT times that of the others. The first begin_checkout places the order.
CHECKOUT_DETOUR_SHARE = 0.2
CHECKOUT_DETOUR_PAY_MULT = 0.7


# --------------------------------------------------------------------------------------
# Known truth: products bought together (issue 19)
# --------------------------------------------------------------------------------------
# BOUGHT_TOGETHER_PAIRS pairs (A, B) of SKUs: a placed order holding a line of A also gets a
# line of B with probability BOUGHT_TOGETHER_RATE (unless B is in it already), and the
# session an ``add_to_cart`` of B at the instant of A's (the shop's "buy both" button). A is the
# most popular SKU (catalogue rank 1) of the anchor category, B the most popular SKU of the
# companion category that is neither an anchor nor an earlier companion; every SKU is in one
# pair at most, and only the order's own lines draw a companion (no chains A -> B -> C).
BOUGHT_TOGETHER_PAIRS = 8
BOUGHT_TOGETHER_RATE = 0.35
BOUGHT_TOGETHER_CATEGORIES = (  # (anchor, companion), the first BOUGHT_TOGETHER_PAIRS are used
    ("snacks", "beverages"),  # potato chips with a drink
    ("womens_apparel", "shoes"),
    ("beauty", "skincare"),  # foundation with a cleanser
    ("fresh_food", "kitchen"),  # a steak with a pan
    ("mother_baby", "toys"),
    ("mens_apparel", "shoes"),
    ("shoes", "sports"),  # running shoes with a yoga mat or a fitness tracker
    ("skincare", "beauty"),
)


def _bought_together(cat: Catalog, n_pairs: int = BOUGHT_TOGETHER_PAIRS) -> np.ndarray:
    """``(n_pairs, 2)`` catalogue indices of the planted pairs (A, B), in
    :data:`BOUGHT_TOGETHER_CATEGORIES` order (see there)."""
    if not 0 <= n_pairs <= len(BOUGHT_TOGETHER_CATEGORIES):
        raise ValueError(f"n_pairs={n_pairs} must be 0..{len(BOUGHT_TOGETHER_CATEGORIES)}")
    weight = np.diff(np.concatenate([[0.0], cat.cum_w]))
    chosen = BOUGHT_TOGETHER_CATEGORIES[:n_pairs]

    def most_popular(category: str, taken: set[int]) -> int:
        idx = np.flatnonzero(cat.cat == CAT_NAMES.index(category))
        idx = idx[~np.isin(idx, list(taken))]
        return int(idx[np.argmax(weight[idx])])  # first of equal weights: smallest id

    anchors = [most_popular(a, set()) for a, _ in chosen]
    taken = set(anchors)
    pairs = []
    for a, (_, companion) in zip(anchors, chosen, strict=True):
        b = most_popular(companion, taken)
        taken.add(b)
        pairs.append((a, b))
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def bought_together_pairs(
    seed: int = 42, target_events: int | None = None, n_pairs: int = BOUGHT_TOGETHER_PAIRS
) -> list[tuple[str, str]]:
    """The planted ``(sku_a, sku_b)`` pairs of the data set ``generate(seed=seed,
    target_events=target_events)`` (the catalogue depends on both): an order with A gets B
    with probability :data:`BOUGHT_TOGETHER_RATE`."""
    _, n_skus = _shop_size(target_events)
    s_cat = np.random.SeedSequence(seed).spawn(4)[0]
    cat = _make_catalog(n_skus, np.random.default_rng(s_cat))
    ids = cat.sku_ids.to_pylist()
    return [(ids[a], ids[b]) for a, b in _bought_together(cat, n_pairs)]


def _marked(outcome: np.ndarray, share: float, ratio: float, u: np.ndarray) -> np.ndarray:
    """Mark ``share`` of the rows so that ``outcome`` is ``ratio`` times as common among them.

    By Bayes' rule: a row with the outcome is marked with probability ``a = r s / (1 - s + r s)``
    (``s`` the share, ``r`` the ratio), one without with ``(s - p a) / (1 - p)``, ``p`` the
    outcome's rate in these rows. Then ``P(marked) = s`` and ``P(outcome | marked) = r P(outcome
    | not marked)`` in expectation, within these rows and any union of such calls (``a`` is fixed).
    """
    a = ratio * share / (1.0 - share + ratio * share)
    p = float(outcome.mean()) if len(outcome) else 0.0
    b = (share - p * a) / (1.0 - p) if p < 1.0 else 0.0
    return u < np.where(outcome, a, min(max(b, 0.0), 1.0))


# --------------------------------------------------------------------------------------
# Known truth: campaigns, A/B tests and competitor prices (issue 20)
# --------------------------------------------------------------------------------------
# A category promotion inside the report's default range (10-15..11-14), with 10 weeks of data
# before it: on the local days PROMO_START..PROMO_END a view of a PROMO_CATEGORY SKU is added to
# the cart PROMO_CART_LIFT times as often as the model would (the uniform draw is the walk's,
# as an incident's), and the lines of that category in the orders placed in sessions of those
# days get PROMO_DISCOUNT_RATE off (in ``discount_amount``, no coupon). On the PROMO_DIP_DAYS
# days after it the same probability is PROMO_DIP_MULT times the model's: buyers who bought in
# the promotion do not buy again soon (pull-forward). Views (UV) are untouched, and so is every
# other category, so a difference-in-differences against them measures the effect. The category
# is in no pair of products bought together and is never undercut by a competitor.
PROMO_CAMPAIGN = "CMP001"
PROMO_CATEGORY = "digital_accessories"
PROMO_START, PROMO_END = date(2025, 10, 15), date(2025, 10, 24)
PROMO_CART_LIFT = 1.6
PROMO_DISCOUNT_RATE = 0.2
PROMO_DIP_DAYS = 7
PROMO_DIP_MULT = 0.7
# Two A/B tests over the default range: every user with a session in EXPERIMENT_START ..
# EXPERIMENT_END (local days) is assigned at the start of the first such session, to
# ``control`` or ``treatment`` with probability EXPERIMENT_SHARE each. The users converted
# (a paid, not cancelled order paid after the assignment and before the window's end) are
# ``ratio`` times as common in treatment as in control: drawn after the simulation, given each
# user's outcome (:func:`_marked`, within the users with and without a paid order in the
# EXPERIMENT_PRE_DAYS days before their assignment, so that the pre-period a CUPED adjustment
# uses is balanced), so no other table moves. ``homepage_recs`` has no effect (ratio 1).
EXPERIMENT_START, EXPERIMENT_END = date(2025, 10, 15), date(2025, 11, 14)
EXPERIMENTS = (("one_tap_checkout", 1.15), ("homepage_recs", 1.0))
EXPERIMENT_VARIANTS = ("control", "treatment")
EXPERIMENT_SHARE = 0.5
EXPERIMENT_PRE_DAYS = 28
# Competitors' daily prices of the COMPETITOR_TRACKED_SHARE most popular SKUs of each category,
# each SKU sold by each competitor with probability COMPETITOR_SELLS_P (by one at least): near the
# shop's list price (PAR_PRICE × list, never below PAR_FLOOR: less than 10 % under it). From
# PRICE_WAR_START on, one competitor of UNDERCUT_SHARE of the tracked SKUs (outside the promoted
# category, the pairs bought together and the UNDERCUT_SPARED_HITS most popular SKUs of each
# category, so the shop's totals barely move) sells at UNDERCUT_PRICE × list (never above
# UNDERCUT_CEILING: the list price is more than 14.9 % above the cheapest competitor), and on
# those SKU-days a view is added to the cart UNDERCUT_CART_MULT times as often as the model would.
COMPETITORS = ("JD.com", "Pinduoduo", "Douyin Mall")
COMPETITOR_TRACKED_SHARE = 0.15
COMPETITOR_SELLS_P = 0.8
PAR_PRICE, PAR_FLOOR = (0.95, 1.12), 0.93
PRICE_WAR_START = date(2025, 10, 15)
UNDERCUT_SHARE = 0.2
UNDERCUT_SPARED_HITS = 3
UNDERCUT_PRICE, UNDERCUT_CEILING = (0.72, 0.85), 0.87
UNDERCUT_CART_MULT = 0.7
PRICE_NOISE_SIGMA = 0.015  # day-to-day wobble of a competitor's price (lognormal sigma)
# The campaigns table: the planted promotion and the calendar the model already has (the golden
# week's 0.95 price level and coupon, the Double 11 coupons, warm-up ad bids and sale days;
# price cuts and sale prices are in ``unit_price``, coupons in ``discount_amount``).
# (campaign_id, name, start, end, kind, category, channel, discount_rate)
CAMPAIGNS = (
    (PROMO_CAMPAIGN, "Digital accessories week", PROMO_START, PROMO_END, "promotion",
     PROMO_CATEGORY, None, PROMO_DISCOUNT_RATE),
    ("CMP002", "Golden Week coupon", date(2025, 9, 28), date(2025, 10, 8), "coupon", None, None,
     None),
    ("CMP003", "Golden Week price cut", date(2025, 10, 1), date(2025, 10, 8), "price_cut", None,
     None, 0.05),
    ("CMP004", "Double 11 coupons", date(2025, 10, 31), date(2025, 11, 11), "coupon", None, None,
     None),
    ("CMP005", "Double 11 warm-up ads", date(2025, 11, 1), date(2025, 11, 9), "ad_burst", None,
     "ads", None),
    ("CMP006", "Double 11", date(2025, 11, 10), date(2025, 11, 11), "promotion", None, None, None),
)  # fmt: skip


# --------------------------------------------------------------------------------------
# Known truth: injected incidents and planted abusers (issue 17)
# --------------------------------------------------------------------------------------
# The probabilities an incident can scale, named by the series or funnel step they drive:
# ``sessions`` returning users' visits, ``add_to_cart`` view_item -> add_to_cart,
# ``begin_checkout`` add_to_cart -> begin_checkout, ``purchase`` begin_checkout -> purchase
# (payment success: paid orders / placed orders).
INCIDENT_STEPS = ("sessions", "add_to_cart", "begin_checkout", "purchase")


@dataclass(frozen=True)
class Incident:
    """An injected incident: on the local days ``start..end`` (inclusive) the probability of
    ``step`` (one of :data:`INCIDENT_STEPS`) is multiplied by ``size`` (0.4: it falls to 40 %)."""

    step: str
    start: date
    end: date
    size: float

    def __post_init__(self) -> None:
        if self.step not in INCIDENT_STEPS:
            raise ValueError(f"incident step {self.step!r} is not one of {INCIDENT_STEPS}")
        if not START_DATE <= self.start <= self.end < START_DATE + timedelta(days=N_DAYS):
            raise ValueError(
                f"incident days {self.start}..{self.end} must lie in order within "
                f"{START_DATE}..{START_DATE + timedelta(days=N_DAYS - 1)}"
            )
        if not 0 <= self.size <= 10:
            raise ValueError(f"incident size {self.size} must be from 0 to 10")

    @classmethod
    def parse(cls, text: str) -> Incident:
        """``step,start,end,size``, e.g. ``purchase,2025-10-20,2025-10-24,0.4`` (the CLI form)."""
        try:
            step, start, end, size = (part.strip() for part in text.split(","))
            return cls(step, date.fromisoformat(start), date.fromisoformat(end), float(size))
        except ValueError as exc:
            raise ValueError(f"--incident {text!r}: {exc} (expected step,start,end,size)") from None


# The committed sample's one incident: payment success falls to 40 % for five weekdays, inside
# the default report range (10-15..11-14) and well before the Singles' Day days (11-09..11-12).
SAMPLE_INCIDENTS = (Incident("purchase", date(2025, 10, 20), date(2025, 10, 24), 0.4),)


@dataclass(frozen=True)
class Abusers:
    """How many planted users of each kind (their ids: :func:`planted_users`)."""

    coupon: int = 2  # claims the easiest coupon every day, and uses many
    unpaid: int = 2  # most orders left unpaid or cancelled
    refund: int = 2  # pays, then has most orders refunded
    crawler: int = 2  # bot: a burst a day of ~150 page views within a minute
    session: int = 2  # bot: dozens of short sessions a day

    def roles(self) -> list[str]:
        """The role of each planted user, in id order."""
        return [role for role in PLANTED_ROLES for _ in range(getattr(self, role))]


NO_ABUSERS = Abusers(0, 0, 0, 0, 0)
SAMPLE_ABUSERS = Abusers()


@dataclass(frozen=True)
class _Role:
    """Behaviour of a planted role. ``rate``: sessions per day over the whole window (the
    abusers), or ``sessions`` a day on ``days`` consecutive days per bot (``first_day`` for the
    first bot of the kind, each next one a week later). NaN probabilities mean: as organic."""

    rate: float = 0.0  # sessions per day, evenly spread
    sessions: int = 0
    first_day: date | None = None
    days: int = 0
    buy_p: float = 0.0  # chance a session adds what it views to the cart and checks out
    claim: bool = False
    bot: bool = False  # page views only: no item events, no orders
    page_views: int = -1  # page views per session (-1: as organic)
    gap_scale: float = 1.0  # multiplies the seconds between events
    pay_p: float = float("nan")
    cancel_p: float = float("nan")
    refund_p: float = float("nan")
    platform: int = 1
    channel: int = DIRECT  # direct traffic: no paid channel's spend moves with them
    fav: int = 0  # the category they buy (index into CATEGORIES)


PLANTED_ROLES: dict[str, _Role] = {
    # shoes often reach a coupon's threshold; apparel is where refunds are common
    "coupon": _Role(rate=1.0, buy_p=1.0, claim=True, pay_p=1.0, cancel_p=0.0, refund_p=0.0,
                    fav=2),
    "unpaid": _Role(rate=0.5, buy_p=1.0, pay_p=0.3, cancel_p=0.4, refund_p=0.0, fav=1),
    "refund": _Role(rate=0.5, buy_p=1.0, pay_p=1.0, cancel_p=0.0, refund_p=0.85, fav=0),
    # The bots' days lie inside the default report range and away from Singles' Day. They are
    # few user-minutes (user-days), so the shop's p99.9 the risk flags compare with stays the
    # ordinary users' even in a small shop: one burst a day of ~150 pages in ~20 s.
    "crawler": _Role(
        sessions=1, first_day=date(2025, 10, 27), days=5, bot=True, page_views=150,
        gap_scale=0.03, platform=3,
    ),
    "session": _Role(
        sessions=40, first_day=date(2025, 10, 16), days=5, bot=True, page_views=2, platform=3
    ),
}  # fmt: skip
# Planted sessions and orders are numbered from here, apart from the ordinary ones, so adding
# them leaves every ordinary session_id and order_id as it was.
PLANTED_SESSION_BASE = 9_000_000_000
PLANTED_ORDER_BASE = 900_000_000


def _shop_size(target_events: int | None) -> tuple[int, int]:
    """Users and SKUs of a data set: the sample's, or scaled to ``target_events``."""
    if target_events is None:
        return SAMPLE_USERS, SAMPLE_SKUS
    if target_events <= 0:
        raise ValueError("target_events must be positive")
    n_users = max(20, round(target_events / EVENTS_PER_USER))
    n_skus = int(np.clip(round(SAMPLE_SKUS * math.sqrt(n_users / SAMPLE_USERS)), 200, 50_000))
    return n_users, n_skus


def planted_users(
    target_events: int | None = None, abusers: Abusers | None = None
) -> dict[str, list[str]]:
    """The user ids of the planted abusers and bots by role (``coupon``, ``unpaid``, ``refund``,
    ``crawler``, ``session``) of a data set generated with ``target_events`` and ``abusers``
    (None: that data set's default, :data:`SAMPLE_ABUSERS` for the sample, none otherwise).
    They follow the ordinary users: ``U`` + the number ``n_users + 1`` on, 8 digits."""
    n_users, _ = _shop_size(target_events)
    if abusers is None:
        abusers = SAMPLE_ABUSERS if target_events is None else NO_ABUSERS
    found: dict[str, list[str]] = {role: [] for role in PLANTED_ROLES}
    for k, role in enumerate(abusers.roles()):
        found[role].append(f"U{n_users + 1 + k:08d}")
    return found


@dataclass
class _Plan:
    """Per-session behaviour overrides of planted sessions (see :class:`_Role`)."""

    buy: np.ndarray
    claim: np.ndarray
    bot: np.ndarray
    page_views: np.ndarray
    gap_scale: np.ndarray
    pay_p: np.ndarray
    cancel_p: np.ndarray
    refund_p: np.ndarray

    def take(self, idx: np.ndarray) -> _Plan:
        return _Plan(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))


# --------------------------------------------------------------------------------------
# Calendar
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Calendar:
    dates: tuple[date, ...]
    month: np.ndarray  # month index (0 = 2025-08) per day
    traffic: np.ndarray  # overall traffic level per day
    arrivals: np.ndarray  # relative new-user arrivals per day
    atc: np.ndarray  # add-to-cart multiplier
    checkout: np.ndarray  # checkout multiplier
    wishlist: np.ndarray
    claim_p: np.ndarray  # coupon-centre claim probability per session
    price: np.ndarray  # selling price / list price
    crm: np.ndarray  # push/sms campaign intensity
    bid: np.ndarray  # ad auction price level
    hour_cum: np.ndarray  # (N_DAYS, 24) cumulative local hour-of-day distribution
    coupons: tuple[np.ndarray, ...]  # claimable coupon codes per day (without NEWUSER)


# Mon..Sun: weekend evenings are the strongest shopping time.
WEEKDAY_MULT = np.array([0.95, 0.94, 0.96, 0.98, 1.03, 1.12, 1.15])
# Local hour-of-day activity: lunch bump, evening peak 20:00-22:00.
# fmt: off
HOUR_CURVE = np.array(
    [0.40, 0.22, 0.12, 0.08, 0.07, 0.10, 0.22, 0.45, 0.70, 0.80, 0.85, 0.90,
     1.05, 1.00, 0.85, 0.85, 0.90, 0.95, 1.00, 1.15, 1.50, 1.65, 1.50, 0.95]
)
# fmt: on


def _calendar() -> Calendar:
    dates = tuple(START_DATE + timedelta(days=d) for d in range(N_DAYS))
    month = np.array([(x.year - 2025) * 12 + x.month - 8 for x in dates], dtype=np.int64)
    weekday = np.array([x.weekday() for x in dates])
    traffic = WEEKDAY_MULT[weekday].copy()
    atc = np.ones(N_DAYS)
    checkout = np.ones(N_DAYS)
    wishlist = np.ones(N_DAYS)
    claim_p = np.full(N_DAYS, 0.03)
    price = np.ones(N_DAYS)
    crm = np.ones(N_DAYS)
    bid = np.ones(N_DAYS)
    hours = np.tile(HOUR_CURVE, (N_DAYS, 1))
    for d, x in enumerate(dates):
        if x == date(2025, 8, 29):  # Qixi (Chinese Valentine's day)
            traffic[d] *= 1.15
            atc[d] *= 1.1
        if date(2025, 10, 1) <= x <= date(2025, 10, 8):  # National Day golden week: travel
            traffic[d] *= 0.90
            checkout[d] *= 1.10
            claim_p[d] = 0.08
            price[d] = 0.95
        if date(2025, 11, 1) <= x <= date(2025, 11, 9):  # pre-sale warm-up: browse, defer
            ramp = (x.day - 1) / 8
            traffic[d] *= 1.25 + 0.55 * ramp
            wishlist[d] = 2.0 + ramp
            atc[d] = 1.25
            checkout[d] = 0.75
            claim_p[d] = 0.15
            crm[d] = 1.5
            bid[d] = 1.2 + 0.2 * ramp
        if x == date(2025, 11, 10):
            traffic[d] *= 2.8
            atc[d], checkout[d], claim_p[d], price[d] = 1.4, 1.7, 0.25, 0.88
            crm[d], bid[d] = 2.5, 1.6
            hours[d, 20:] *= 1.6  # the final-payment window opens at 20:00
        if x == date(2025, 11, 11):
            traffic[d] *= 4.2
            atc[d], checkout[d], claim_p[d], price[d] = 1.6, 2.3, 0.20, 0.85
            crm[d], bid[d] = 3.0, 1.8
            hours[d, 0] *= 6.0  # midnight rush
            hours[d, 1] *= 3.0
        if x == date(2025, 11, 12):
            traffic[d] *= 1.5
            checkout[d] = 1.1
        if date(2025, 11, 13) <= x <= date(2025, 11, 20):  # post-festival hangover
            traffic[d] *= 0.92
    # A growing shop: acquisition ramps up over the window.
    arrivals = traffic * (1.0 + 0.3 * np.arange(N_DAYS) / (N_DAYS - 1))
    hour_cum = np.cumsum(hours, axis=1)
    hour_cum /= hour_cum[:, -1:]
    coupons = tuple(
        np.array([i for i, c in enumerate(COUPONS) if i > 0 and c[3] <= x <= c[4]], dtype=np.int64)
        for x in dates
    )
    return Calendar(
        dates,
        month,
        traffic,
        arrivals,
        atc,
        checkout,
        wishlist,
        claim_p,
        price,
        crm,
        bid,
        hour_cum,
        coupons,
    )


# --------------------------------------------------------------------------------------
# Small vectorised helpers
# --------------------------------------------------------------------------------------
def _fmt_ids(prefix: str, nums: np.ndarray, width: int) -> pa.Array:
    """Zero-padded string ids built in Arrow (no per-row Python objects)."""
    digits = pc.utf8_lpad(pc.cast(pa.array(nums, type=pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _take(values: pa.Array, idx: np.ndarray) -> pa.Array:
    """Arrow take with negative indices meaning null."""
    neg = idx < 0
    if neg.any():
        return values.take(pa.array(np.where(neg, 0, idx), mask=neg))
    return values.take(pa.array(idx))


def _ts(us: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(us, type=pa.timestamp("us"), mask=null)


def _us(column: pa.ChunkedArray) -> np.ndarray:
    """Microseconds of a timestamp column read back from a written table, -1 where null."""
    return pc.fill_null(column.cast(pa.int64()), -1).to_numpy()


def _codes(column: pa.ChunkedArray, values: Sequence[str] | pa.Array) -> np.ndarray:
    """Position of each value of ``column`` in ``values`` (every value is there)."""
    value_set = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
    return pc.index_in(column, value_set=value_set).to_numpy().astype(np.int64)


def _grouped_choice(u: np.ndarray, group: np.ndarray, cum: np.ndarray) -> np.ndarray:
    """Categorical draw whose distribution is row ``group`` of the cumulative table ``cum``.

    Offsetting each group's cumulative row by its index lets one searchsorted serve all
    groups without materialising an (n, k) matrix.
    """
    n_groups, k = cum.shape
    flat = (cum + np.arange(n_groups)[:, None]).ravel()
    g = group.astype(np.int64)
    pos = np.searchsorted(flat, g + u, side="right") - g * k
    return np.clip(pos, 0, k - 1)


def _cum(p: np.ndarray) -> np.ndarray:
    c = np.cumsum(p, axis=-1)
    return c / c[..., -1:]


def _segments(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For repeated rows: the parent index and the position within the parent."""
    parent = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return parent, np.arange(len(parent)) - starts[parent]


def _time_of_day(n: int, hour_cum: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Microseconds after local midnight, following the day's hourly curve (ms precision)."""
    hour = np.minimum(np.searchsorted(hour_cum, rng.random(n), side="right"), 23)
    ms = np.floor(rng.random(n) * 3_600_000).astype(np.int64)
    return hour.astype(np.int64) * US_PER_HOUR + ms * 1000


# --------------------------------------------------------------------------------------
# Catalogue and users
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Catalog:
    sku_ids: pa.Array
    cat: np.ndarray
    price: np.ndarray
    cost: np.ndarray
    quality: np.ndarray
    cum_w: np.ndarray  # cumulative popularity over the category-sorted SKUs
    cat_lo: np.ndarray  # cumulative popularity before each category
    cat_hi: np.ndarray
    cat_last: np.ndarray  # last SKU index of each category
    table: pa.Table

    def sample(self, cat: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Popularity-weighted SKU of the given category for each uniform draw ``u``."""
        target = self.cat_lo[cat] + u * (self.cat_hi[cat] - self.cat_lo[cat])
        idx = np.searchsorted(self.cum_w, target, side="right")
        return np.minimum(idx, self.cat_last[cat]).astype(np.int32)


def _price_points(p: np.ndarray) -> np.ndarray:
    """Retail-looking prices: 39.9 below 100 CNY, 159 above, 2999 above 1000."""
    low = np.floor(p) + 0.9
    mid = np.maximum(np.round(p / 10) * 10 - 1, 99)
    high = np.maximum(np.round(p / 100) * 100 - 1, 999)
    return np.where(p < 100, low, np.where(p < 1000, mid, high))


def _make_catalog(n_skus: int, rng: np.random.Generator) -> Catalog:
    n_cat = len(CATEGORIES)
    counts = np.maximum(np.round(CAT_SKU_SHARE / CAT_SKU_SHARE.sum() * n_skus), 3)
    counts = counts.astype(np.int64)
    counts[np.argmax(counts)] += n_skus - counts.sum()  # rounding leftovers: exactly n_skus
    cat = np.repeat(np.arange(n_cat), counts)
    n = len(cat)
    price = _price_points(CAT_PRICE[cat] * rng.lognormal(0.0, CAT_SIGMA[cat]))
    margin = np.clip(rng.normal(CAT_MARGIN[cat], 0.07), 0.02, 0.85)
    cost = np.round(price * (1 - margin), 2)
    # Zipf popularity on a random rank inside the category: few hits, a long tail.
    rank = np.empty(n, dtype=np.float64)
    start = 0
    for c in counts:
        rank[start : start + c] = rng.permutation(c) + 1
        start += c
    weight = rank**-1.05
    # A few percent of SKUs are clearly bad, more often among the cheap hits (knock-offs
    # sell well at first), so bad products get enough reviews and refunds to be spotted.
    bad = rng.random(n) < np.where(rank <= 5, 0.12, 0.05)
    quality = np.where(bad, rng.beta(1.5, 5.0, n), rng.beta(8.0, 1.5, n))
    cum_w = np.cumsum(weight)
    ends = np.cumsum(counts)
    cat_hi = cum_w[ends - 1]
    cat_lo = np.concatenate([[0.0], cat_hi[:-1]])

    brands_by_cat = []
    for _ in range(n_cat):
        k = int(rng.integers(6, 15))
        names = []
        while len(names) < k:
            s = rng.choice(len(BRAND_SYLLABLES), 2)
            name = (BRAND_SYLLABLES[s[0]] + BRAND_SYLLABLES[s[1]]).capitalize()
            if name not in names:
                names.append(name)
        brands_by_cat.append(names)
    brand_u = rng.random(n)
    noun_u = rng.random(n)
    series = rng.integers(0, len(SERIES), n)
    model_no = rng.integers(1, 30, n)
    # Brand shares are Zipf too: a couple of dominant brands per category.
    brand_cum = [_cum(np.arange(1, len(b) + 1) ** -1.2) for b in brands_by_cat]
    brand_col, name_col = [], []
    for i in range(n):
        c = int(cat[i])
        brands = brands_by_cat[c]
        b = brands[min(int(np.searchsorted(brand_cum[c], brand_u[i])), len(brands) - 1)]
        nouns = CAT_NOUNS[CAT_NAMES[c]]
        noun = nouns[int(noun_u[i] * len(nouns))]
        brand_col.append(b)
        name_col.append(f"{b} {noun}{SERIES[series[i]]} {chr(65 + model_no[i] % 26)}{model_no[i]}")
    sku_ids = _fmt_ids("SKU", np.arange(1, n + 1), 6)
    table = pa.table(
        {
            "sku_id": sku_ids,
            "category": _take(pa.array(CAT_NAMES), cat),
            "unit_cost": pa.array(cost),
            "list_price": pa.array(price),
            "brand": pa.array(brand_col),
            "product_name": pa.array(name_col),
        },
        schema=SCHEMAS["products"],
    )
    return Catalog(sku_ids, cat, price, cost, quality, cum_w, cat_lo, cat_hi, ends - 1, table)


@dataclass
class Users:
    day: np.ndarray  # signup local day index, ascending
    t: np.ndarray  # signup (= first session start) in UTC us
    day_start: np.ndarray  # first user index per day (N_DAYS + 1 entries)
    utype: np.ndarray
    r: np.ndarray
    beta: np.ndarray
    platform: np.ndarray
    acq: np.ndarray
    region: np.ndarray
    fav: np.ndarray
    wallet: np.ndarray  # coupon held (claimed, not yet used), -1 = none
    wallet_until: np.ndarray  # last local day the held coupon is valid
    ids: pa.Array


def _make_users(n: int, cal: Calendar, rng: np.random.Generator) -> Users:
    counts = rng.multinomial(n, cal.arrivals / cal.arrivals.sum())
    day_start = np.concatenate([[0], np.cumsum(counts)])
    day = np.repeat(np.arange(N_DAYS, dtype=np.int16), counts)
    # Day by day, and attribute by attribute into compact dtypes, so the temporaries stay
    # small next to the final arrays even with millions of users.
    t = np.empty(n, dtype=np.int64)
    for d in range(N_DAYS):
        lo, hi = day_start[d], day_start[d + 1]
        t[lo:hi] = np.sort(START_US + d * US_PER_DAY + _time_of_day(hi - lo, cal.hour_cum[d], rng))
    utype = rng.choice(len(USER_TYPES), n, p=USER_TYPE_P).astype(np.int8)
    r = np.minimum(RET_R[utype] * rng.lognormal(0.0, 0.25, n), 0.97).astype(np.float32)
    beta = (RET_BETA[utype] * rng.lognormal(0.0, 0.1, n)).astype(np.float32)
    platform = rng.choice(len(PLATFORMS), n, p=PLATFORM_P).astype(np.int8)
    acq = _grouped_choice(rng.random(n), platform, _cum(ACQ_CHANNEL_P)).astype(np.int8)
    region = rng.choice(len(REGION_NAMES), n, p=REGION_P).astype(np.int8)
    fav = rng.choice(len(CATEGORIES), n, p=CAT_TRAFFIC).astype(np.int8)
    return Users(
        day,
        t,
        day_start,
        utype,
        r,
        beta,
        platform,
        acq,
        region,
        fav,
        np.full(n, -1, dtype=np.int8),
        np.zeros(n, dtype=np.int16),
        _fmt_ids("U", np.arange(1, n + 1), 8),
    )


def _users_tables(users: Users, batch: int) -> Iterator[pa.Table]:
    for lo in range(0, len(users.t), batch):
        hi = min(lo + batch, len(users.t))
        yield pa.table(
            {
                "user_id": users.ids.slice(lo, hi - lo),
                "signup_time": _ts(users.t[lo:hi]),
                "acquisition_channel": _take(pa.array(CHANNELS), users.acq[lo:hi]),
                "region": _take(pa.array(REGION_NAMES), users.region[lo:hi]),
            },
            schema=SCHEMAS["users"],
        )


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------
# Low-cardinality text columns are dictionary-encoded; high-cardinality ids (session_id,
# order_id) would overflow the dictionary page anyway, so they go plain + zstd.
_DICT_COLS = {
    "events": ["user_id", "event_name", "sku_id", "channel", "slot", "platform", "coupon_id"],
    "orders": ["user_id", "status", "coupon_id", "channel"],
    "order_items": ["sku_id"],
    "products": ["category", "brand"],
    "users": ["acquisition_channel", "region"],
    "marketing_spend": ["channel", "billing_model"],
    "costs": ["component", "item"],
    "reviews": ["sku_id", "user_id"],
    "inventory": ["sku_id", "location"],
    "purchase_orders": ["supplier", "sku_id"],
    "shipments": ["carrier"],
    "returns": ["sku_id", "reason", "status"],
    "campaigns": ["kind", "category", "channel"],
    "experiments": ["experiment", "variant"],
    "competitor_prices": ["sku_id", "competitor"],
}


class _TableWriter:
    """ParquetWriter that buffers small chunks into row groups of about ``rows`` rows."""

    def __init__(self, path: Path, name: str, rows: int, level: int) -> None:
        self.rows = rows
        self.count = 0
        self._buf: list[pa.Table] = []
        self._buf_rows = 0
        self._w = pq.ParquetWriter(
            path,
            SCHEMAS[name],
            compression="zstd",
            compression_level=level,
            use_dictionary=_DICT_COLS[name],
            write_statistics=True,
        )

    def add(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self._buf.append(table)
        self._buf_rows += table.num_rows
        self.count += table.num_rows
        if self._buf_rows >= self.rows:
            self._flush(final=False)

    def _flush(self, final: bool) -> None:
        if not self._buf:
            return
        table = pa.concat_tables(self._buf)
        # Only whole row groups go out early; the remainder waits, so that every group but
        # the last has exactly ``rows`` rows instead of a trail of small leftovers.
        k = table.num_rows if final else table.num_rows // self.rows * self.rows
        self._w.write_table(table.slice(0, k), row_group_size=self.rows)
        rest = table.slice(k)
        self._buf, self._buf_rows = ([rest], rest.num_rows) if rest.num_rows else ([], 0)

    def close(self) -> None:
        self._flush(final=True)
        self._w.close()


# --------------------------------------------------------------------------------------
# The simulation proper
# --------------------------------------------------------------------------------------
@dataclass
class _Sessions:
    user: np.ndarray
    start: np.ndarray
    channel: np.ndarray  # -1 = not attributed
    platform: np.ndarray
    first: np.ndarray
    num: np.ndarray  # global session number (ordered by start time)

    def __len__(self) -> int:
        return len(self.user)

    def slice(self, lo: int, hi: int) -> _Sessions:
        return _Sessions(*(getattr(self, f)[lo:hi] for f in self.__dataclass_fields__))


_EV_FIELDS = ("time", "user", "session", "name", "sku", "channel", "slot", "platform", "coupon")
# The only events a bot's session has: it requests pages, nothing else.
_BOT_EVENTS = frozenset({E["session_start"], E["page_view"]})


class _Planted:
    """The planted abusers and bots: users appended after the ordinary ones, and their sessions,
    simulated day by day with random streams of their own (so the ordinary users' draws, and
    with them their events and orders, are the same as without them)."""

    def __init__(self, sim: _Simulator, seed: int, abusers: Abusers) -> None:
        rng = np.random.default_rng([seed, 3])
        self.seed = seed
        users, cal = sim.users, sim.cal
        n0 = len(users.t)
        roles = abusers.roles()
        user_l, start_l, role_l = [], [], []
        seen: dict[str, int] = {}
        for j, name in enumerate(roles):
            role = PLANTED_ROLES[name]
            nth = seen.get(name, 0)
            seen[name] = nth + 1
            # a stream per planted user: changing one role leaves the others' days alone
            own = np.random.default_rng([seed, 3, j])
            if role.first_day is None:
                # evenly spread (rate 0.5: every other day), so that any few weeks hold about
                # rate × days sessions and the rules' thresholds are met in any such period
                pace = role.rate * np.arange(N_DAYS + 1) + own.random()
                per_day = np.diff(np.floor(pace)).astype(np.int64)
            else:  # bots: a fixed burst, each next bot of the kind a week after the previous
                per_day = np.zeros(N_DAYS, dtype=np.int64)
                lo = (role.first_day - START_DATE).days + 7 * nth
                per_day[lo : lo + role.days] = role.sessions
            if per_day.sum() == 0:
                per_day[N_DAYS // 2] = 1  # every planted user has at least one session
            for d in np.flatnonzero(per_day):
                k = int(per_day[d])
                start_l.append(START_US + d * US_PER_DAY + _time_of_day(k, cal.hour_cum[d], own))
                user_l.append(np.full(k, n0 + j, dtype=np.int64))
                role_l.append(np.full(k, list(PLANTED_ROLES).index(name)))
        start = np.concatenate(start_l)
        order = np.argsort(start, kind="stable")
        self.start = start[order]
        self.user = np.concatenate(user_l)[order]
        self.day = (self.start - START_US) // US_PER_DAY
        role_idx = np.concatenate(role_l)[order]
        spec = [PLANTED_ROLES[name] for name in PLANTED_ROLES]
        n = len(self.start)

        def per_session(attr: str) -> np.ndarray:
            return np.array([getattr(r, attr) for r in spec])[role_idx]

        self.plan = _Plan(
            buy=rng.random(n) < per_session("buy_p"),
            claim=per_session("claim").astype(bool),
            bot=per_session("bot").astype(bool),
            page_views=per_session("page_views").astype(np.int64),
            gap_scale=per_session("gap_scale").astype(np.float64),
            pay_p=per_session("pay_p").astype(np.float64),
            cancel_p=per_session("cancel_p").astype(np.float64),
            refund_p=per_session("refund_p").astype(np.float64),
        )
        self.channel = per_session("channel").astype(np.int8)
        self.platform = per_session("platform").astype(np.int8)
        # signup = the first session, as for everybody else
        k = len(roles)
        first_idx = np.array([np.flatnonzero(self.user == n0 + j)[0] for j in range(k)])
        self.first = np.zeros(n, dtype=bool)
        self.first[first_idx] = True
        role_of_user = [PLANTED_ROLES[name] for name in roles]
        users.day = np.concatenate([users.day, self.day[first_idx].astype(users.day.dtype)])
        users.t = np.concatenate([users.t, self.start[first_idx]])
        users.utype = np.concatenate([users.utype, np.ones(k, dtype=users.utype.dtype)])
        users.r = np.concatenate([users.r, np.zeros(k, dtype=users.r.dtype)])
        users.beta = np.concatenate([users.beta, np.ones(k, dtype=users.beta.dtype)])
        platform = np.array([r.platform for r in role_of_user], dtype=users.platform.dtype)
        users.platform = np.concatenate([users.platform, platform])
        acq = np.array([r.channel for r in role_of_user], dtype=users.acq.dtype)
        users.acq = np.concatenate([users.acq, acq])
        region = rng.choice(len(REGION_NAMES), k, p=REGION_P).astype(users.region.dtype)
        users.region = np.concatenate([users.region, region])
        fav = np.array([r.fav for r in role_of_user], dtype=users.fav.dtype)
        users.fav = np.concatenate([users.fav, fav])
        users.wallet = np.concatenate([users.wallet, np.full(k, -1, dtype=users.wallet.dtype)])
        users.wallet_until = np.concatenate(
            [users.wallet_until, np.zeros(k, dtype=users.wallet_until.dtype)]
        )
        users.ids = pa.concat_arrays([users.ids, _fmt_ids("U", np.arange(n0 + 1, n0 + k + 1), 8)])
        self.next_session = PLANTED_SESSION_BASE
        self.next_order = PLANTED_ORDER_BASE
        self.rng_ship = np.random.default_rng([seed, 5])
        self.rng_journey = np.random.default_rng([seed, 18, 1])
        self.rng_together = np.random.default_rng([seed, 19, 1])

    def simulate_day(self, sim: _Simulator, d: int) -> int:
        """Simulate the planted sessions of day ``d``; returns the events written so far."""
        idx = np.flatnonzero(self.day == d)
        if len(idx) == 0:
            return 0
        num = self.next_session + np.arange(len(idx), dtype=np.int64)
        self.next_session += len(idx)
        s = _Sessions(
            self.user[idx], self.start[idx], self.channel[idx], self.platform[idx],
            self.first[idx], num,
        )  # fmt: skip
        # their orders are numbered and their parcels shipped from counters and a random
        # stream of their own, so the ordinary order ids and shipments do not move
        saved = sim.next_order, sim.rng_ship
        sim.next_order, sim.rng_ship = self.next_order, self.rng_ship
        try:
            ev = sim._simulate(
                d, s, np.random.default_rng([self.seed, 4, d]), self.plan.take(idx),
                self.rng_journey, self.rng_together,
            )  # fmt: skip
            self.next_order = sim.next_order
        finally:
            sim.next_order, sim.rng_ship = saved
        # nothing of day d or later starts before its midnight, so earlier events are final
        return sim._emit(ev, START_US + d * US_PER_DAY)


# --------------------------------------------------------------------------------------
# Known truth: customers whose purchasing and spend follow BG/NBD and Gamma-Gamma (issue 19)
# --------------------------------------------------------------------------------------
# A cohort of KNOWN_CLV_CUSTOMERS new users appended after the ordinary users and the planted
# abusers (ids: :func:`known_clv_users`). Each makes a first purchase on signup, on a local day
# drawn uniformly from the first KNOWN_CLV_FIRST_DAYS days (hour of the day as the shop's), and
# from then on follows BG/NBD in continuous time (Fader, Hardie and Lee 2005): while alive,
# repeat purchases come as a Poisson process of rate λ ~ Gamma(r, α) per week, and after each
# repeat purchase the customer drops out with probability p ~ Beta(a, b). Each purchase's amount
# is Gamma(p_gg, ν) with ν ~ Gamma(q, v) per customer (Gamma-Gamma: the customer's mean spend
# p_gg / ν is fixed, each purchase drawn around it). A purchase is a session (session_start,
# page_view, view_item, add_to_cart, begin_checkout, purchase) with one line, priced at the drawn
# amount, of a SKU drawn among those whose price that day is within KNOWN_CLV_PRICE_BAND of it
# (a random SKU, so no pair of SKUs meets in the cohort's baskets), paid at once, never cancelled
# or refunded, without coupon. Around them the customers also browse (KNOWN_CLV_BROWSE visits per
# purchase, item views only) and abandon checkouts (unpaid orders, so their orders are paid
# KNOWN_CLV_PAY_RATE of the time, less on an incident's ``purchase`` days, with at most
# KNOWN_CLV_MAX_UNPAID abandoned checkouts per purchase): neither is
# a purchase, so the processes stay exact, and with them the journeys' search and detour are
# planted on the cohort's sessions as on the others' (:func:`_marked`), so those effects keep
# their size. The SKUs exclude the promoted category, the pairs bought together and the
# undercut SKUs. Everything comes from random streams of their own, and sessions and orders are
# numbered from KNOWN_CLV_SESSION_BASE and KNOWN_CLV_ORDER_BASE: the ordinary users' draws and
# ids do not move (their stock, spend, costs and returns do take the cohort's sales in).
KNOWN_CLV_CUSTOMERS = 500  # about a tenth more paid orders in the sample: the shop stays itself
KNOWN_CLV_BGNBD = {"r": 0.4, "alpha": 6.0, "a": 0.7, "b": 2.8}  # alpha in weeks
KNOWN_CLV_GAMMA_GAMMA = {"p": 4.0, "q": 5.0, "v": 250.0}  # v in CNY: mean spend p v/(q-1) = 250
KNOWN_CLV_FIRST_DAYS = 28
KNOWN_CLV_BROWSE = 1.5  # browsing visits per purchase, within days after it
KNOWN_CLV_BROWSE_DAYS = 3.0  # their mean delay after the purchase (exponential)
KNOWN_CLV_PAY_RATE = 0.85  # purchases / the cohort's checkouts, as the shop's payment success
# abandoned checkouts per purchase at most (an incident's days raise them): more would make a
# cohort customer look like the planted unpaid-order abusers
KNOWN_CLV_MAX_UNPAID = 0.5
KNOWN_CLV_PRICE_BAND = 1.1  # a purchase's SKU is priced within ×/÷ 1.1 of its amount
KNOWN_CLV_SESSION_BASE = 9_500_000_000
KNOWN_CLV_ORDER_BASE = 950_000_000


def known_clv_users(
    target_events: int | None = None,
    abusers: Abusers | None = None,
    customers: int | None = None,
) -> list[str]:
    """The user ids of the known-CLV cohort of a data set generated with ``target_events``,
    ``abusers`` and ``known_clv=customers`` (None: that data set's default,
    :data:`KNOWN_CLV_CUSTOMERS` for the sample, none with ``target_events``). They follow the
    ordinary and the planted users (:func:`planted_users`): ``U`` + a number, 8 digits."""
    n_users, _ = _shop_size(target_events)
    if abusers is None:
        abusers = SAMPLE_ABUSERS if target_events is None else NO_ABUSERS
    if customers is None:
        customers = KNOWN_CLV_CUSTOMERS if target_events is None else 0
    first = n_users + len(abusers.roles()) + 1
    return [f"U{k:08d}" for k in range(first, first + customers)]


class _KnownClv:
    """The known-CLV cohort: its users (appended to ``sim.users``), and its sessions, orders,
    lines and parcels, drawn at once and written day by day (:meth:`simulate_day`)."""

    def __init__(self, sim: _Simulator, seed: int, customers: int) -> None:
        rng = np.random.default_rng([seed, 22])
        users, cal, cat = sim.users, sim.cal, sim.cat
        n0, n = len(users.t), customers
        bg, gg = KNOWN_CLV_BGNBD, KNOWN_CLV_GAMMA_GAMMA
        week = 7 * US_PER_DAY
        # the customers: first purchase, rate, dropout, spend level, platform, channel, region
        day = rng.integers(0, min(KNOWN_CLV_FIRST_DAYS, N_DAYS), n)
        tod = np.array([_time_of_day(1, cal.hour_cum[d], rng)[0] for d in day], dtype=np.int64)
        t0 = START_US + day * US_PER_DAY + tod
        rate = rng.gamma(bg["r"], 1.0 / bg["alpha"], n)  # purchases per week
        drop = rng.beta(bg["a"], bg["b"], n)
        nu = rng.gamma(gg["q"], 1.0 / gg["v"], n)
        platform = rng.choice(len(PLATFORMS), n, p=PLATFORM_P).astype(np.int8)
        acq = _grouped_choice(rng.random(n), platform, _cum(ACQ_CHANNEL_P)).astype(np.int8)
        region = rng.choice(len(REGION_NAMES), n, p=REGION_P).astype(np.int8)
        # BG/NBD: repeat purchases until the window end or the dropout after one of them
        buyer_l, time_l = [np.arange(n)], [t0]
        clock, alive = t0.astype(np.float64), np.ones(n, dtype=bool)
        while alive.any():
            k = np.flatnonzero(alive)
            clock[k] += rng.exponential(1.0, len(k)) / rate[k] * week
            alive[k[clock[k] >= END_US]] = False
            k = np.flatnonzero(alive)
            buyer_l.append(k)
            time_l.append(clock[k].astype(np.int64) // 1000 * 1000)
            alive[k[rng.random(len(k)) < drop[k]]] = False
        buyer, start = np.concatenate(buyer_l), np.concatenate(time_l)
        amount = rng.gamma(gg["p"], 1.0 / nu[buyer])
        m = len(buyer)
        # the visits around the purchases: abandoned checkouts (more on an incident's days) and
        # browsing; both only up to the window end
        p_day = (start - START_US) // US_PER_DAY
        pay_mult = sim.step_mult["purchase"][p_day]
        abandoned = 1.0 / (KNOWN_CLV_PAY_RATE * np.maximum(pay_mult, 0.05)) - 1.0
        unpaid = rng.poisson(np.minimum(abandoned, KNOWN_CLV_MAX_UNPAID))
        u_of = np.repeat(np.arange(m), unpaid)
        u_start = start[u_of] + (rng.uniform(10, 120, len(u_of)) * 60 * US_PER_S).astype(np.int64)
        b_of = np.repeat(np.arange(m), rng.poisson(KNOWN_CLV_BROWSE, m))
        b_delay = rng.exponential(KNOWN_CLV_BROWSE_DAYS, len(b_of)) * US_PER_DAY
        b_start = start[b_of] + b_delay.astype(np.int64) // 1000 * 1000
        # sessions: kind 0 purchase, 1 abandoned checkout, 2 browsing
        kind = np.repeat(np.arange(3, dtype=np.int8), [m, len(u_of), len(b_of)])
        s_start = np.concatenate([start, u_start, b_start])
        s_buyer = np.concatenate([buyer, buyer[u_of], buyer[b_of]])
        s_amount = np.concatenate([amount, rng.gamma(gg["p"], 1.0 / nu[buyer[u_of]]),
                                   np.zeros(len(b_of))])  # fmt: skip
        keep = s_start < END_US - US_PER_HOUR  # a session's events fit before the end
        order = np.argsort(s_start[keep], kind="stable")
        self.start = s_start[keep][order]
        self.kind = kind[keep][order]
        self.user = n0 + s_buyer[keep][order]
        self.amount = s_amount[keep][order]
        self.day = (self.start - START_US) // US_PER_DAY
        self.num = KNOWN_CLV_SESSION_BASE + np.arange(len(self.start), dtype=np.int64)
        self.first = np.zeros(len(self.start), dtype=bool)
        _, first_idx = np.unique(self.user, return_index=True)
        self.first[first_idx] = True  # the first purchase, the signup
        self.platform = platform[self.user - n0]
        ret = _grouped_choice(rng.random(len(self.start)), self.platform, _cum(RET_CHANNEL_P))
        self.channel = np.where(self.first, acq[self.user - n0], ret).astype(np.int8)
        # the SKUs they buy: none of the promoted category, the pairs or the undercut SKUs
        allowed = np.ones(len(cat.price), dtype=bool)
        allowed[np.flatnonzero(sim.companion >= 0)] = False
        allowed[sim.companion[sim.companion >= 0]] = False
        allowed[cat.cat == CAT_NAMES.index(PROMO_CATEGORY)] = False
        if sim.market is not None:
            allowed &= ~sim.market.undercut
        self.skus = np.flatnonzero(allowed)
        # the users, signed up at their first purchase
        users.day = np.concatenate([users.day, day.astype(users.day.dtype)])
        users.t = np.concatenate([users.t, t0])
        users.utype = np.concatenate([users.utype, np.ones(n, dtype=users.utype.dtype)])
        users.r = np.concatenate([users.r, np.zeros(n, dtype=users.r.dtype)])
        users.beta = np.concatenate([users.beta, np.ones(n, dtype=users.beta.dtype)])
        users.platform = np.concatenate([users.platform, platform])
        users.acq = np.concatenate([users.acq, acq])
        users.region = np.concatenate([users.region, region])
        users.fav = np.concatenate([users.fav, np.zeros(n, dtype=users.fav.dtype)])
        users.wallet = np.concatenate([users.wallet, np.full(n, -1, dtype=users.wallet.dtype)])
        users.wallet_until = np.concatenate(
            [users.wallet_until, np.zeros(n, dtype=users.wallet_until.dtype)]
        )
        users.ids = pa.concat_arrays([users.ids, _fmt_ids("U", np.arange(n0 + 1, n0 + n + 1), 8)])
        self.cat, self.cal, self.seed = cat, cal, seed
        self.next_order = KNOWN_CLV_ORDER_BASE
        self.rng_ship = np.random.default_rng([seed, 22, 1])

    def _lines(self, d: int, target: np.ndarray, rng: np.random.Generator) -> tuple:
        """``(order, sku, unit_price)``: one line per order, priced at ``target`` (to the fen), of
        a SKU drawn at random among those whose price that day is within
        :data:`KNOWN_CLV_PRICE_BAND` of it (the nearest-priced SKU if none). One random line, not
        a priciest-plus-filler pair: a deterministic choice would make the same SKUs meet in
        many baskets, a "bought together" pair nobody planted."""
        cat, skus = self.cat, self.skus
        price = np.round(np.maximum(cat.price[skus] * self.cal.price[d], cat.cost[skus] * 1.03), 2)
        by_price = np.argsort(price, kind="stable")
        sorted_price = price[by_price]
        low = np.searchsorted(sorted_price, target / KNOWN_CLV_PRICE_BAND, side="left")
        high = np.searchsorted(sorted_price, target * KNOWN_CLV_PRICE_BAND, side="right")
        nearest = np.clip(np.searchsorted(sorted_price, target), 1, len(sorted_price) - 1)
        nearest = np.where(
            target - sorted_price[nearest - 1] <= sorted_price[nearest] - target,
            nearest - 1,
            nearest,
        )
        drawn = low + np.floor(rng.random(len(target)) * (high - low)).astype(np.int64)
        line = np.where(high > low, drawn, nearest)
        return np.arange(len(target)), skus[by_price[line]], np.round(target, 2)

    def simulate_day(self, sim: _Simulator, d: int) -> int:
        """Write the cohort's orders, lines and parcels of the sessions starting on day ``d``,
        add their sales, views and traffic to the aggregates, and emit their events."""
        idx = np.flatnonzero(self.day == d)
        if len(idx) == 0:
            return 0
        rng = np.random.default_rng([self.seed, 22, 2, d])
        n = len(idx)
        kind, start = self.kind[idx], self.start[idx]
        buys = kind < 2
        # lines of the orders; browsing views one to three SKUs of the same price range
        o_sess = np.flatnonzero(buys)
        l_order, l_sku, l_price = self._lines(d, self.amount[idx][o_sess], rng)
        n_o = len(o_sess)
        b_sess = np.flatnonzero(~buys)
        b_count = 1 + rng.poisson(0.8, len(b_sess))
        b_of = np.repeat(b_sess, b_count)
        b_sku = self.skus[rng.integers(0, len(self.skus), len(b_of))]
        # events, in session order; gaps as the walk's (mean seconds per event)
        ev_sess = [np.arange(n), np.arange(n)]
        ev_name = [np.full(n, E["session_start"]), np.full(n, E["page_view"])]
        ev_sku = [np.full(n, -1), np.full(n, -1)]
        ev_step = [np.zeros(n), np.ones(n)]
        for step, name in ((2, "view_item"), (3, "add_to_cart")):
            ev_sess.append(o_sess[l_order])
            ev_name.append(np.full(len(l_order), E[name]))
            ev_sku.append(l_sku)
            ev_step.append(step + np.zeros(len(l_order)))
        ev_sess.append(b_of)
        ev_name.append(np.full(len(b_of), E["view_item"]))
        ev_sku.append(b_sku)
        ev_step.append(np.full(len(b_of), 2))
        paid = kind[o_sess] == 0
        for step, name, sess in ((4, "begin_checkout", o_sess), (5, "purchase", o_sess[paid])):
            ev_sess.append(sess)
            ev_name.append(np.full(len(sess), E[name]))
            ev_sku.append(np.full(len(sess), -1))
            ev_step.append(np.full(len(sess), step))
        sess, name, sku, step = (np.concatenate(x) for x in (ev_sess, ev_name, ev_sku, ev_step))
        line_no = np.arange(len(sess))  # the lines' order within a step
        by = np.lexsort((line_no, step, sess))
        sess, name, sku = sess[by], name[by].astype(np.int8), sku[by].astype(np.int32)
        gap = np.ceil(rng.exponential(1.0, len(sess)) * EVENT_GAP_S[name] * 1000) * 1000
        gap = np.maximum(gap, 3000)  # room for a search or a detour in any gap
        gap[name == E["session_start"]] = 0
        csum = np.cumsum(gap.astype(np.int64))
        first_ev = np.searchsorted(sess, np.arange(n))
        t = start[sess] + csum - (csum[first_ev] - gap[first_ev].astype(np.int64))[sess]
        co_time = np.full(n, -1, dtype=np.int64)
        co_time[sess[name == E["begin_checkout"]]] = t[name == E["begin_checkout"]]
        pay_time = np.full(n, -1, dtype=np.int64)
        pay_time[sess[name == E["purchase"]]] = t[name == E["purchase"]]
        # the journeys, planted on the cohort's sessions as on the others'
        if sim.journeys:
            carted = np.zeros(n, dtype=bool)
            carted[o_sess] = True
            is_paid = pay_time >= 0
            x_sess, x_time, x_name = sim._journeys(
                rng, ev_time_all=t, first_ev=first_ev, viewers=np.arange(n), in_cart=carted,
                checkouts=o_sess, paid=is_paid, co_time=co_time, pay_time=pay_time,
            )  # fmt: skip
            sess = np.concatenate([sess, x_sess])
            t = np.concatenate([t, x_time])
            name = np.concatenate([name, x_name])
            sku = np.concatenate([sku, np.full(len(x_sess), -1, dtype=np.int32)])
        # orders, lines, parcels
        qty = np.ones(len(l_order), dtype=np.int64)
        amount = np.round(np.bincount(l_order, weights=l_price, minlength=n_o), 2)
        status = np.where(paid, ST_PAID, ST_UNPAID)
        o_user = self.user[idx][o_sess]
        o_ch = self.channel[idx][o_sess]
        onum = self.next_order + np.arange(n_o, dtype=np.int64)
        self.next_order += n_o
        order_ids = _fmt_ids("O", onum, 9)
        u_ids = _take(sim.users.ids, o_user)
        sim.writers["orders"].add(
            pa.table(
                {
                    "order_id": order_ids,
                    "user_id": u_ids,
                    "order_time": _ts(co_time[o_sess]),
                    "paid_time": _ts(pay_time[o_sess], ~paid),
                    "status": _take(pa.array(ORDER_STATUSES), status),
                    "paid_amount": pa.array(amount),
                    "discount_amount": pa.array(np.zeros(n_o)),
                    "coupon_id": _take(pa.array(COUPON_IDS), np.full(n_o, -1)),
                    "channel": _take(pa.array(CHANNELS), o_ch),
                },
                schema=SCHEMAS["orders"],
            )
        )
        sim.writers["order_items"].add(
            pa.table(
                {
                    "order_id": order_ids.take(pa.array(l_order)),
                    "sku_id": _take(sim.cat.sku_ids, l_sku),
                    "quantity": pa.array(qty),
                    "unit_price": pa.array(l_price),
                },
                schema=SCHEMAS["order_items"],
            )
        )
        units = np.bincount(l_order, weights=qty, minlength=n_o).astype(np.int64)
        saved, sim.rng_ship = sim.rng_ship, self.rng_ship
        try:
            no_review = np.full(n_o, np.iinfo(np.int64).max)
            ships = sim._shipments(
                order_ids, status, pay_time[o_sess], o_user, amount, units, no_review
            )
            sim.writers["shipments"].add(ships)
        finally:
            sim.rng_ship = saved
        # the aggregates behind spend, costs, stock and the A/B tests
        s = _Sessions(
            self.user[idx], start, self.channel[idx], self.platform[idx], self.first[idx],
            self.num[idx],
        )  # fmt: skip
        if sim.first_in_window is not None:
            sim._note_window_sessions(s)
        np.add.at(sim.sessions_dc[d], s.channel[s.channel >= 0], 1)
        np.add.at(sim.gmv_dc[d], o_ch[paid], amount[paid])
        mth = sim.cal.month[d]
        sold = paid[l_order]
        sim.m_orders[mth] += paid.sum()
        sim.m_units[mth] += qty[sold].sum()
        sim.m_gmv[mth] += amount[paid].sum()
        sim.m_cogs[mth] += (qty * sim.cat.cost[l_sku])[sold].sum()
        pay_day = (pay_time[o_sess][l_order[sold]] - START_US) // US_PER_DAY
        np.add.at(sim.sold_ds, (pay_day, l_sku[sold]), qty[sold].astype(np.int32))
        keep = t < END_US
        viewed = keep & (name == E["view_item"])
        np.add.at(sim.views_ds, ((t[viewed] - START_US) // US_PER_DAY, sku[viewed]), 1)
        none = np.full(int(keep.sum()), -1, dtype=np.int32)
        ev = {
            "time": t[keep],
            "user": s.user[sess[keep]],
            "session": s.num[sess[keep]],
            "name": name[keep],
            "sku": sku[keep],
            "channel": s.channel[sess[keep]],
            "slot": none,
            "platform": s.platform[sess[keep]],
            "coupon": none,
        }
        # nothing of day d or later starts before its midnight, so earlier events are final
        return sim._emit(ev, START_US + d * US_PER_DAY)


def _day_index(x: date) -> int:
    return (x - START_DATE).days


_NEVER = np.iinfo(np.int64).max  # no session in the A/B tests' window


def _campaigns_table() -> pa.Table:
    rows = list(zip(*CAMPAIGNS, strict=True))
    return pa.table(
        {
            name: pa.array(values)
            for name, values in zip(SCHEMAS["campaigns"].names, rows, strict=True)
        },
        schema=SCHEMAS["campaigns"],
    )


class _Market:
    """The planted marketing effects (issue 20): which SKUs competitors track and undercut, the
    promotion's days, and the add-to-cart multiplier they put on each SKU and day."""

    def __init__(self, cat: Catalog, pairs: np.ndarray, rng: np.random.Generator) -> None:
        n_sku = len(cat.price)
        self.cat = cat
        self.promo_cat = CAT_NAMES.index(PROMO_CATEGORY)
        self.promo_days = range(_day_index(PROMO_START), _day_index(PROMO_END) + 1)
        dip_end = min(_day_index(PROMO_END) + PROMO_DIP_DAYS, N_DAYS - 1)
        self.dip_days = range(_day_index(PROMO_END) + 1, dip_end + 1)
        self.war_start = _day_index(PRICE_WAR_START)
        # Tracked: the most popular share of each category (at least one SKU).
        weight = np.diff(np.concatenate([[0.0], cat.cum_w]))
        tracked, hits = [], []
        for c in range(len(CATEGORIES)):
            idx = np.flatnonzero(cat.cat == c)
            k = max(1, math.ceil(COMPETITOR_TRACKED_SHARE * len(idx)))
            ranked = idx[np.argsort(-weight[idx], kind="stable")]
            tracked.append(ranked[:k])
            hits.append(ranked[:UNDERCUT_SPARED_HITS])
        self.tracked = np.sort(np.concatenate(tracked))
        n_t = len(self.tracked)
        sells = rng.random((n_t, len(COMPETITORS))) < COMPETITOR_SELLS_P
        nobody = ~sells.any(axis=1)
        sells[nobody, rng.integers(0, len(COMPETITORS), int(nobody.sum()))] = True
        self.sells = sells
        # Undercut: a share of the tracked SKUs outside the promoted category and the pairs.
        eligible = (cat.cat[self.tracked] != self.promo_cat) & ~np.isin(self.tracked, pairs)
        eligible &= ~np.isin(self.tracked, np.concatenate(hits))
        chosen = eligible & (rng.random(n_t) < UNDERCUT_SHARE / max(eligible.mean(), 1e-9))
        self.undercut_row = chosen
        self.undercut = np.zeros(n_sku, dtype=bool)
        self.undercut[self.tracked[chosen]] = True
        # the competitor that undercuts: one of those selling the SKU
        pick = rng.random(n_t)
        count = sells.sum(axis=1)
        nth = np.floor(pick * count).astype(np.int64)
        self.cutter = np.array([np.flatnonzero(row)[k] for row, k in zip(sells, nth, strict=True)])
        self.par_level = rng.uniform(*PAR_PRICE, (n_t, len(COMPETITORS)))
        self.cut_level = rng.uniform(*UNDERCUT_PRICE, n_t)
        self._mult: dict[int, np.ndarray | None] = {}

    def atc_mult(self, d: int) -> np.ndarray | None:
        """The add-to-cart multiplier of each SKU on day ``d`` (None: all 1)."""
        if d not in self._mult:
            mult = np.ones(len(self.cat.price))
            in_promo = self.cat.cat == self.promo_cat
            if d in self.promo_days:
                mult[in_promo] *= PROMO_CART_LIFT
            elif d in self.dip_days:
                mult[in_promo] *= PROMO_DIP_MULT
            if d >= self.war_start:
                mult[self.undercut] *= UNDERCUT_CART_MULT
            self._mult[d] = None if (mult == 1.0).all() else mult
        return self._mult[d]

    def prices(self, rng: np.random.Generator) -> pa.Table:
        """``competitor_prices``: every day of the window, each tracked SKU and competitor
        selling it, sorted by date, SKU and competitor."""
        row, comp = np.nonzero(self.sells)
        n = len(row)
        days = np.repeat(np.arange(N_DAYS), n)
        row, comp = np.tile(row, N_DAYS), np.tile(comp, N_DAYS)
        list_price = self.cat.price[self.tracked[row]]
        noise = rng.lognormal(0.0, PRICE_NOISE_SIGMA, len(row))
        par = np.maximum(self.par_level[row, comp] * noise, PAR_FLOOR)
        cut = np.minimum(self.cut_level[row] * noise, UNDERCUT_CEILING)
        cutting = self.undercut_row[row] & (comp == self.cutter[row]) & (days >= self.war_start)
        price = np.round(list_price * np.where(cutting, cut, par), 2)
        epoch = (START_DATE - date(1970, 1, 1)).days
        return pa.table(
            {
                "date": pa.array((epoch + days).astype(np.int32), type=pa.date32()),
                "sku_id": _take(self.cat.sku_ids, self.tracked[row]),
                "competitor": _take(pa.array(COMPETITORS), comp),
                "price": pa.array(price),
            },
            schema=SCHEMAS["competitor_prices"],
        )


class _Simulator:
    def __init__(
        self,
        out: Path,
        seed: int,
        n_users: int,
        n_skus: int,
        rows: int,
        level: int,
        incidents: Sequence[Incident] = (),
        abusers: Abusers = NO_ABUSERS,
        journeys: bool = True,
        bought_together: bool = True,
        marketing: bool = False,
        known_clv: int = 0,
    ) -> None:
        self.seed = seed
        root = np.random.SeedSequence(seed)
        s_cat, s_users, s_days, s_misc = root.spawn(4)
        self.day_seeds = s_days.spawn(N_DAYS)
        self.rng_misc = np.random.default_rng(s_misc)
        # The supply-chain tables draw from streams of their own, so adding them left every
        # other table exactly as it was.
        self.rng_ship = np.random.default_rng([seed, 1])
        self.rng_supply = np.random.default_rng([seed, 2])
        # So do the returns (issue 21), derived from the written orders at the very end.
        self.rng_returns = np.random.default_rng([seed, 6])
        # And the journeys' search and checkout detour (issue 18), drawn after each walk and
        # only added as events: no other draw, and no other table, moves.
        self.journeys = journeys
        self.rng_journey = np.random.default_rng([seed, 18])
        # And the products bought together (issue 19): their extra lines, and everything drawn
        # for those lines (quantity, markdown, reviews), come from a stream of their own.
        self.rng_together = np.random.default_rng([seed, 19])
        # Order numbers the model would refund after the window end (status still ``paid``):
        # their buyers have asked already, so they are the requests still open at the end.
        self.refund_after_end: list[np.ndarray] = []
        self.cal = _calendar()
        self.cat = _make_catalog(n_skus, np.random.default_rng(s_cat))
        self.users = _make_users(n_users, self.cal, np.random.default_rng(s_users))
        pairs = _bought_together(self.cat) if bought_together else np.zeros((0, 2), np.int64)
        self.companion = np.full(n_skus + 1, -1, dtype=np.int64)  # B of each A, else -1
        self.companion[pairs[:, 0]] = pairs[:, 1]
        # Campaigns, A/B tests and competitor prices (issue 20): the SKUs competitors track and
        # undercut come from a stream of their own; the walk only reads the multipliers.
        self.marketing = marketing
        self.first_in_window: np.ndarray | None = None
        self.market: _Market | None = None
        if marketing:
            self.market = _Market(self.cat, pairs, np.random.default_rng([seed, 21]))
        self.scale = n_users / SAMPLE_USERS
        self.out = out
        self.rows, self.level = rows, level
        self.writers = {
            name: _TableWriter(out / f"{name}.parquet", name, rows, level)
            for name in ("events", "orders", "order_items", "reviews", "shipments")
        }
        self.next_session = 0
        self.next_order = 0
        self.carry: dict[str, np.ndarray] | None = None
        self.log1p = np.log1p(np.arange(N_DAYS + 1, dtype=np.float32))
        # Aggregates feeding marketing_spend and costs.
        self.sessions_dc = np.zeros((N_DAYS, len(CHANNELS)), dtype=np.int64)
        self.gmv_dc = np.zeros((N_DAYS, len(CHANNELS)))
        n_months = int(self.cal.month.max()) + 1
        self.m_orders = np.zeros(n_months)
        self.m_units = np.zeros(n_months)
        self.m_gmv = np.zeros(n_months)
        self.m_cogs = np.zeros(n_months)
        self.m_refund_cogs = np.zeros(n_months)
        # Aggregates feeding inventory and purchase orders: units of paid (not cancelled)
        # order lines by local payment day, and view_item events by local day, per SKU.
        self.sold_ds = np.zeros((N_DAYS, n_skus), dtype=np.int32)
        self.views_ds = np.zeros((N_DAYS, n_skus), dtype=np.int32)
        dates = self.cal.dates
        self.handling_load = np.array(
            [HANDLING_LOAD.get(x, 1.0) * (1.15 if x.weekday() >= 5 else 1.0) for x in dates]
        )
        self.carrier_surge = np.array(
            [CARRIER_SURGE_DAYS if date(2025, 11, 10) <= x <= date(2025, 11, 13) else 0.0
             for x in dates]
        )  # fmt: skip
        # Incidents: a multiplier per step and local day (1.0 = untouched; the walk only
        # multiplies where it differs, so a data set without incidents is computed as before).
        self.step_mult = {step: np.ones(N_DAYS) for step in INCIDENT_STEPS}
        for incident in incidents:
            lo = (incident.start - START_DATE).days
            hi = (incident.end - START_DATE).days
            self.step_mult[incident.step][lo : hi + 1] *= incident.size
        self.planted: _Planted | None = None
        if abusers.roles():
            self.planted = _Planted(self, seed, abusers)
        # the known-CLV cohort (issue 19), appended after them
        self.known_clv = _KnownClv(self, seed, known_clv) if known_clv > 0 else None

    # ---- sessions of one day ------------------------------------------------------------
    def _day_sessions(self, d: int, rng: np.random.Generator) -> _Sessions:
        u, cal = self.users, self.cal
        lo, hi = int(u.day_start[d]), int(u.day_start[d + 1])
        day0 = START_US + d * US_PER_DAY
        # Returning users: power-law decaying activity, lifted by the day's traffic level.
        # float32 keeps the per-day pass over all past users light at 100M events.
        p = np.exp(-u.beta[:lo] * self.log1p[d - u.day[:lo]])
        p *= u.r[:lo] * np.float32(cal.traffic[d] ** 0.8)
        if self.step_mult["sessions"][d] != 1.0:
            p *= np.float32(self.step_mult["sessions"][d])
        act = np.flatnonzero(rng.random(lo, dtype=np.float32) < np.minimum(p, 0.95))
        lam = EXTRA_SESSIONS_LAM[u.utype[act]] * cal.traffic[d] ** 0.5
        ret_user = np.repeat(act, 1 + rng.poisson(lam))
        ret_start = day0 + _time_of_day(len(ret_user), cal.hour_cum[d], rng)
        # New users: the first session is the signup; some come back later the same day.
        new = np.arange(lo, hi)
        extra_user = np.repeat(new, rng.poisson(0.15, hi - lo))
        t0 = u.t[extra_user]
        gap = np.floor(rng.random(len(extra_user)) * (day0 + US_PER_DAY - t0) / 1000) * 1000
        user = np.concatenate([new, extra_user, ret_user])
        start = np.concatenate([u.t[new], t0 + gap.astype(np.int64), ret_start])
        first = np.zeros(len(user), dtype=bool)
        first[: hi - lo] = True
        n_rest = len(user) - (hi - lo)
        rest = user[hi - lo :]
        # Returning sessions: some come back through the acquiring channel, most via
        # direct/push/sms, push/sms more during CRM campaigns.
        ret_p = RET_CHANNEL_P.copy()
        ret_p[:, [PUSH, SMS]] *= cal.crm[d]
        plat_rest = np.where(
            rng.random(n_rest) < 0.92,
            u.platform[rest],
            rng.choice(len(PLATFORMS), n_rest, p=PLATFORM_P),
        )
        ch_rest = _grouped_choice(rng.random(n_rest), plat_rest, _cum(ret_p))
        ch_rest = np.where(rng.random(n_rest) < 0.25, u.acq[rest], ch_rest)
        ch_rest = np.where(rng.random(n_rest) < NULL_CHANNEL_P, -1, ch_rest)
        channel = np.concatenate([u.acq[new], ch_rest]).astype(np.int8)
        platform = np.concatenate([u.platform[new], plat_rest]).astype(np.int8)
        order = np.argsort(start, kind="stable")
        n = len(order)
        num = self.next_session + np.arange(n, dtype=np.int64)
        self.next_session += n
        return _Sessions(
            user[order].astype(np.int64),
            start[order],
            channel[order],
            platform[order],
            first[order],
            num,
        )

    # ---- one slice of sessions -> events, orders, items, reviews ------------------------
    def _simulate(
        self,
        d: int,
        s: _Sessions,
        rng: np.random.Generator,
        plan: _Plan | None = None,
        rng_journey: np.random.Generator | None = None,
        rng_together: np.random.Generator | None = None,
    ) -> dict[str, np.ndarray]:
        """Events of a slice of sessions (orders, items, reviews and shipments are written).

        ``plan`` overrides the behaviour of planted sessions; every random draw is made as
        without it, so the overrides only replace outcomes. ``rng_journey`` (default the
        simulator's) draws the journeys' extra events, :meth:`_journeys`; ``rng_together``
        (likewise) the lines of products bought together, :meth:`_together_lines`.
        """
        cal, cat, users = self.cal, self.cat, self.users
        n = len(s)
        if self.first_in_window is not None:
            self._note_window_sessions(s)
        ch7 = np.where(s.channel < 0, 6, s.channel)
        utype = users.utype[s.user]
        intent = (
            CHANNEL_INTENT[ch7]
            * PLATFORM_INTENT[s.platform]
            * TYPE_INTENT[utype]
            * np.where(s.first, 0.8, 1.0)
            * rng.lognormal(-0.18, 0.6, n)
        )
        landing = _grouped_choice(rng.random(n), ch7, _cum(LANDING_P))
        if plan is not None:
            landing = np.where(plan.buy, 2, landing)  # buyers land on an item page
        engaged = rng.random(n) < ENGAGED_P[ch7]
        interest = np.where(
            rng.random(n) < 0.55,
            users.fav[s.user],
            rng.choice(len(CATEGORIES), n, p=CAT_TRAFFIC),
        )
        if plan is not None:
            interest = np.where(plan.buy, users.fav[s.user], interest)  # they come to buy it
        sess_idx = np.arange(n, dtype=np.int64)
        parts: list[tuple[np.ndarray, ...]] = []

        def add(
            sess: np.ndarray,
            block: int,
            seq: np.ndarray | int,
            sub: int,
            name: int,
            sku: np.ndarray | None = None,
            slot: np.ndarray | None = None,
            coupon: np.ndarray | None = None,
        ) -> None:
            if plan is not None and name not in _BOT_EVENTS:
                human = ~plan.bot[sess]
                sess = sess[human]
                seq = seq if np.isscalar(seq) else np.asarray(seq)[human]
                sku = None if sku is None else sku[human]
                slot = None if slot is None else slot[human]
                coupon = None if coupon is None else coupon[human]
            m = len(sess)
            key = (sess << 32) | (block << 24) | (np.asarray(seq, dtype=np.int64) << 8) | sub
            neg = np.full(m, -1, dtype=np.int32)
            parts.append(
                (
                    sess,
                    np.broadcast_to(key, (m,)),
                    np.full(m, name, dtype=np.int8),
                    neg if sku is None else sku.astype(np.int32),
                    neg if slot is None else slot.astype(np.int32),
                    neg if coupon is None else coupon.astype(np.int32),
                )
            )

        add(sess_idx, 0, 0, 0, E["session_start"])
        add(sess_idx, 1, 0, 0, E["page_view"])
        n_pv = rng.geometric(0.7, n) - 1 + engaged
        if plan is not None:
            n_pv = np.where(plan.page_views >= 0, plan.page_views, n_pv)
        pv_sess, pv_seq = _segments(n_pv)
        add(pv_sess, 4, pv_seq, 0, E["page_view"])

        # Promotion slots: home slots need a home visit, search_top a search, category_top a
        # category page. Home slots feature the day's campaign SKUs, the others the session's
        # interest category.
        home = (landing == 0) | (engaged & (rng.random(n) < 0.35))
        searched = (landing == 1) | (engaged & (rng.random(n) < 0.30))
        cat_page = engaged & (rng.random(n) < 0.30)
        seen = np.column_stack([home] * N_HOME_SLOTS + [searched, cat_page])
        shown = seen & (rng.random((n, len(SLOTS))) < SLOT_SHOW_P)
        click_level = np.clip(intent, 0.3, 3.0) ** 0.5 * np.where(engaged, 1.0, 0.3)
        clicked = shown & (rng.random((n, len(SLOTS))) < SLOT_CTR * click_level[:, None])
        promo_sku = np.empty((n, len(SLOTS)), dtype=np.int32)
        promo_sku[:, :N_HOME_SLOTS] = self.featured[d]
        promo_sku[:, SEARCH_TOP] = cat.sample(interest, rng.random(n))
        promo_sku[:, CATEGORY_TOP] = cat.sample(interest, rng.random(n))
        ps, pslot = np.nonzero(shown)
        add(ps, 2, pslot, 0, E["view_promotion"], promo_sku[ps, pslot], pslot)
        cs, cslot = np.nonzero(clicked)
        add(cs, 3, cslot, 0, E["select_promotion"], promo_sku[cs, cslot], cslot)

        # Item views: promotion clicks, the landing item, clicked list impressions, related.
        view_sess = [cs]
        view_block = [np.full(len(cs), 3)]
        view_seq = [cslot]
        view_sku = [promo_sku[cs, cslot]]
        view_mult = [SLOT_CONV[cslot]]
        li = np.flatnonzero(landing == 2)
        view_sess.append(li)
        view_block.append(np.full(len(li), 1))
        view_seq.append(np.ones(len(li), dtype=np.int64))
        view_sku.append(cat.sample(interest[li], rng.random(len(li))))
        view_mult.append(np.full(len(li), 0.9))

        n_imp = rng.poisson(LIST_IMPRESSIONS_LAM[landing]) * engaged
        is_, iseq = _segments(n_imp)
        icat = np.where(
            rng.random(len(is_)) < 0.8,
            interest[is_],
            rng.choice(len(CATEGORIES), len(is_), p=CAT_TRAFFIC),
        )
        isku = cat.sample(icat, rng.random(len(is_)))
        add(is_, 5, iseq, 0, E["view_item_list"], isku)
        sel = rng.random(len(is_)) < 0.12 * np.clip(intent[is_], 0.3, 3.0) ** 0.4
        add(is_[sel], 6, iseq[sel], 0, E["select_item"], isku[sel])
        view_sess.append(is_[sel])
        view_block.append(np.full(int(sel.sum()), 6))
        view_seq.append(iseq[sel])
        view_sku.append(isku[sel])
        view_mult.append(np.ones(int(sel.sum())))

        has_view = np.zeros(n, dtype=bool)
        for vs in view_sess:
            has_view[vs] = True
        rs, rseq = _segments(rng.poisson(0.35, n) * has_view)
        view_sess.append(rs)
        view_block.append(np.full(len(rs), 7))
        view_seq.append(rseq)
        view_sku.append(cat.sample(interest[rs], rng.random(len(rs))))
        view_mult.append(np.ones(len(rs)))

        vs = np.concatenate(view_sess)
        vb = np.concatenate(view_block)
        vq = np.concatenate(view_seq).astype(np.int64)
        vk = np.concatenate(view_sku).astype(np.int64)
        vm = np.concatenate(view_mult)
        for b in (1, 3, 6, 7):
            m = vb == b
            add(vs[m], b, vq[m], 1, E["view_item"], vk[m])
        wish = rng.random(len(vs)) < 0.03 * cal.wishlist[d] * cat.quality[vk]
        for b in (1, 3, 6, 7):
            m = wish & (vb == b)
            add(vs[m], b, vq[m], 2, E["add_to_wishlist"], vk[m])
        vcat = cat.cat[vk]
        # Cheaper-than-usual items of a category convert better; bad items lose buyers once
        # their reviews pile up.
        p_atc = (
            0.085
            * CAT_ATC[vcat]
            * np.clip(intent[vs], 0.2, 4.0)
            * (0.75 + 0.25 * cat.quality[vk])
            * (cat.price[vk] / CAT_PRICE[vcat]) ** -0.3
            * vm
            * cal.atc[d]
        )
        # The promotion, its dip and the undercut SKUs (issue 20) reuse the walk's draw, as an
        # incident does: only these views' outcomes move.
        sku_mult = self.market.atc_mult(d) if self.market is not None else None
        if sku_mult is not None:
            p_atc = p_atc * sku_mult[vk]
        mult = {step: self.step_mult[step][d] for step in INCIDENT_STEPS}
        if mult["add_to_cart"] != 1.0:
            p_atc = p_atc * mult["add_to_cart"]
        u_atc = rng.random(len(vs))
        atc = u_atc < np.minimum(p_atc, 0.9)
        if plan is not None:
            # a planted buyer takes every item of its category it looks at (an incident stops
            # them as much as anybody: it scales their certainty like the others' chance)
            favourite = vcat == users.fav[s.user[vs]]
            atc |= plan.buy[vs] & favourite & (u_atc < mult["add_to_cart"])
        for b in (1, 3, 6, 7):
            m = atc & (vb == b)
            add(vs[m], b, vq[m], 3, E["add_to_cart"], vk[m])

        # Coupons: NEWUSER in a first session, otherwise the coupon centre of the day.
        claimed = np.full(n, -1, dtype=np.int64)
        newc = s.first & (rng.random(n) < 0.35)
        claimed[newc] = 0
        day_coupons = cal.coupons[d]
        cc = ~s.first & (rng.random(n) < cal.claim_p[d] * np.where(engaged, 1.0, 0.3))
        if plan is not None:
            cc |= plan.claim & ~newc
        claimed[cc] = day_coupons[rng.integers(0, len(day_coupons), int(cc.sum()))]
        if plan is not None:  # abusers farm the coupon that is easiest to redeem
            easiest = day_coupons[np.argmin(COUPON_THRESHOLD[day_coupons])]
            claimed[cc & plan.claim] = easiest
        cl = np.flatnonzero(claimed >= 0)
        add(cl, 2, 50, 0, E["claim_coupon"], coupon=claimed[cl])

        # Checkout of the whole cart, then payment (or not).
        atc_s = vs[atc]
        in_cart = np.bincount(atc_s, minlength=n) > 0
        p_co = 0.45 * cal.checkout[d] * np.clip(intent, 0.5, 2.0) ** 0.3
        if mult["begin_checkout"] != 1.0:
            p_co = p_co * mult["begin_checkout"]
        u_co = rng.random(n)
        co = in_cart & (u_co < np.minimum(p_co, 0.95))
        pay_p = np.where(s.platform == 3, 0.80, 0.86)
        if plan is not None:
            co = (co | (plan.buy & in_cart & (u_co < mult["begin_checkout"]))) & ~plan.bot
            pay_p = np.where(np.isnan(plan.pay_p), pay_p, plan.pay_p)
        if mult["purchase"] != 1.0:
            pay_p = pay_p * mult["purchase"]
        paid = co & (rng.random(n) < pay_p)
        co_s = np.flatnonzero(co)
        add(co_s, 9, 0, 0, E["begin_checkout"])
        pay_s = np.flatnonzero(paid)
        add(pay_s, 10, 0, 0, E["purchase"])

        # ---- assemble, order within sessions, clock ----
        ev_sess, ev_key, ev_name, ev_sku, ev_slot, ev_coupon = (
            np.concatenate([p[i] for p in parts]) for i in range(6)
        )
        order = np.argsort(ev_key, kind="stable")
        ev_sess, ev_name = ev_sess[order], ev_name[order]
        ev_sku, ev_slot, ev_coupon = ev_sku[order], ev_slot[order], ev_coupon[order]
        seconds = rng.exponential(1.0, len(order)) * EVENT_GAP_S[ev_name]
        if plan is not None:
            seconds = seconds * plan.gap_scale[ev_sess]
        gap = np.ceil(seconds * 1000) * 1000
        gap[ev_name == E["session_start"]] = 0
        csum = np.cumsum(gap.astype(np.int64))
        first_ev = np.searchsorted(ev_sess, sess_idx)
        base = csum[first_ev] - gap[first_ev].astype(np.int64)
        ev_time = s.start[ev_sess] + csum - base[ev_sess]

        # ---- orders (one per checkout session) ----
        co_time = np.full(n, -1, dtype=np.int64)
        co_time[ev_sess[ev_name == E["begin_checkout"]]] = ev_time[ev_name == E["begin_checkout"]]
        pay_time = np.full(n, -1, dtype=np.int64)
        pay_time[ev_sess[ev_name == E["purchase"]]] = ev_time[ev_name == E["purchase"]]
        # The data ends at the window end: later checkouts do not exist yet, later payments
        # leave the order unpaid.
        co_s = co_s[co_time[co_s] < END_US]
        o_paid = (pay_time[co_s] >= 0) & (pay_time[co_s] < END_US)
        n_o = len(co_s)
        o_of_sess = np.full(n, -1, dtype=np.int64)
        o_of_sess[co_s] = np.arange(n_o)
        # Cart lines -> order lines; the same SKU added twice becomes one line.
        in_order = o_of_sess[atc_s] >= 0
        l_order = o_of_sess[atc_s][in_order]
        l_sku = vk[atc][in_order]
        qty = 1 + rng.poisson(CAT_QTY[cat.cat[l_sku]])
        line_key = l_order * (len(cat.price) + 1) + l_sku
        uk, inv = np.unique(line_key, return_inverse=True)
        l_order = uk // (len(cat.price) + 1)
        l_sku = uk % (len(cat.price) + 1)
        qty = np.bincount(inv, weights=qty).astype(np.int64)
        markdown = rng.choice([1.0, 0.95, 0.9, 0.8], len(uk), p=[0.7, 0.15, 0.1, 0.05])
        # Promotions never push a line below cost (thin-margin electronics barely move).
        unit_price = np.round(
            np.maximum(cat.price[l_sku] * cal.price[d] * markdown, cat.cost[l_sku] * 1.03), 2
        )
        # Products bought together (issue 19): companion lines from a stream of their own, then
        # all lines by order and SKU (as without them: the walk's lines keep their order).
        rng_together = rng_together or self.rng_together
        x_order, x_anchor, x_sku, x_qty, x_price = self._together_lines(
            d, l_order, l_sku, rng_together
        )
        extra = np.zeros(len(l_order) + len(x_order), dtype=bool)
        if len(x_order):
            l_order = np.concatenate([l_order, x_order])
            l_sku = np.concatenate([l_sku, x_sku])
            qty = np.concatenate([qty, x_qty])
            unit_price = np.concatenate([unit_price, x_price])
            extra[-len(x_order) :] = True
            by_line = np.lexsort((l_sku, l_order))
            l_order, l_sku, qty = l_order[by_line], l_sku[by_line], qty[by_line]
            unit_price, extra = unit_price[by_line], extra[by_line]
        subtotal = np.bincount(l_order, weights=qty * unit_price, minlength=n_o)

        o_user = s.user[co_s]
        held = users.wallet[o_user].astype(np.int64)
        held = np.where(users.wallet_until[o_user] >= d, held, -1)
        cand = np.where(claimed[co_s] >= 0, claimed[co_s], held)
        use = (
            (cand >= 0)
            & (subtotal >= COUPON_THRESHOLD[np.maximum(cand, 0)])
            & (rng.random(n_o) < 0.9)
        )
        o_coupon = np.where(use, cand, -1)
        discount = np.where(use, COUPON_VALUE[np.maximum(cand, 0)], 0.0)
        if self.market is not None and d in self.market.promo_days:
            # the promotion's price: its rate off the category's lines (no coupon names it)
            promo = cat.cat[l_sku] == self.market.promo_cat
            promo_value = np.bincount(l_order, weights=qty * unit_price * promo, minlength=n_o)
            discount = discount + np.round(PROMO_DISCOUNT_RATE * promo_value, 2)
        paid_amount = np.round(subtotal - discount, 2)
        # Wallet: redeemed coupons are gone, unredeemed claims are kept for a week.
        keep = claimed >= 0
        keep[co_s[use]] = False
        users.wallet[s.user[keep]] = claimed[keep]
        users.wallet_until[s.user[keep]] = d + COUPON_VALID_DAYS
        users.wallet[o_user[use & (claimed[co_s] < 0)]] = -1

        # After payment: cancellations within hours, refunds days later (bad SKUs and
        # apparel/shoes more); neither is visible if it would happen after the window end.
        # The chances come from the lines the shopper picked (a companion line shares its
        # order's fate): so the walk's outcomes, and the draws that follow them, do not move.
        walk_order, walk_sku = l_order[~extra], l_sku[~extra]
        min_q = np.ones(n_o)
        np.minimum.at(min_q, walk_order, cat.quality[walk_sku])
        max_refund = np.zeros(n_o)
        np.maximum.at(max_refund, walk_order, CAT_REFUND[cat.cat[walk_sku]])
        p_ref = 0.045 * max_refund * (1 + 3.0 * (1 - min_q))
        rr = rng.random(n_o)
        ref_at = pay_time[co_s] + (2 + rng.gamma(2.0, 3.0, n_o)) * US_PER_DAY
        can_at = pay_time[co_s] + rng.exponential(6.0, n_o) * US_PER_HOUR
        status = np.full(n_o, ST_UNPAID, dtype=np.int64)
        status[o_paid] = ST_PAID
        cancel_below, refund_below = 0.03, 0.03 + p_ref
        if plan is not None:
            cancel_p, refund_p = plan.cancel_p[co_s], plan.refund_p[co_s]
            cancel_below = np.where(np.isnan(cancel_p), cancel_below, cancel_p)
            refund_below = np.where(np.isnan(refund_p), refund_below, cancel_below + refund_p)
        status[o_paid & (rr < cancel_below) & (can_at < END_US)] = ST_CANCELLED
        status[o_paid & (rr >= cancel_below) & (rr < refund_below) & (ref_at < END_US)] = (
            ST_REFUNDED
        )
        # recorded, not drawn: the returns use these without moving any other table's draws
        refund_pending = o_paid & (rr >= cancel_below) & (rr < refund_below) & (ref_at >= END_US)

        # Reviews: some buyers of delivered orders, a few days later, quality-driven.
        delivered = (status == ST_PAID) | (status == ST_REFUNDED)
        l_status = status[l_order]
        p_rev = np.where(l_status == ST_REFUNDED, 0.5, 0.3) * delivered[l_order]

        def review(lines: np.ndarray, r: np.random.Generator) -> tuple[np.ndarray, ...]:
            rv = lines[r.random(len(lines)) < p_rev[lines]]
            rv_time = (
                pay_time[co_s][l_order[rv]]
                + ((3 + r.gamma(2.0, 2.5, len(rv))) * US_PER_DAY).astype(np.int64) // 1000 * 1000
            )
            mu = 1.6 + 3.2 * cat.quality[l_sku[rv]] - 1.2 * (l_status[rv] == ST_REFUNDED)
            rating = np.clip(np.round(r.normal(mu, 0.8)), 1, 5).astype(np.int64)
            ok = rv_time < END_US
            return rv[ok], rv_time[ok], rating[ok]

        # the walk's lines draw from the walk's stream as before, companion lines from theirs
        rv, rv_time, rating = review(np.flatnonzero(~extra), rng)
        if extra.any():
            more = review(np.flatnonzero(extra), rng_together)
            rv, rv_time, rating = (
                np.concatenate(pair) for pair in zip((rv, rv_time, rating), more, strict=True)
            )

        # ---- aggregates for marketing_spend and costs ----
        np.add.at(self.sessions_dc[d], s.channel[s.channel >= 0], 1)
        net = (status == ST_PAID) | (status == ST_REFUNDED)
        o_ch = s.channel[co_s]
        settled = (status == ST_PAID) & (o_ch >= 0)
        np.add.at(self.gmv_dc[d], o_ch[settled], paid_amount[settled])
        mth = cal.month[d]
        shipped = net[l_order]
        self.m_orders[mth] += net.sum()
        self.m_units[mth] += qty[shipped].sum()
        self.m_gmv[mth] += paid_amount[net].sum()
        self.m_cogs[mth] += (qty * cat.cost[l_sku])[shipped].sum()
        refunded_line = status[l_order] == ST_REFUNDED
        self.m_refund_cogs[mth] += (qty * cat.cost[l_sku])[refunded_line].sum()
        # Shipped lines leave the warehouse on the local day they were paid.
        pay_day = (pay_time[co_s][l_order[shipped]] - START_US) // US_PER_DAY
        np.add.at(self.sold_ds, (pay_day, l_sku[shipped]), qty[shipped].astype(np.int32))

        # ---- tables ----
        onum = self.next_order + np.arange(n_o, dtype=np.int64)
        self.next_order += n_o
        if refund_pending.any():
            self.refund_after_end.append(onum[refund_pending])
        order_ids = _fmt_ids("O", onum, 9)
        ch_names = pa.array(CHANNELS)
        u_ids = _take(users.ids, o_user)
        orders = pa.table(
            {
                "order_id": order_ids,
                "user_id": u_ids,
                "order_time": _ts(co_time[co_s]),
                "paid_time": _ts(pay_time[co_s], ~o_paid),
                "status": _take(pa.array(ORDER_STATUSES), status),
                "paid_amount": pa.array(paid_amount),
                "discount_amount": pa.array(discount),
                "coupon_id": _take(pa.array(COUPON_IDS), o_coupon),
                "channel": _take(ch_names, o_ch),
            },
            schema=SCHEMAS["orders"],
        )
        items = pa.table(
            {
                "order_id": order_ids.take(pa.array(l_order)),
                "sku_id": _take(cat.sku_ids, l_sku),
                "quantity": pa.array(qty),
                "unit_price": pa.array(unit_price),
            },
            schema=SCHEMAS["order_items"],
        )
        reviews = pa.table(
            {
                "sku_id": _take(cat.sku_ids, l_sku[rv]),
                "user_id": u_ids.take(pa.array(l_order[rv])),
                "review_time": _ts(rv_time),
                "rating": pa.array(rating),
            },
            schema=SCHEMAS["reviews"],
        )
        self.writers["orders"].add(orders)
        self.writers["order_items"].add(items)
        self.writers["reviews"].add(reviews)
        units = np.bincount(l_order, weights=qty, minlength=n_o).astype(np.int64)
        first_review = np.full(n_o, np.iinfo(np.int64).max)
        np.minimum.at(first_review, l_order[rv], rv_time)
        self.writers["shipments"].add(
            self._shipments(
                order_ids, status, pay_time[co_s], o_user, paid_amount, units, first_review
            )
        )

        # Purchases that fall after the window end did not happen (yet).
        keep_ev = ev_time < END_US
        viewed = keep_ev & (ev_name == E["view_item"])
        view_day = (ev_time[viewed] - START_US) // US_PER_DAY
        np.add.at(self.views_ds, (view_day, ev_sku[viewed]), 1)
        ev_time_full = ev_time
        ev_sess, ev_time, ev_name = ev_sess[keep_ev], ev_time[keep_ev], ev_name[keep_ev]
        ev_sku, ev_slot, ev_coupon = ev_sku[keep_ev], ev_slot[keep_ev], ev_coupon[keep_ev]
        if self.journeys:
            human = has_view if plan is None else has_view & ~plan.bot
            x_sess, x_time, x_name = self._journeys(
                rng_journey or self.rng_journey,
                ev_time_all=ev_time_full,
                first_ev=first_ev,
                viewers=np.flatnonzero(human),
                in_cart=in_cart,
                checkouts=np.flatnonzero(co),
                paid=paid,
                co_time=co_time,
                pay_time=pay_time,
            )
            none = np.full(len(x_sess), -1, dtype=np.int32)
            ev_sess = np.concatenate([ev_sess, x_sess])
            ev_time = np.concatenate([ev_time, x_time])
            ev_name = np.concatenate([ev_name, x_name])
            ev_sku = np.concatenate([ev_sku, none])
            ev_slot = np.concatenate([ev_slot, none])
            ev_coupon = np.concatenate([ev_coupon, none])
        if len(x_order):
            # the companion is added to the cart with the anchor, at the same instant
            k = len(cat.price) + 1
            carted = np.flatnonzero(ev_name == E["add_to_cart"])
            key = ev_sess[carted] * k + ev_sku[carted]
            first = carted[np.lexsort((ev_time[carted], key))]
            key = ev_sess[first] * k + ev_sku[first]
            x_sess = co_s[x_order]
            pos = np.searchsorted(key, x_sess * k + x_anchor)
            assert (key[pos] == x_sess * k + x_anchor).all()  # every line was carted
            at = first[pos]
            none = np.full(len(x_sess), -1, dtype=np.int32)
            ev_sess = np.concatenate([ev_sess, x_sess])
            ev_time = np.concatenate([ev_time, ev_time[at]])
            ev_name = np.concatenate([ev_name, np.full(len(x_sess), E["add_to_cart"], np.int8)])
            ev_sku = np.concatenate([ev_sku, x_sku.astype(np.int32)])
            ev_slot = np.concatenate([ev_slot, none])
            ev_coupon = np.concatenate([ev_coupon, none])
        return {
            "time": ev_time,
            "user": s.user[ev_sess],
            "session": s.num[ev_sess],
            "name": ev_name,
            "sku": ev_sku,
            "channel": s.channel[ev_sess],
            "slot": ev_slot,
            "platform": s.platform[ev_sess],
            "coupon": ev_coupon,
        }

    # ---- products bought together (issue 19) -------------------------------------------
    def _together_lines(
        self, d: int, l_order: np.ndarray, l_sku: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, ...]:
        """``(order, anchor, sku, quantity, unit_price)`` of the companion lines the orders'
        lines ``(l_order, l_sku)`` of day ``d`` draw: each line of an anchor A adds its
        companion B with probability :data:`BOUGHT_TOGETHER_RATE`, unless B is in the order."""
        cat = self.cat
        partner = self.companion[l_sku]
        anchor = np.flatnonzero(partner >= 0)
        if len(anchor) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty, empty, np.zeros(0)
        take = anchor[rng.random(len(anchor)) < BOUGHT_TOGETHER_RATE]
        k = len(cat.price) + 1
        x_order, x_anchor, x_sku = l_order[take], l_sku[take], partner[take]
        new = ~np.isin(x_order * k + x_sku, l_order * k + l_sku)
        x_order, x_anchor, x_sku = x_order[new], x_anchor[new], x_sku[new]
        # as the walk's lines: the category's quantity, a markdown, never below cost
        qty = 1 + rng.poisson(CAT_QTY[cat.cat[x_sku]])
        markdown = rng.choice([1.0, 0.95, 0.9, 0.8], len(x_sku), p=[0.7, 0.15, 0.1, 0.05])
        price = np.round(
            np.maximum(cat.price[x_sku] * self.cal.price[d] * markdown, cat.cost[x_sku] * 1.03), 2
        )
        return x_order, x_anchor, x_sku, qty.astype(np.int64), price

    # ---- the journeys' search and checkout detour (issue 18) ---------------------------
    def _journeys(
        self,
        rng: np.random.Generator,
        *,
        ev_time_all: np.ndarray,
        first_ev: np.ndarray,
        viewers: np.ndarray,
        in_cart: np.ndarray,
        checkouts: np.ndarray,
        paid: np.ndarray,
        co_time: np.ndarray,
        pay_time: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(session, time, name)`` of the ``search``, ``view_cart`` and second ``begin_checkout``
        events of a slice (only those before the window end).

        ``ev_time_all`` are the walk's event times in session order (``first_ev`` each session's
        first). A search goes between the landing page_view and the next event (room of 2 ms
        at least); a detour between the checkout and the payment (room of 3 ms), or after an
        unpaid checkout. Which sessions get them is drawn given the walk's outcome
        (:func:`_marked`), so the walk and its orders stay exactly as they were.
        """
        # search: among sessions with a view_item, those with a cart more often
        t_pv = ev_time_all[first_ev[viewers] + 1]
        room = ev_time_all[first_ev[viewers] + 2] - t_pv
        viewers, t_pv, room = viewers[room >= 2000], t_pv[room >= 2000], room[room >= 2000]
        u_mark, u_at = rng.random((2, len(viewers)))
        hit = _marked(in_cart[viewers], SEARCH_SHARE, SEARCH_CART_LIFT, u_mark)
        steps = (room[hit] - 2000) // 1000 + 1
        s_sess = viewers[hit]
        s_time = t_pv[hit] + 1000 * (1 + np.floor(u_at[hit] * steps).astype(np.int64))
        # detour: among checkouts, the unpaid ones more often
        t_co, t_pay = co_time[checkouts], pay_time[checkouts]
        was_paid = paid[checkouts]
        ok = ~was_paid | (t_pay - t_co >= 3000)
        checkouts, t_co, t_pay, was_paid = checkouts[ok], t_co[ok], t_pay[ok], was_paid[ok]
        u_mark, u_cart, u_again = rng.random((3, len(checkouts)))
        gap_cart, gap_again = rng.exponential(1.0, (2, len(checkouts)))
        back = _marked(was_paid, CHECKOUT_DETOUR_SHARE, CHECKOUT_DETOUR_PAY_MULT, u_mark)
        checkouts, t_co, t_pay, was_paid = checkouts[back], t_co[back], t_pay[back], was_paid[back]
        u_cart, u_again = u_cart[back], u_again[back]
        gap_cart, gap_again = gap_cart[back], gap_again[back]
        # paid: both inside the checkout -> purchase gap, on whole milliseconds
        steps = (t_pay - t_co - 3000) // 1000 + 1
        vc_paid = t_co + 1000 * (1 + np.floor(u_cart * steps).astype(np.int64))
        steps = (t_pay - vc_paid - 2000) // 1000 + 1
        bc_paid = vc_paid + 1000 * (1 + np.floor(u_again * steps).astype(np.int64))
        # unpaid: after the checkout, then the session ends
        ms = np.maximum(np.ceil(gap_cart * DETOUR_GAP_S[0] * 1000), 1).astype(np.int64)
        vc_left = t_co + ms * 1000
        ms = np.maximum(np.ceil(gap_again * DETOUR_GAP_S[1] * 1000), 1).astype(np.int64)
        bc_left = vc_left + ms * 1000
        vc = np.where(was_paid, vc_paid, vc_left)
        bc = np.where(was_paid, bc_paid, bc_left)
        sess = np.concatenate([s_sess, checkouts, checkouts])
        t = np.concatenate([s_time, vc, bc])
        name = np.concatenate(
            [
                np.full(len(s_sess), E["search"], dtype=np.int8),
                np.full(len(checkouts), E["view_cart"], dtype=np.int8),
                np.full(len(checkouts), E["begin_checkout"], dtype=np.int8),
            ]
        )
        keep = t < END_US
        return sess[keep], t[keep], name[keep]

    # ---- shipments of one slice's paid orders ------------------------------------------
    def _shipments(
        self,
        order_ids: pa.Array,
        status: np.ndarray,
        paid_at: np.ndarray,
        o_user: np.ndarray,
        paid_amount: np.ndarray,
        units: np.ndarray,
        first_review: np.ndarray,
    ) -> pa.Table:
        """One shipment per paid (not cancelled) order that left the warehouse in the window."""
        rng = self.rng_ship
        ship = np.flatnonzero((status == ST_PAID) | (status == ST_REFUNDED))
        n = len(ship)
        paid = paid_at[ship]
        zone = REGION_ZONE[self.users.region[o_user[ship]]]
        kind = np.where(paid_amount[ship] >= VALUABLE_ORDER, 1, np.where(zone == 3, 2, 0))
        carrier = _grouped_choice(rng.random(n), kind, _cum(CARRIER_P))
        day = (paid - START_US) // US_PER_DAY
        handling = (
            rng.gamma(HANDLING_SHAPE, HANDLING_HOURS, n) * self.handling_load[day] * US_PER_HOUR
        )
        transit_days = (CARRIER_DAYS[carrier] + ZONE_EXTRA_DAYS[zone]) * rng.lognormal(
            0.0, 0.3, n
        ) + self.carrier_surge[day]
        transit = transit_days * US_PER_DAY
        # Buyers review what they have received: a reviewed parcel's journey is fitted before
        # the order's first review (reviews come 3+ days after payment, so this is rare).
        budget = (first_review[ship] - paid - US_PER_HOUR).astype(np.float64)
        squeeze = np.where(handling + transit > budget, budget / (handling + transit), 1.0)
        handling_us = np.maximum(handling * squeeze, 60 * US_PER_S).astype(np.int64)
        shipped = paid + handling_us // 1000 * 1000
        delivered = shipped + (transit * squeeze).astype(np.int64) // 1000 * 1000
        lost = rng.random(n) < LOST_PARCEL_P
        cost = CARRIER_BASE[carrier] * ZONE_COST[zone] + CARRIER_UNIT[carrier] * (units[ship] - 1)
        cost = np.round(cost * rng.lognormal(0.0, 0.05, n), 2)
        # Parcels still in the warehouse at the end of the data have no shipment yet; those
        # still on the road (or lost) have no delivery time.
        keep = shipped < END_US
        return pa.table(
            {
                "order_id": order_ids.take(pa.array(ship[keep])),
                "carrier": _take(pa.array(CARRIER_NAMES), carrier[keep]),
                "shipped_time": _ts(shipped[keep]),
                "delivered_time": _ts(delivered[keep], (lost | (delivered >= END_US))[keep]),
                "shipping_cost": pa.array(cost[keep]),
            },
            schema=SCHEMAS["shipments"],
        )

    # ---- inventory and purchase orders, consistent with the simulated sales ------------
    def _stockouts(
        self, supplier: np.ndarray
    ) -> tuple[np.ndarray, dict[tuple[int, int], int], list[tuple[int, int]]]:
        """Chosen stock-outs: ``zero[d, k]`` (end-of-day stock of SKU k is 0 on day d), the last
        sale day before each stock-out keyed by ``(day the late PO arrives, k)``, and the
        ``(k, last sale day)`` of stock-outs still open at the end of the window.

        A stock-out is a quiet spell of a stock-out prone SKU: 3-35 days without a sale right
        after a day with sales, which sold the last unit. Sales are never suppressed (the
        other tables stay as simulated), so stock can only be 0 on days nobody bought.
        """
        rng, sold = self.rng_supply, self.sold_ds
        n_sku = sold.shape[1]
        prone = rng.random(n_sku) < STOCKOUT_BASE_P + STOCKOUT_LATE_P * SUPPLIER_LATE_P[supplier]
        zero = np.zeros((N_DAYS, n_sku), dtype=bool)
        arrives: dict[tuple[int, int], int] = {}
        still_out: list[tuple[int, int]] = []
        for k in np.flatnonzero(prone & ((sold > 0).sum(axis=0) >= 3)):
            quiet = np.concatenate([[0], (sold[:, k] == 0).astype(np.int8), [0]])
            edges = np.diff(quiet)
            starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
            length = stops - starts + 1
            fits = (starts >= 1) & (length >= STOCKOUT_MIN_DAYS) & (length <= STOCKOUT_MAX_DAYS)
            draws = rng.random(int(fits.sum()))
            runs = list(zip(starts[fits], stops[fits], strict=True))
            chosen = [run for run, u in zip(runs, draws, strict=True) if u < STOCKOUT_RUN_P]
            for a, b in chosen[:STOCKOUTS_PER_SKU]:
                zero[a - 1 : b + 1, k] = True
                if b + 1 < N_DAYS:
                    arrives[(int(b) + 1, int(k))] = int(a) - 1
                else:
                    still_out.append((int(k), int(a) - 1))
        return zero, arrives, still_out

    def _supply(self) -> dict[str, int]:
        """Write ``inventory`` and ``purchase_orders``; return their row counts.

        The sales are given, so stock is built backwards from the last day with
        ``on_hand(d - 1) = on_hand(d) + sold(d) - received(d)``. Going back, stock grows by each
        day's sales until it reaches the SKU's safety stock plus its order lot; that day a lot
        arrived that lifted it from the safety stock (>= 1 unit). So stock never runs out
        except in the chosen stock-outs (:meth:`_stockouts`), which end with a late purchase
        order. Stock-out prone SKUs are more often those of unreliable suppliers, and some SKUs
        are bought for far more days than they sell (overstock) or never sell (dead stock).
        """
        rng, cat, sold = self.rng_supply, self.cat, self.sold_ds
        n_sku = len(cat.price)
        rate = np.maximum(sold.sum(axis=0) / N_DAYS, 0.02)  # the buyer's units per day
        options = np.array([CAT_SUPPLIERS[name] for name in CAT_NAMES])
        main = rng.random(n_sku) < MAIN_SUPPLIER_P
        supplier = np.where(main, options[cat.cat, 0], options[cat.cat, 1])
        promised = SUPPLIER_PROMISED_DAYS[supplier]
        moq = np.clip(np.ceil(MIN_ORDER_VALUE / np.maximum(cat.cost, 0.01)), 1, MAX_MOQ)
        safety = rate * rng.uniform(5.0, 15.0, n_sku)
        overbuy = rng.random(n_sku) < OVERBUY_P
        cover = np.where(overbuy, rng.uniform(150, 300, n_sku), rng.uniform(25, 60, n_sku))
        lot = np.maximum(moq, np.round(rate * cover)).astype(np.int64)
        zero, arrives, still_out = self._stockouts(supplier)

        # Backwards from the end: row j of on_hand is the stock at the end of day j - 1
        # (row 0 is the opening count on the day before the window).
        on_hand = np.empty((N_DAYS + 1, n_sku), dtype=np.int64)
        received = np.zeros((N_DAYS, n_sku), dtype=np.int64)
        closing = 1 + np.floor(rng.random(n_sku) * (lot - 1)).astype(np.int64)
        on_hand[N_DAYS] = np.where(zero[N_DAYS - 1], 0, closing)
        no_zero = np.zeros(n_sku, dtype=bool)
        for d in range(N_DAYS - 1, -1, -1):
            shelf = on_hand[d + 1] + sold[d]  # on the shelf on day d, after any receipt
            low = np.maximum(1, np.round(safety * rng.uniform(0.5, 1.5, n_sku))).astype(np.int64)
            empty_before = zero[d - 1] if d > 0 else no_zero
            rec = np.where(empty_before, shelf, np.where(shelf >= low + lot, shelf - low, 0))
            received[d] = rec
            on_hand[d] = shelf - rec

        n_inventory = self._write_inventory(on_hand)
        n_po = self._write_purchase_orders(
            received, arrives, still_out, supplier, promised, lot, safety, rate, on_hand[N_DAYS]
        )
        return {"inventory": n_inventory, "purchase_orders": n_po}

    def _write_inventory(self, on_hand: np.ndarray) -> int:
        """One row per SKU, location and day (plus the opening count), sorted by date."""
        rng, sold = self.rng_supply, self.sold_ds
        n_sku = on_hand.shape[1]
        # The best sellers are stocked in both warehouses; the split moves a little each day.
        n_split = int(round(SPLIT_STOCK_SHARE * n_sku))
        split = np.sort(np.argsort(-sold.sum(axis=0), kind="stable")[:n_split])
        east_share = rng.uniform(0.55, 0.8, n_split)
        sku = np.concatenate([np.arange(n_sku), split])
        location = np.concatenate([np.zeros(n_sku, dtype=np.int64), np.ones(n_split, np.int64)])
        order = np.lexsort((location, sku))
        sku_ids = _take(self.cat.sku_ids, sku[order])
        locations = _take(pa.array(WAREHOUSES), location[order])
        writer = _TableWriter(self.out / "inventory.parquet", "inventory", self.rows, self.level)
        first_day = START_DATE - timedelta(days=1)
        for j in range(N_DAYS + 1):
            total = on_hand[j]
            share = np.clip(east_share + rng.normal(0.0, 0.03, n_split), 0.0, 1.0)
            east = np.round(total[split] * share).astype(np.int64)
            values = np.concatenate([total, east])
            values[split] = east
            values[n_sku:] = total[split] - east
            writer.add(
                pa.table(
                    {
                        "date": pa.array([first_day + timedelta(days=j)] * len(sku)),
                        "sku_id": sku_ids,
                        "location": locations,
                        "on_hand": pa.array(values[order]),
                    },
                    schema=SCHEMAS["inventory"],
                )
            )
        writer.close()
        return writer.count

    def _write_purchase_orders(
        self,
        received: np.ndarray,
        arrives: dict[tuple[int, int], int],
        still_out: list[tuple[int, int]],
        supplier: np.ndarray,
        promised: np.ndarray,
        lot: np.ndarray,
        safety: np.ndarray,
        rate: np.ndarray,
        closing: np.ndarray,
    ) -> int:
        """One purchase order per receipt, plus the orders still open at the end."""
        rng, cat = self.rng_supply, self.cat
        day, sku = np.nonzero(received)
        qty = received[day, sku]
        n = len(day)
        lead_promised = promised[sku]
        late = rng.random(n) < SUPPLIER_LATE_P[supplier[sku]]
        lead = np.where(
            late,
            lead_promised + rng.geometric(0.3, n),
            np.maximum(lead_promised - rng.integers(0, 3, n), 1),
        )
        ordered = day - lead
        # The order that ends a stock-out either was due before the shelf ran empty and came
        # late (the supplier's fault, likelier the less reliable it is) or was placed too late
        # and came on time (the buyer's).
        keys = zip(day.tolist(), sku.tolist(), strict=True)
        last_sale = np.array([arrives.get(key, -1) for key in keys], dtype=np.int64)
        supplier_late = rng.random(n) < STOCKOUT_SUPPLIER_BLAME * SUPPLIER_LATE_P[supplier[sku]]
        slack = rng.integers(0, 3, n)
        due_before = (last_sale >= 0) & supplier_late
        ordered = np.where(due_before, last_sale - lead_promised - slack, ordered)
        on_time = np.maximum(lead_promised - slack, 1)
        ordered = np.where((last_sale >= 0) & ~supplier_late, day - on_time, ordered)
        short = rng.random(n) < SUPPLIER_SHORT_P[supplier[sku]]
        fill = rng.uniform(0.6, 0.95, n)
        qty_ordered = np.where(short, np.ceil(qty / fill), qty).astype(np.int64)

        # Open orders: the late ones of stock-outs still running at the end, and fresh ones
        # of SKUs whose stock fell to their reorder level in the last days.
        out_sku = np.array([k for k, _ in still_out], dtype=np.int64)
        out_last_sale = np.array([a for _, a in still_out], dtype=np.int64)
        out_late = (
            rng.random(len(out_sku)) < STOCKOUT_SUPPLIER_BLAME * SUPPLIER_LATE_P[supplier[out_sku]]
        )
        out_ordered = np.where(
            out_late,
            out_last_sale - promised[out_sku] - rng.integers(0, 3, len(out_sku)),
            N_DAYS - 1 - rng.integers(0, promised[out_sku]),
        )
        recent = self.sold_ds[N_DAYS - 28 :].sum(axis=0) > 0
        reorder = recent & (closing > 0) & (closing <= safety + rate * promised)
        new_sku = np.flatnonzero(reorder)
        new_ordered = N_DAYS - 1 - rng.integers(0, promised[new_sku])
        open_sku = np.concatenate([out_sku, new_sku])
        open_ordered = np.concatenate([out_ordered, new_ordered])

        all_sku = np.concatenate([sku, open_sku])
        all_ordered = np.concatenate([ordered, open_ordered])
        all_received = np.concatenate([day, np.full(len(open_sku), -1)])
        all_qty_ordered = np.concatenate([qty_ordered, lot[open_sku]])
        all_qty_received = np.concatenate([qty, np.zeros(len(open_sku), dtype=np.int64)])
        unit_cost = np.round(cat.cost[all_sku] * rng.lognormal(0.0, 0.03, len(all_sku)), 2)
        order = np.lexsort((all_received, all_sku, all_ordered))
        n_all = len(order)

        def dates(days: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
            epoch = (START_DATE - date(1970, 1, 1)).days
            return pa.array((epoch + days).astype(np.int32), type=pa.date32(), mask=null)

        received_days = all_received[order]
        table = pa.table(
            {
                "po_id": _fmt_ids("PO", np.arange(1, n_all + 1), 6),
                "supplier": _take(pa.array(SUPPLIER_NAMES), supplier[all_sku[order]]),
                "sku_id": _take(cat.sku_ids, all_sku[order]),
                "ordered_date": dates(all_ordered[order]),
                "promised_date": dates(all_ordered[order] + promised[all_sku[order]]),
                "received_date": dates(received_days, received_days < 0),
                "qty_ordered": pa.array(all_qty_ordered[order]),
                "qty_received": pa.array(all_qty_received[order]),
                "unit_cost": pa.array(unit_cost[order]),
            },
            schema=SCHEMAS["purchase_orders"],
        )
        pq.write_table(
            table,
            self.out / "purchase_orders.parquet",
            compression="zstd",
            use_dictionary=_DICT_COLS["purchase_orders"],
        )
        return table.num_rows

    # ---- returns and refunds, consistent with the written orders (issue 21) -------------
    def _returns(self) -> int:
        """Write ``returns``; return its row count.

        Derived from the written orders, lines and shipments with a random stream of its own,
        so every other table is exactly as without it. The model decided ``refunded`` before
        any parcel existed (and only where the refund fell inside the window), so each
        refunded order gets the request that refunded it: after delivery (before it, for a
        parcel still on the road) and refunded before the window end. Orders the model would
        refund after the end (:attr:`refund_after_end`) have asked already: their requests are
        open. Other delivered orders ask at a low rate, more often when the parcel came late
        against the carrier's usual time, the category is one with many refunds, the SKU is
        bad or the carrier cheap; those requests were turned down. Neither turned-down nor open
        requests have a ``refunded_time`` (or ``refund_amount``); ``status`` tells them apart
        (``rejected``, ``open``; ``refunded`` for the others).
        """
        rng, cat = self.rng_returns, self.cat
        orders = pq.read_table(
            self.out / "orders.parquet", columns=["order_id", "paid_time", "status", "paid_amount"]
        )
        items = pq.read_table(self.out / "order_items.parquet")
        ships = pq.read_table(
            self.out / "shipments.parquet",
            columns=["order_id", "carrier", "shipped_time", "delivered_time"],
        )
        n = orders.num_rows
        order_ids = orders["order_id"].combine_chunks()
        status = _codes(orders["status"], ORDER_STATUSES)
        paid_at = _us(orders["paid_time"])
        paid_amount = orders["paid_amount"].to_numpy()
        onum = pc.cast(pc.utf8_slice_codeunits(order_ids, 1), pa.int64()).to_numpy()

        # Lines grouped by order (position in the orders table), then by SKU.
        l_order = _codes(items["order_id"], order_ids)
        l_sku = pc.cast(pc.utf8_slice_codeunits(items["sku_id"], 3), pa.int64()).to_numpy() - 1
        by_order = np.lexsort((l_sku, l_order))
        l_order, l_sku = l_order[by_order], l_sku[by_order]
        l_qty = items["quantity"].to_numpy()[by_order]
        l_price = items["unit_price"].to_numpy()[by_order]
        lines = np.bincount(l_order, minlength=n)
        first = np.cumsum(lines) - lines
        units = np.bincount(l_order, weights=l_qty, minlength=n)
        gross = np.bincount(l_order, weights=l_qty * l_price, minlength=n)
        l_quality = cat.quality[l_sku]
        refund_level = np.zeros(n)
        np.maximum.at(refund_level, l_order, CAT_REFUND[cat.cat[l_sku]])
        min_q = np.ones(n)
        np.minimum.at(min_q, l_order, l_quality)
        # the order's worst line: the first of its group once sorted by quality
        worst = np.lexsort((l_quality, l_order))

        # One parcel per shipped order; lateness against the promised payment-to-door days.
        s_order = _codes(ships["order_id"], order_ids)
        carrier = np.full(n, -1, dtype=np.int64)
        carrier[s_order] = _codes(ships["carrier"], CARRIER_NAMES)
        shipped_at = np.full(n, -1, dtype=np.int64)
        shipped_at[s_order] = _us(ships["shipped_time"])
        delivered_at = np.full(n, -1, dtype=np.int64)
        delivered_at[s_order] = _us(ships["delivered_time"])
        delivered = delivered_at >= 0
        late_days = (delivered_at - paid_at) / US_PER_DAY - PROMISED_DOOR_DAYS
        band = np.where(
            delivered, np.searchsorted(np.array(LATE_BAND_DAYS), late_days, "right"), -1
        )
        c0 = np.maximum(carrier, 0)

        # Every draw is made for every order, so each order's draws are fixed by its position.
        u_ask, u_shape, u_line, u_qty, u_reason, u_blank, u_late_ask = rng.random((7, n))
        quick_gap = rng.gamma(*ASK_GAMMA["quick"], n)
        slow_gap = rng.gamma(*ASK_GAMMA["slow"], n)
        late_gap = rng.uniform(*LATE_ASK_DAYS, n)
        delay_hours = REFUND_MEDIAN_HOURS * np.exp(REFUND_SIGMA * rng.standard_normal(n))

        refunded = status == ST_REFUNDED
        pending = np.zeros(n, dtype=bool)
        if self.refund_after_end:
            pending = np.isin(onum, np.concatenate(self.refund_after_end)) & (status == ST_PAID)
        p_ask = (
            UNREFUNDED_REQUEST_P
            * refund_level
            * (1.0 + 2.0 * (1.0 - min_q))
            * CARRIER_REQUEST_MULT[c0]
            * LATE_REQUEST_MULT[np.maximum(band, 0)]
        )
        turned_down = (status == ST_PAID) & ~pending & delivered & (u_ask < np.minimum(p_ask, 0.9))
        r = np.flatnonzero((refunded | pending | turned_down) & (lines > 0))
        ref = refunded[r]
        # each request's state (returns.status): refunded, turned down, or open at the end
        state = np.where(ref, 0, np.where(pending[r], 2, 1))

        # What goes back: the whole order, each line, or part of one line.
        multi = (lines[r] > 1) | (units[r] > 1)
        shape_cum = _cum(np.vstack([SINGLE_UNIT_SHAPE_P, MULTI_UNIT_SHAPE_P]))
        shape = _grouped_choice(u_shape[r], multi.astype(np.int64), shape_cum)
        partial = shape == SHAPE_PARTIAL
        pick = first[r] + np.floor(u_line[r] * lines[r]).astype(np.int64)
        focus = np.where(partial, pick, worst[first[r]])  # the line the reason is about
        line_qty = l_qty[focus]
        # one line of a one-line order goes back partly (fewer units), otherwise any number
        room_qty = np.where(lines[r] > 1, line_qty, line_qty - 1)
        part_qty = 1 + np.floor(u_qty[r] * np.maximum(room_qty, 1)).astype(np.int64)

        # Why: faults of the goods, of the parcel, of the fit, or second thoughts.
        f_cat, f_q = cat.cat[l_sku[focus]], cat.quality[l_sku[focus]]
        on_door = delivered[r]
        weights = np.column_stack(
            [
                0.10 * CARRIER_DAMAGE[c0[r]] * CAT_FRAGILE[f_cat] * on_door,  # damaged
                0.06 * on_door,  # wrong_item
                (0.08 + 0.6 * (1.0 - f_q)) * on_door,  # not_as_described
                np.where(on_door, LATE_REASON_W[np.maximum(band[r], 0)], 0.8),  # late_delivery
                np.full(len(r), 0.25),  # changed_mind
                0.45 * CAT_SIZED[f_cat] * on_door,  # size_fit
            ]
        )
        cum_w = np.cumsum(weights, axis=1)
        reason = (cum_w < u_reason[r, None] * cum_w[:, -1:]).sum(axis=1)
        reason = np.minimum(reason, len(RETURN_REASONS) - 1)
        quick = np.isin(reason, [0, 1, 3])  # damaged, wrong_item, late_delivery
        reason = np.where(u_blank[r] < NO_REASON_P, -1, reason)

        # When: days after delivery (shipping or payment while not delivered), then the refund.
        base = np.where(
            on_door, delivered_at[r], np.where(shipped_at[r] >= 0, shipped_at[r], paid_at[r])
        )
        gap_days = np.where(quick, quick_gap[r], slow_gap[r])
        gap_days = np.where(u_late_ask[r] < LATE_ASK_P, late_gap[r], gap_days)
        gap_us = gap_days * US_PER_DAY
        request_day = np.clip((base + gap_us - START_US) // US_PER_DAY, 0, N_DAYS - 1).astype(
            np.int64
        )
        slow = np.array([REFUND_SLOW_DAYS[0] <= x <= REFUND_SLOW_DAYS[1] for x in self.cal.dates])
        delay_us = delay_hours[r] * np.where(slow[request_day], REFUND_SLOW_MULT, 1.0) * US_PER_HOUR
        # A refunded order was refunded inside the window (that is when the model calls it
        # refunded): where request and refund would not fit before the end, both are squeezed
        # (from payment if the parcel came in the last minutes).
        base = np.where(ref & (base > END_US - 60 * US_PER_S), paid_at[r], base)
        room = (END_US - US_PER_S - base).astype(np.float64)
        squeeze = np.where(ref & (gap_us + delay_us > room), room / (gap_us + delay_us), 1.0)
        requested = base + np.maximum(gap_us * squeeze // 1000, 1).astype(np.int64) * 1000
        refunded_at = requested + np.maximum(delay_us * squeeze // 1000, 1).astype(np.int64) * 1000
        # Requests after the end have not been made yet.
        seen = ref | (requested < END_US)
        r, ref, shape, focus = r[seen], ref[seen], shape[seen], focus[seen]
        part_qty, reason, state = part_qty[seen], reason[seen], state[seen]
        requested, refunded_at = requested[seen], refunded_at[seen]

        # Rows: one per request, or one per line of an itemised one.
        itemised = shape == SHAPE_ITEMISED
        per_request = np.where(itemised, lines[r], 1)
        parent, pos = _segments(per_request)
        row_line = np.where(
            itemised[parent],
            first[r][parent] + pos,
            np.where(shape[parent] == SHAPE_PARTIAL, focus[parent], -1),
        )
        has_line = row_line >= 0
        line = np.maximum(row_line, 0)
        row_qty = np.where(shape[parent] == SHAPE_PARTIAL, part_qty[parent], l_qty[line])
        o = r[parent]
        share = paid_amount[o] / gross[o]  # the discount is spread over the lines
        amount = np.where(has_line, np.round(row_qty * l_price[line] * share, 2), paid_amount[o])
        # the last row of an itemised request takes the cents rounding left, so the rows of a
        # wholly refunded order add up to what was paid
        last = itemised[parent] & (pos == per_request[parent] - 1)
        others = np.bincount(parent, weights=amount, minlength=len(r))[parent] - amount
        amount = np.where(last, np.maximum(np.round(paid_amount[o] - others, 2), 0.0), amount)
        row_ref = ref[parent]

        order = np.lexsort((row_line, onum[o], requested[parent]))
        o, parent, line, has_line = o[order], parent[order], line[order], has_line[order]
        row_qty, amount, row_ref = row_qty[order], amount[order], row_ref[order]
        m = len(order)
        table = pa.table(
            {
                "return_id": _fmt_ids("R", np.arange(1, m + 1), 8),
                "order_id": order_ids.take(pa.array(o)),
                "sku_id": _take(cat.sku_ids, np.where(has_line, l_sku[line], -1)),
                "quantity": pa.array(row_qty, type=pa.int64(), mask=~has_line),
                "requested_time": _ts(requested[parent]),
                "refunded_time": _ts(refunded_at[parent], ~row_ref),
                "reason": _take(pa.array(RETURN_REASONS), reason[parent]),
                "refund_amount": pa.array(amount, type=pa.float64(), mask=~row_ref),
                "status": _take(pa.array(data.RETURN_STATUSES), state[parent]),
            },
            schema=SCHEMAS["returns"],
        )
        pq.write_table(
            table,
            self.out / "returns.parquet",
            compression="zstd",
            compression_level=self.level,
            use_dictionary=_DICT_COLS["returns"],
            row_group_size=self.rows,
        )
        return m

    # ---- event stream with a hold-back buffer so the output stays time-sorted ----------
    def _emit(self, ev: dict[str, np.ndarray], cut: int | None) -> int:
        if self.carry is not None:
            ev = {f: np.concatenate([self.carry[f], ev[f]]) for f in _EV_FIELDS}
        order = np.argsort(ev["time"], kind="stable")
        ev = {f: ev[f][order] for f in _EV_FIELDS}
        k = len(order) if cut is None else int(np.searchsorted(ev["time"], cut, side="left"))
        self.carry = {f: ev[f][k:] for f in _EV_FIELDS}
        out = {f: ev[f][:k] for f in _EV_FIELDS}
        if k:
            self.writers["events"].add(self._events_table(out))
        return k

    def _events_table(self, ev: dict[str, np.ndarray]) -> pa.Table:
        return pa.table(
            {
                "event_time": _ts(ev["time"]),
                "user_id": _take(self.users.ids, ev["user"]),
                "event_name": _take(pa.array(EVENT_NAMES), ev["name"]),
                "session_id": _fmt_ids("S", ev["session"] + 1, 10),
                "sku_id": _take(self.cat.sku_ids, ev["sku"]),
                "channel": _take(pa.array(CHANNELS), ev["channel"]),
                "slot": _take(pa.array(SLOTS), ev["slot"]),
                "platform": _take(pa.array(PLATFORMS), ev["platform"]),
                "coupon_id": _take(pa.array(COUPON_IDS), ev["coupon"]),
            },
            schema=SCHEMAS["events"],
        )

    def run(self, progress: bool) -> dict[str, int]:
        # Campaign SKUs of the home slots change daily; drawn from the popular half so the
        # banners show things people actually buy.
        rng = self.rng_misc
        n_sku = len(self.cat.price)
        pop = np.diff(np.concatenate([[0.0], self.cat.cum_w]))
        pop_p = pop**0.5 / (pop**0.5).sum()
        self.featured = rng.choice(n_sku, (N_DAYS, N_HOME_SLOTS), p=pop_p).astype(np.int32)

        with pq.ParquetWriter(
            self.out / "products.parquet",
            SCHEMAS["products"],
            compression="zstd",
            use_dictionary=_DICT_COLS["products"],
        ) as w:
            w.write_table(self.cat.table)
        uw = _TableWriter(self.out / "users.parquet", "users", 1_000_000, 9)
        for t in _users_tables(self.users, 1_000_000):
            uw.add(t)
        uw.close()
        pa.default_memory_pool().release_unused()  # id formatting left large free blocks

        if self.marketing:  # first session start of each user in the A/B tests' window
            self.first_in_window = np.full(len(self.users.t), _NEVER, dtype=np.int64)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=N_DAYS, unit="day", desc="simulating", file=sys.stderr)
        written = 0
        for d in range(N_DAYS):
            rng = np.random.default_rng(self.day_seeds[d])
            sessions = self._day_sessions(d, rng)
            if self.planted is not None:
                written += self.planted.simulate_day(self, d)
            if self.known_clv is not None:
                written += self.known_clv.simulate_day(self, d)
            for lo in range(0, len(sessions), SLICE_SESSIONS):
                sl = sessions.slice(lo, min(lo + SLICE_SESSIONS, len(sessions)))
                ev = self._simulate(d, sl, rng)
                # No later session starts before this slice's last start, so everything
                # earlier is final; the rest waits for the next slice.
                written += self._emit(ev, int(sl.start[-1]))
            # mimalloc keeps freed pages around; hand them back so RSS tracks live data.
            pa.default_memory_pool().release_unused()
            if bar is not None:
                bar.update(1)
                bar.set_postfix(events=f"{written:,}")
        assert self.carry is not None
        written += self._emit({f: self.carry[f][:0] for f in _EV_FIELDS}, None)
        if bar is not None:
            bar.set_postfix(events=f"{written:,}")
            bar.close()
        counts = {name: w.count for name, w in self.writers.items()}
        for w in self.writers.values():
            w.close()

        spend = self._marketing_spend()
        costs = self._costs()
        for name, table in (("marketing_spend", spend), ("costs", costs)):
            pq.write_table(
                table,
                self.out / f"{name}.parquet",
                compression="zstd",
                use_dictionary=_DICT_COLS[name],
            )
        counts.update(
            products=self.cat.table.num_rows,
            users=len(self.users.t),
            marketing_spend=spend.num_rows,
            costs=costs.num_rows,
            **self._supply(),
            returns=self._returns(),
        )
        if self.market is not None:
            counts.update(self._marketing_tables())
        return {name: counts[name] for name in SCHEMAS if name in counts}

    # ---- campaigns, A/B tests and competitor prices (issue 20) -------------------------
    def _note_window_sessions(self, s: _Sessions) -> None:
        """Keep each user's first session start inside the A/B tests' window."""
        assert self.first_in_window is not None
        lo = START_US + _day_index(EXPERIMENT_START) * US_PER_DAY
        hi = START_US + (_day_index(EXPERIMENT_END) + 1) * US_PER_DAY
        inside = (s.start >= lo) & (s.start < hi)
        np.minimum.at(self.first_in_window, s.user[inside], s.start[inside])

    def _marketing_tables(self) -> dict[str, int]:
        """Write ``campaigns``, ``experiments`` and ``competitor_prices``; return row counts."""
        tables = {
            "campaigns": _campaigns_table(),
            "experiments": self._experiments(),
            "competitor_prices": self.market.prices(np.random.default_rng([self.seed, 21, 1])),
        }
        for name, table in tables.items():
            pq.write_table(
                table,
                self.out / f"{name}.parquet",
                compression="zstd",
                compression_level=self.level,
                use_dictionary=_DICT_COLS[name],
                row_group_size=self.rows,
            )
        return {name: table.num_rows for name, table in tables.items()}

    def _experiments(self) -> pa.Table:
        """Assignments of every user with a session in the window, to each experiment.

        Derived from the written orders with a random stream of its own, so no other table
        moves: within the users with and without a paid order in the EXPERIMENT_PRE_DAYS before
        their assignment, :func:`_marked` puts ``EXPERIMENT_SHARE`` of them in ``treatment`` so
        that converting (a paid, not cancelled order paid from the assignment to the window's
        end) is ``ratio`` times as common there as in ``control``.
        """
        assert self.first_in_window is not None
        rng = np.random.default_rng([self.seed, 20])
        first = self.first_in_window
        users = np.flatnonzero(first != _NEVER)
        orders = pq.read_table(
            self.out / "orders.parquet", columns=["user_id", "paid_time", "status"]
        )
        o_user = pc.cast(pc.utf8_slice_codeunits(orders["user_id"], 1), pa.int64()).to_numpy() - 1
        paid_at = _us(orders["paid_time"])
        cancelled = _codes(orders["status"], ORDER_STATUSES) == ST_CANCELLED
        assigned = first[o_user]
        counted = (paid_at >= 0) & ~cancelled & (assigned != _NEVER)
        window_end = START_US + (_day_index(EXPERIMENT_END) + 1) * US_PER_DAY
        after = counted & (paid_at >= assigned) & (paid_at < window_end)
        before = counted & (paid_at < assigned)
        before &= paid_at >= assigned - EXPERIMENT_PRE_DAYS * US_PER_DAY
        converted = np.zeros(len(first), dtype=bool)
        converted[o_user[after]] = True
        bought_before = np.zeros(len(first), dtype=bool)
        bought_before[o_user[before]] = True
        parts = []
        for name, ratio in EXPERIMENTS:
            u = rng.random(len(users))
            treated = np.zeros(len(users), dtype=bool)
            for stratum in (False, True):
                rows = bought_before[users] == stratum
                treated[rows] = _marked(converted[users][rows], EXPERIMENT_SHARE, ratio, u[rows])
            parts.append((name, treated))
        order = np.lexsort((users, first[users]))  # by assignment time, then user
        k = len(users)
        return pa.table(
            {
                "user_id": pa.concat_arrays([_take(self.users.ids, users[order])] * len(parts)),
                "experiment": pa.array([name for name, _ in parts for _ in range(k)], pa.string()),
                "variant": _take(
                    pa.array(EXPERIMENT_VARIANTS),
                    np.concatenate([treated[order].astype(np.int64) for _, treated in parts]),
                ),
                "assigned_time": _ts(np.tile(first[users][order], len(parts))),
            },
            schema=SCHEMAS["experiments"],
        )

    # ---- derived tables ---------------------------------------------------------------
    def _marketing_spend(self) -> pa.Table:
        rng, cal = self.rng_misc, self.cal
        rows: dict[str, list] = {f: [] for f in SCHEMAS["marketing_spend"].names}
        for d in range(N_DAYS):
            for ch, model, share, ctr, unit in BILLING:
                sessions = self.sessions_dc[d, ch]
                # Some paid clicks never become a session (bounce before the app loads).
                clicks = int(rng.poisson(sessions * share * 1.12))
                impressions = int(round(clicks / (ctr * rng.lognormal(0.0, 0.15))))
                noise = rng.lognormal(0.0, 0.08)
                if model == "CPC":
                    spend = clicks * unit * cal.bid[d] * noise
                elif model == "CPM":
                    spend = impressions / 1000 * unit * cal.bid[d] * noise
                elif model == "CPT":
                    spend = unit * self.scale * min(cal.bid[d], 2.5) ** 1.5
                else:  # CPS: commission on the GMV those clicks brought
                    spend = unit * self.gmv_dc[d, ch] * share
                rows["date"].append(cal.dates[d])
                rows["channel"].append(CHANNELS[ch])
                rows["billing_model"].append(model)
                rows["impressions"].append(impressions)
                rows["clicks"].append(clicks)
                rows["spend"].append(round(float(spend), 2))
        return pa.table(rows, schema=SCHEMAS["marketing_spend"])

    def _costs(self) -> pa.Table:
        rng = self.rng_misc
        # Headcount and fixed fees grow more slowly than volume.
        size = max(1.0, math.sqrt(self.scale))
        rows: dict[str, list] = {f: [] for f in SCHEMAS["costs"].names}
        n_months = len(self.m_gmv)
        for m in range(n_months):
            month = date(2025, 8 + m, 1)
            nov = month.month == 11
            items = [
                # platform: deposit and annual fee once, commission and payment fees monthly
                ("platform", "store_deposit", 30_000.0 if m == 0 else 0.0),
                ("platform", "annual_tech_service_fee", 30_000.0 * size if m == 0 else 0.0),
                ("platform", "platform_commission", 0.03 * self.m_gmv[m]),
                ("platform", "payment_processing_fee", 0.006 * self.m_gmv[m]),
                # operating hard costs: software subscriptions and devices
                ("operating", "erp_software", 1_980.0 * size),
                ("operating", "crm_software", 1_200.0 * size),
                ("operating", "customer_service_saas", 800.0 * size),
                ("operating", "label_printers", (2_400.0 if m == 0 else 1_200.0 * nov) * size),
                ("operating", "barcode_scanners", (1_800.0 if m == 0 else 900.0 * nov) * size),
                # goods: holding, moving and losing stock
                ("goods", "warehousing", 3_000.0 * size + 1.2 * self.m_units[m]),
                ("goods", "logistics", 6.0 * self.m_orders[m]),
                ("goods", "packaging_materials", 1.5 * self.m_orders[m]),
                ("goods", "inventory_backlog", self.m_cogs[m] * (0.06 if nov else 0.025)),
                ("goods", "damage_loss", 0.35 * self.m_refund_cogs[m]),
                # people
                ("people", "operations_staff", 2 * 7_000.0 * size),
                ("people", "customer_service", 2 * 5_000.0 * size),
                ("people", "designer", 8_000.0 * size),
                ("people", "warehouse_staff", 5_000.0 * size),
                ("people", "temporary_staff", 16_000.0 * size if nov else 0.0),
                ("people", "performance_bonus", 12_000.0 * size if nov else 0.0),
            ]
            for component, item, amount in items:
                if amount <= 0:
                    continue
                # Platform fees are contractual (fixed, or a rate on GMV); the rest varies.
                jitter = 1.0 if component == "platform" else rng.lognormal(0.0, 0.03)
                rows["month"].append(month)
                rows["component"].append(component)
                rows["item"].append(item)
                rows["amount"].append(round(float(amount * jitter), 2))
        return pa.table(rows, schema=SCHEMAS["costs"])


def generate(
    out_dir: Path | str,
    *,
    seed: int = 42,
    target_events: int | None = None,
    progress: bool = False,
    row_group_rows: int = DEFAULT_ROW_GROUP_ROWS,
    incidents: Sequence[Incident] | None = None,
    abusers: Abusers | None = None,
    journeys: bool = True,
    bought_together: bool = True,
    marketing: bool | None = None,
    known_clv: bool | int | None = None,
) -> dict[str, int]:
    """Simulate the shop and write one Parquet file per table into ``out_dir``.

    ``target_events=None`` produces the committed sample (50,000 users, 2,000 SKUs).
    Otherwise users scale linearly with ``target_events`` (the 120-day window stays) and
    SKUs with its square root. ``row_group_rows`` bounds the rows buffered per table before
    a row group is written. ``incidents`` and ``abusers`` plant known truth (None: the data
    set's default, :data:`SAMPLE_INCIDENTS` and :data:`SAMPLE_ABUSERS` for the sample, none
    with ``target_events``; ``()`` and :data:`NO_ABUSERS` switch them off). ``journeys`` adds
    the searches and checkout detours (issue 18; on for every data set, off changes the events
    only). ``bought_together`` plants the pairs of products bought together (issue 19,
    :func:`bought_together_pairs`; on for every data set, off leaves the data as before them).
    ``marketing`` (issue 20; None: on for the sample, off with ``target_events``) plants a
    category promotion and competitors undercutting some SKUs, and writes ``campaigns``,
    ``experiments`` and ``competitor_prices``; off, those tables are not written and the others
    are what they were before them. ``known_clv`` (issue 19; None: on for the sample, off with
    ``target_events``; True: :data:`KNOWN_CLV_CUSTOMERS` customers, or their number) appends the
    cohort whose purchases follow BG/NBD and spend Gamma-Gamma with known parameters
    (:data:`KNOWN_CLV_BGNBD`, :data:`KNOWN_CLV_GAMMA_GAMMA`; ids: :func:`known_clv_users`); off,
    the data are what they were before it. Returns the row count of every table written.
    """
    n_users, n_skus = _shop_size(target_events)
    sample = target_events is None
    if incidents is None:
        incidents = SAMPLE_INCIDENTS if sample else ()
    if abusers is None:
        abusers = SAMPLE_ABUSERS if sample else NO_ABUSERS
    if marketing is None:
        marketing = sample
    if known_clv is None:
        known_clv = sample
    customers = KNOWN_CLV_CUSTOMERS if known_clv is True else int(known_clv)
    if customers < 0:
        raise ValueError(f"known_clv={known_clv} must not be negative")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    level = 9 if n_users <= 4 * SAMPLE_USERS else 3  # small data: size matters, big: speed
    sim = _Simulator(
        out,
        seed,
        n_users,
        n_skus,
        row_group_rows,
        level,
        incidents,
        abusers,
        journeys,
        bought_together,
        marketing,
        customers,
    )
    return sim.run(progress)


def _incident_arg(text: str) -> Incident:
    # ArgumentTypeError: argparse prints its message (for a ValueError only "invalid value")
    try:
        return Incident.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lib.simulate", description="Generate a simulated online-shop data set."
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--events",
        type=int,
        default=None,
        help="approximate number of events (default: the committed sample size)",
    )
    parser.add_argument(
        "--incidents",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="inject incidents (default: on for the sample, with its one incident; off with "
        "--events)",
    )
    parser.add_argument(
        "--incident",
        action="append",
        type=_incident_arg,
        default=None,
        metavar="STEP,START,END,SIZE",
        help=f"an incident to inject instead of the default (repeatable): STEP one of "
        f"{', '.join(INCIDENT_STEPS)}, local dates, SIZE a multiplier on the step's "
        "probability, e.g. purchase,2025-10-20,2025-10-24,0.4",
    )
    parser.add_argument(
        "--abusers",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="plant abusive users and bots (default: on for the sample, off with --events)",
    )
    parser.add_argument(
        "--journeys",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="add on-site searches and checkout detours (issue 18; default: on)",
    )
    parser.add_argument(
        "--bought-together",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="plant pairs of products bought together (issue 19; default: on)",
    )
    parser.add_argument(
        "--marketing",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="plant a category promotion, A/B test effects and competitors undercutting some "
        "SKUs, and write campaigns, experiments and competitor_prices (issue 20; default: on for "
        "the sample, off with --events)",
    )
    parser.add_argument(
        "--known-clv",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="plant a cohort of customers whose purchases follow BG/NBD and spend Gamma-Gamma "
        "with known parameters (issue 19; default: on for the sample, off with --events)",
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: on for 5M+ events)",
    )
    args = parser.parse_args(argv)
    if args.incidents is False and args.incident:
        parser.error("--incident contradicts --no-incidents")
    incidents: Sequence[Incident] | None = None
    if args.incident:
        incidents = args.incident
    elif args.incidents is not None:
        incidents = SAMPLE_INCIDENTS if args.incidents else ()
    abusers = None if args.abusers is None else SAMPLE_ABUSERS if args.abusers else NO_ABUSERS
    progress = args.progress if args.progress is not None else (args.events or 0) >= 5_000_000
    t0 = time.perf_counter()
    counts = generate(
        args.out,
        seed=args.seed,
        target_events=args.events,
        progress=progress,
        incidents=incidents,
        abusers=abusers,
        journeys=args.journeys,
        bought_together=args.bought_together,
        marketing=args.marketing,
        known_clv=args.known_clv,
    )
    elapsed = time.perf_counter() - t0
    for name, rows in counts.items():
        size = (args.out / f"{name}.parquet").stat().st_size
        print(f"{name:16s} {rows:>12,d} rows {size / 1e6:9.2f} MB")
    print(f"{counts['events'] / elapsed:,.0f} events/s, {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
