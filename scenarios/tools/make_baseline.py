#!/usr/bin/env python3
"""Build scenarios/baseline.toml from the SIPRI data in data/sipri/.

Reads the SIPRI CSVs (default: <repo>/data/sipri, override with --data)
and the calibrated parameters in scenarios/tools/calibration.toml, and writes
scenarios/baseline.toml, every number of which carries a comment naming its
source: a SIPRI file and how the value is derived, a fact of
data/sipri/README.md with its cited source, an assumption with its reason, or
the calibration file.

Python 3.11 standard library only. Deterministic: the same inputs give a
byte-identical output (fixed orders, fixed rounding, no timestamps).

    python3 scenarios/tools/make_baseline.py [--data DIR] [--calibration FILE] [--out FILE]
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO / "data" / "sipri"
DEFAULT_CALIBRATION = REPO / "scenarios" / "tools" / "calibration.toml"
DEFAULT_OUT = REPO / "scenarios" / "baseline.toml"

CAL_NOTE = "calibrated (scenarios/tools/calibration.toml, fitted by `dibsim calibrate`)"
WINDOW = "2020-2024"
WINDOW_MONTHS = 60
WINDOW_YEARS = 5

# --------------------------------------------------------------------------
# Categories
# --------------------------------------------------------------------------

CATEGORIES = ["aircraft", "air_defence", "missiles", "armour", "naval", "artillery"]

# SIPRI armament category -> model category. "Other" and "Satellites" are
# spread pro rata over the six (SPREAD).
SIPRI_TO_CAT = {
    "Aircraft": "aircraft",
    "Engines": "aircraft",
    "Air-defence systems": "air_defence",
    "Sensors": "air_defence",
    "Missiles": "missiles",
    "Armoured vehicles": "armour",
    "Ships": "naval",
    "Naval weapons": "naval",
    "Artillery": "artillery",
}
SPREAD = {"Other", "Satellites"}

# Requirement size (TIV), assumptions: the order of magnitude of one SIPRI
# deal's TIV in each category (a squadron of combat aircraft is hundreds of
# TIV; a frigate or submarine a few hundred; an air-defence battery system a
# few hundred; a missile batch or an armoured-vehicle batch around a hundred;
# a batch of howitzers or rocket launchers tens).
PROGRAM_SIZE = {
    "aircraft": (400.0, "a squadron-sized combat-aircraft or helicopter order"),
    "air_defence": (200.0, "an air-defence system / radar set order (fire units plus sensors)"),
    "missiles": (120.0, "a batch of guided missiles for aircraft, ships or ground launchers"),
    "armour": (150.0, "a battalion-to-brigade batch of tanks or armoured vehicles"),
    "naval": (300.0, "one to a few frigates, corvettes or submarines"),
    "artillery": (60.0, "a batch of howitzers or rocket launchers"),
}
PROGRAM_SIGMA = 1.0
DELIVERY_SPAN = 24.0

# Capex per TIV/month of new capacity = M_c months of the new capacity's output
# value, valued at the reference (US) price index.
# Anchor (data/sipri/README.md): greenfield 155 mm plant US$0.3-0.6 bn for
# 200-350k rounds a year. At an assumed ~US$5,000 per round (order of magnitude
# of 2023-24 procurement prices; the round price is not in the data) the
# midpoint plant costs ~4 months of its output value.
SHELL_PLANT_BN = (0.3, 0.6)
SHELL_ROUNDS_PER_YEAR = (200_000, 350_000)
SHELL_PRICE_USD = 5_000.0
CAPEX_MONTHS = {
    "artillery": (6.0, "155 mm plant anchor ~{shell:.1f} months, rounded up to 6 for the guns and launchers SIPRI counts as artillery (ammunition itself has no TIV)"),
    "missiles": (12.0, "munitions-like serial production (energetics, seekers, motors): low end of the 12-36 month platform range"),
    "armour": (12.0, "hull and turret lines on existing heavy-industry plant: low end of the 12-36 month platform range"),
    "air_defence": (18.0, "radars and launchers plus integration facilities: lower middle of the 12-36 month range"),
    "aircraft": (24.0, "airframe and engine lines with heavy tooling: middle of the 12-36 month range"),
    "naval": (36.0, "shipyard docks and halls: top of the 12-36 month range"),
}

# --------------------------------------------------------------------------
# Exporters (assumptions; each with its reason)
# --------------------------------------------------------------------------

FOCAL = "United States"
OTHERS = "Others"
# SIPRI named exporters outside the 12 largest, merged into "Others".
EXPECTED_TOP12 = ["United States", "France", "Russia", "China", "Germany", "Italy",
                  "United Kingdom", "Israel", "Spain", "South Korea", "Turkiye", "Netherlands"]

# Reference price index (US$ M per TIV): assumption. Only price ratios enter
# choice (beta_p ln p); the level sets cash flows and capex. ~4 US$ per TIV
# dollar puts US output (3,050 TIV/month) at ~US$146 bn a year, the order of
# US arms procurement plus exports, and the primes' implied sales near their
# reported sizes.
REF_PRICE = 4.0

US_APPROVAL = 6.0  # 5 months LOR->LOA (~150 days) + 1 month congressional review (30 days)

EXP = {
    # name: approval_mean, approval reason, deny_base, deny reason,
    #       variant delay, variant reason, price ratio to US, price reason,
    #       build months, build reason
    "United States": dict(
        appr=US_APPROVAL, appr_why="[FACT] FMS LOR->LOA ~150 days for purchaser-unique cases (DSCA memos 11-46, 12-08) = 5 months + 30-day congressional review (AECA s.36; CRS RL31675) = 6 months",
        deny=0.10, deny_why="assumption: congressional holds and policy denials affect a minority of cases; scaled by (1 - a), so close allies are rarely denied",
        var=6.0, var_why="assumption: Defense Exportability Features (DAU Acquipedia) exist because export configurations are otherwise engineered after the fact; ~6 months of anti-tamper/export configuration work",
        price=1.00, price_why="assumption: reference price level (see header)",
        build=18, build_why="[FACT] Poland's new-build Abrams ordered 2022 arrived from January 2025 (~30 months) = ~6 months approval + ~6 months export variant + 18 months production to delivery",
    ),
    "France": dict(appr=3.0, deny=0.05, var=2.0, price=0.95, build=18,
                   price_why="assumption: Western high-end producer, slightly below the US price level"),
    "Russia": dict(appr=2.0, deny=0.02, var=2.0, price=0.55, build=12,
                   price_why="assumption: cheaper, lower-specification systems; state-financed sales"),
    "China": dict(appr=2.0, deny=0.02, var=1.0, price=0.45, build=12,
                  price_why="assumption: lowest-cost producer of complete platforms"),
    "Germany": dict(appr=4.0, deny=0.10, var=2.0, price=1.00, build=18,
                    appr_why="assumption: inter-ministerial licensing (Federal Security Council for sensitive cases) is slower than most European peers but faster than FMS",
                    price_why="assumption: high-end producer at US price level"),
    "Italy": dict(appr=3.0, deny=0.05, var=2.0, price=0.90, build=18),
    "United Kingdom": dict(appr=3.0, deny=0.05, var=2.0, price=1.00, build=18,
                           price_why="assumption: high-end producer at US price level"),
    "Israel": dict(appr=2.0, deny=0.05, var=1.0, price=0.90, build=12,
                   var_why="assumption: industry sells mostly abroad, so export configurations are designed in from the start",
                   build_why="assumption: missiles, sensors and air defence (SIPRI mix) built on short-cycle lines, 12 months"),
    "Spain": dict(appr=3.0, deny=0.05, var=2.0, price=0.85, build=18),
    "South Korea": dict(appr=1.0, deny=0.02, var=1.0, price=0.70, build=3,
                        appr_why="[FACT] Poland 2022 K2/K9 first deliveries about 3 months after signature, so approval is well under 3 months; 1 month (assumption within that bound)",
                        var_why="assumption: export versions (K2PL, K9) adapted from running production",
                        price_why="[FACT] South Korean firms and a US House task force name speed and price as why buyers turn from US suppliers (2023-24); 0.7 x US is an assumption",
                        build_why="[FACT] Poland 2022, first K2/K9 deliveries about 3 months after signature"),
    "Turkiye": dict(appr=2.0, deny=0.02, var=1.0, price=0.60, build=12,
                    price_why="assumption: low-cost producer (armoured vehicles, drones, corvettes)"),
    "Netherlands": dict(appr=3.0, deny=0.10, var=2.0, price=0.95, build=18),
    "Others": dict(appr=3.0, deny=0.05, var=2.0, price=0.70, build=15,
                   price_why="assumption: mix of mid-price Western (Sweden, Norway, Poland) and low-cost producers",
                   build_why="assumption: midpoint of the 12-18 month range of non-US exporters"),
}
DENY_WHY = {
    0.02: "assumption: few political conditions on sales; scaled by (1 - a)",
    0.05: "assumption: national/EU licensing criteria refuse a small share of cases; scaled by (1 - a)",
    0.10: "assumption: restrictive licensing; politically sensitive destinations more often refused; scaled by (1 - a)",
}
DEFAULT_WHY = dict(
    appr_why="assumption: national licence or government-to-government sale without FMS case development or congressional review; 2-4 months",
    var_why="assumption: no DEF-type export re-engineering regime like the US's; export versions need 1-2 months of extra work",
    price_why="assumption: Western producer, a little below the US price level",
    build_why="assumption: production-to-delivery 12-18 months for non-US exporters, below the US 24 months",
)
APPROVAL_CV = 0.5
APPROVAL_CV_WHY = ("assumption: lognormal spread of approval lags; the US 80%-within-120-days standard "
                   "against a ~150-day anticipated offer date implies a long right tail (README, DSCA)")

# Owners' balance sheets, assumptions.
CASH_MONTHS = 6.0
CREDIT_MONTHS = 12.0

# --------------------------------------------------------------------------
# US contractors (assumptions)
# --------------------------------------------------------------------------

NEWCOMER = "Anduril"
NEWCOMER_QUALITY_GAP = 0.05
NEWCOMER_PRICE = 0.85
NEWCOMER_BUILD = 12
# Shares of each US category's capacity by firm. "RTX aircraft" is the US
# Engines share of aircraft+engines (SIPRI, computed below); the rest of
# aircraft is split LM/Boeing/NG.
AIRCRAFT_SPLIT = {"Lockheed Martin": 0.55, "Boeing": 0.30, "Northrop Grumman": 0.15}
US_SHARES = {
    "missiles": {"Lockheed Martin": 0.40, "RTX": 0.45, "Northrop Grumman": 0.12, NEWCOMER: 0.03},
    "air_defence": {"RTX": 0.60, "Lockheed Martin": 0.37, NEWCOMER: 0.03},
    "armour": {"General Dynamics": 1.0},
    "naval": {"General Dynamics": 1.0},
    "artillery": {"General Dynamics": 1.0},
}
US_SHARE_WHY = {
    "aircraft": ("RTX (Pratt & Whitney engines) = SIPRI US Engines share of aircraft+engines; the rest "
                 "Lockheed Martin 55% (F-35, F-16, C-130J), Boeing 30% (F-15, AH-64, CH-47, P-8, KC-46), "
                 "Northrop Grumman 15% (E-2D, RQ-4, F-35 centre fuselage) (assumption)"),
    "missiles": ("RTX 45% (AMRAAM, Standard, Tomahawk, Stinger, Javelin JV), Lockheed Martin 40% (PAC-3, GMLRS, "
                 "JASSM/LRASM, Hellfire, Javelin JV), Northrop Grumman 12% (AARGM-ER, motors), Anduril 3% "
                 "(assumption; [FACT] tactical missiles went from 13 to 3 suppliers, DoD 2022)"),
    "air_defence": ("RTX 60% (Patriot fire units and radars, LTAMDS, NASAMS, sensors), Lockheed Martin 37% "
                    "(THAAD, Sentinel A4, sensors), Anduril 3% (assumption)"),
    "armour": "General Dynamics 100% (Abrams, Stryker); stands in for the whole US armour base (assumption)",
    "naval": ("General Dynamics 100% (Bath, NASSCO, Electric Boat); stands in for the US naval base incl. HII "
              "(assumption; [FACT] surface ships went from 8 to 2 suppliers, DoD 2022)"),
    "artillery": "General Dynamics 100% (GD-OTS); stands in for the US artillery base incl. BAE Systems US (assumption)",
}
US_FIRMS = ["Lockheed Martin", "RTX", "Boeing", "General Dynamics", "Northrop Grumman", NEWCOMER]
US_FIRM_NOTE = {
    "Lockheed Martin": "prime: aircraft, missiles, air defence",
    "RTX": "prime: missiles, air defence, aircraft engines (Pratt & Whitney)",
    "Boeing": "prime: aircraft",
    "General Dynamics": "prime: armour, naval, artillery",
    "Northrop Grumman": "prime: aircraft, missiles",
    NEWCOMER: "newcomer: missiles and air defence at small scale, slightly lower quality and price",
}

# --------------------------------------------------------------------------
# Allies (assumptions)
# --------------------------------------------------------------------------

BETAS = [
    ("beta_quality", 3.0),
    ("beta_price", 1.0),
    ("beta_time", 1.0),
    ("beta_uncertainty", 0.5),
    ("beta_alignment", 3.0),
]
PATIENCE = 1.5
ADVANCE_SHARE = 0.2
ALIGN_FLOOR = 0.2
ALIGN_SPAN = 0.8

EU_EMBARGO_CHINA = ["France", "Germany", "Italy", "Spain", "Netherlands"]
RUSSIA_CHINA = ["Russia", "China"]
RENAME_IMPORTER = {"NATO**": "NATO"}

MIN_LINE_SHARE = 0.01


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def num(x: float, nd: int = 2) -> str:
    """A TOML float with at most nd decimals, always with a decimal point."""
    v = round(float(x), nd)
    if v == 0:
        v = 0.0
    s = repr(v)
    if "e" in s or "E" in s:
        s = f"{v:.{nd}f}"
    if "." not in s:
        s += ".0"
    return s


def key(name: str) -> str:
    """A TOML key: bare when possible, else quoted."""
    if name and all(c.isalnum() and c.isascii() or c in "_-" for c in name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def qstr(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def inline(table: dict[str, float], order: list[str], nd: int) -> str:
    return "{ " + ", ".join(f"{key(k)} = {num(table[k], nd)}" for k in order if k in table) + " }"


def rounded_shares(shares: dict[str, float], order: list[str], nd: int = 4) -> dict[str, float]:
    """Round shares to nd decimals so they still sum to 1 (largest absorbs the residual)."""
    r = {c: round(shares[c], nd) for c in order}
    big = max(order, key=lambda c: r[c])
    r[big] = round(r[big] + (1.0 - sum(r.values())), nd)
    return r


NOTES_MARKER = "\x00notes"


def wrap_comment(text: str, width: int = 100) -> list[str]:
    """A '# - ' bullet wrapped to width, continuation lines indented."""
    words, lines, cur = text.split(), [], "# -"
    for wd in words:
        if len(cur) + 1 + len(wd) > width and cur not in ("# -", "#  "):
            lines.append(cur)
            cur = "#  "
        cur += " " + wd
    lines.append(cur)
    return lines


def wrap_long(lines: list[str], width: int = 110) -> list[str]:
    """Wrap full-line comments longer than width; continuation keeps the indent + 2."""
    res = []
    for line in lines:
        if not line.startswith("#") or len(line) <= width:
            res.append(line)
            continue
        body = line[1:]
        ind = len(body) - len(body.lstrip(" "))
        lead = "#" + " " * ind
        cont = lead + "  "
        cur = lead.rstrip(" ") if ind == 0 else lead
        first = True
        for wd in body.split():
            sep = "" if cur in (lead, cont) else " "
            if len(cur) + len(sep) + len(wd) > width and cur not in (lead, cont):
                res.append(cur)
                cur, sep = cont, ""
            cur += sep + wd
        res.append(cur)
    return res


def fail(msg: str) -> None:
    sys.exit(f"make_baseline: error: {msg}")


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------

class Data:
    def __init__(self, d: Path):
        self.dir = d
        self.notes: list[str] = []
        self.shares = read_csv(d / "sipri_exporter_shares.csv")
        self.annual = read_csv(d / "sipri_exporter_annual.csv")
        self.importers = read_csv(d / "sipri_importers_2020_2024.csv")
        self.dyads = read_csv(d / "sipri_dyads_2020_2024.csv")
        self.cats = read_csv(d / "sipri_categories_2020_2024.csv")
        self.regions = read_csv(d / "sipri_regions_2020_2024.csv")

        w = [r for r in self.shares if r["window"] == WINDOW]
        self.exp_tiv = {r["exporter"]: float(r["tiv_millions"]) for r in w}
        named = sorted((r for r in w if r["exporter"] != OTHERS),
                       key=lambda r: -float(r["tiv_millions"]))
        self.top12 = [r["exporter"] for r in named[:12]]
        self.merged = [r["exporter"] for r in named[12:]]  # Poland, Sweden, Norway
        if self.top12 != EXPECTED_TOP12:
            fail(f"12 largest exporters {self.top12} differ from the expected {EXPECTED_TOP12}; "
                 "update the per-exporter assumptions")
        self.exporters = self.top12 + [OTHERS]
        self.model_tiv = {e: self.exp_tiv[e] for e in self.top12}
        self.model_tiv[OTHERS] = sum(self.exp_tiv[e] for e in self.merged) + self.exp_tiv[OTHERS]

        # Category mixes mapped to six categories.
        raw: dict[str, dict[str, float]] = {}
        for r in self.cats:
            raw.setdefault(r["exporter"], {})[r["category"]] = float(r["tiv_millions"])
        self.cat_raw = raw
        self.mix: dict[str, dict[str, float]] = {}
        for e, cs in raw.items():
            unknown = set(cs) - set(SIPRI_TO_CAT) - SPREAD
            if unknown:
                fail(f"unknown SIPRI categories for {e}: {sorted(unknown)}")
            m = {c: 0.0 for c in CATEGORIES}
            for sc, v in cs.items():
                if sc in SIPRI_TO_CAT:
                    m[SIPRI_TO_CAT[sc]] += v
            tot = sum(m.values())
            self.mix[e] = {c: m[c] / tot for c in CATEGORIES}  # Other+Satellites pro rata
        self.world_total = sum(raw["World"].values())
        self.spread_notes = []
        for e, cs in raw.items():
            o = sum(v for k, v in cs.items() if k in SPREAD)
            t = sum(cs.values())
            if o / t >= 0.02:
                self.spread_notes.append(f"{e} {100 * o / t:.1f}%")

        self.importer_rows = self.importers[:]
        self.named = [r for r in self.importers if not r["importer"].startswith("Others")]
        self.region_rows = self.regions

        # Dyads aggregated to model exporters.
        self.dyad: dict[str, dict[str, float]] = {}
        for r in self.dyads:
            e = r["exporter"]
            if e in self.top12:
                me = e
            elif e in self.merged or e == OTHERS:
                me = OTHERS
            else:
                fail(f"dyads: unknown exporter {e!r}")
            d_ = self.dyad.setdefault(r["importer"], {})
            d_[me] = d_.get(me, 0.0) + float(r["tiv_millions"])
        self.checks()

    def checks(self) -> None:
        n = self.notes
        if self.spread_notes:
            n.append("'Other'+'Satellites' spread pro rata over the six categories is large for: "
                     + ", ".join(self.spread_notes) + ".")
        tot_w = sum(self.exp_tiv.values())
        n.append(f"sipri_exporter_shares.csv 2020-24 sums to {tot_w:.1f} TIV; "
                 f"sipri_categories World sums to {self.world_total:.1f} TIV.")
        for e in self.top12 + self.merged:
            ct = sum(self.cat_raw.get(e, {}).values())
            if abs(ct - self.exp_tiv[e]) > 1.0:
                n.append(f"categories total of {e} ({ct:.1f}) differs from its 2020-24 exports ({self.exp_tiv[e]:.1f}).")
        for e in self.top12:
            s = sum(float(r["tiv_millions"]) for r in self.annual
                    if r["exporter"] == e and 2020 <= int(r["year"]) <= 2024)
            if abs(s - self.exp_tiv[e]) > 1.0:
                n.append(f"annual 2020-24 sum of {e} ({s:.1f}) differs from the window ({self.exp_tiv[e]:.1f}).")
        for r in self.named:
            i = r["importer"]
            s = sum(self.dyad.get(i, {}).values())
            if abs(s - float(r["tiv_millions"])) > 1.0:
                n.append(f"dyads of {i} sum to {s:.1f}, importer total {float(r['tiv_millions']):.1f}.")
            if i not in self.dyad:
                n.append(f"importer {i} has no dyads.")
        for rr in self.region_rows:
            reg = rr["region"]
            s = sum(float(r["tiv_millions"]) for r in self.named if r["region"] == reg)
            if abs(s - float(rr["tiv_named_top60"])) > 1.0:
                n.append(f"named importers of {reg} sum to {s:.1f}, regions file says {rr['tiv_named_top60']}.")
        rest = sum(float(r["tiv_rest_of_region"]) for r in self.region_rows)
        allr = sum(float(r["tiv_millions_all_recipients"]) for r in self.region_rows)
        oth = [r for r in self.importers if r["importer"].startswith("Others")]
        if oth:
            o = float(oth[0]["tiv_millions"])
            n.append(f"rest-of-region aggregates sum to {rest:.1f} TIV but importers' "
                     f"'{oth[0]['importer']}' is {o:.1f}: {o - rest:.1f} TIV of imports "
                     "(presumably unknown or non-state recipients) belong to no region and are left out.")
        n.append(f"regions' all-recipient total {allr:.1f} TIV vs world {self.world_total:.1f} TIV "
                 f"(difference {self.world_total - allr:.1f}, same unassigned imports).")


# --------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------

def embargo_rules(exporter: str, imp: dict[str, str]) -> str | None:
    i = imp["importer"]
    if i == exporter:
        return "own nation"
    if i == "China" and exporter == "United States":
        return "US arms embargo on China"
    if i == "China" and exporter in EU_EMBARGO_CHINA:
        return "EU arms embargo on China"
    if i == "China" and exporter == "United Kingdom":
        return "UK arms embargo on China"
    if exporter in RUSSIA_CHINA and imp.get("nato_2024") == "yes":
        return "no sales to NATO members"
    if exporter in RUSSIA_CHINA and i == "Ukraine":
        return "no sales to Ukraine"
    return None


def alignment_from(supp: dict[str, float], exporters: list[str]) -> tuple[dict[str, float], str, float]:
    top = max(exporters, key=lambda e: (supp.get(e, 0.0), -exporters.index(e)))
    mx = supp.get(top, 0.0)
    a = {e: ALIGN_FLOOR + ALIGN_SPAN * (supp.get(e, 0.0) / mx if mx > 0 else 0.0) for e in exporters}
    return a, top, mx


def build(data: Data, cal: dict) -> tuple[str, dict]:
    exporters = data.exporters
    quality = cal.get("quality", {})
    bfac = cal.get("budget_factor", {})
    u0 = cal.get("outside_utility")
    if u0 is None:
        fail("calibration: `outside_utility` missing")
    for e in exporters:
        if e not in quality:
            fail(f"calibration: [quality] has no entry for {e!r}")
        if not 0.0 <= quality[e] <= 1.0:
            fail(f"calibration: quality of {e!r} outside [0, 1]")
    regions = [r["region"] for r in data.region_rows]
    for reg in regions:
        if reg not in bfac:
            fail(f"calibration: [budget_factor] has no entry for {reg!r}")
    extra = (set(quality) - set(exporters)) | (set(bfac) - set(regions))
    if extra:
        fail(f"calibration: unknown keys {sorted(extra)}")

    world_mix = data.mix["World"]
    summary: dict = {"notes": list(data.notes)}
    out: list[str] = []
    w = out.append

    # ---------------- US volumes ----------------
    us_exp_month = data.model_tiv[FOCAL] / WINDOW_MONTHS
    us_mix = data.mix[FOCAL]
    us_export_c = {c: us_exp_month * us_mix[c] for c in CATEGORIES}
    us_dom_c = {c: 2.0 * us_export_c[c] for c in CATEGORIES}
    us_xf = cal.get("focal_export_capacity_factor")
    if us_xf is None:
        fail("calibration: `focal_export_capacity_factor` missing")
    us_cap_c = {c: us_dom_c[c] + us_xf * us_export_c[c] for c in CATEGORIES}
    us_raw = data.cat_raw[FOCAL]
    rtx_air = us_raw.get("Engines", 0.0) / (us_raw.get("Aircraft", 0.0) + us_raw.get("Engines", 0.0))
    shares = {"aircraft": {"RTX": rtx_air}}
    for f, s in AIRCRAFT_SPLIT.items():
        shares["aircraft"][f] = (1.0 - rtx_air) * s
    shares.update(US_SHARES)
    for c in CATEGORIES:
        if abs(sum(shares[c].values()) - 1.0) > 1e-9:
            fail(f"US firm shares of {c} do not sum to 1")

    # ---------------- capex anchor ----------------
    plant_mid = sum(SHELL_PLANT_BN) / 2 * 1000.0  # US$ M
    rounds_mid = sum(SHELL_ROUNDS_PER_YEAR) / 2
    output_month = rounds_mid * SHELL_PRICE_USD / 1e6 / 12.0  # US$ M a month
    shell_months = plant_mid / output_month

    # ---------------- header ----------------
    wm = rounded_shares(world_mix, CATEGORIES)
    w("# scenarios/baseline.toml -- GENERATED by scenarios/tools/make_baseline.py; do not edit by hand.")
    w("# Regenerate: python3 scenarios/tools/make_baseline.py   (see scenarios/tools/README.md)")
    w("#")
    w("# The status-quo world arms market from January 2020 (month 0), calibrated to")
    w("# SIPRI 2020-24 (docs/model.md s.8). Sources, cited per number below:")
    w("#   [SIPRI] data/sipri/*.csv: SIPRI Arms Transfers Database (c) SIPRI, trade register")
    w("#           generated 12 Feb 2026, deliveries 2020-24, TIV in millions.")
    w("#   [FACT]  a fact of data/sipri/README.md, with the source it cites.")
    w("#   assumption: <reason>   a modelling choice, not data.")
    w(f"#   {CAL_NOTE}")
    w("#")
    w("# Derivation")
    w("# - Categories. SIPRI categories map to six: Aircraft+Engines -> aircraft;")
    w("#   Air-defence systems+Sensors -> air_defence; Missiles -> missiles; Armoured")
    w("#   vehicles -> armour; Ships+Naval weapons -> naval; Artillery -> artillery;")
    w("#   Other+Satellites are spread pro rata over the six (sipri_categories_2020_2024.csv).")
    w("# - Exporters. The 12 largest of sipri_exporter_shares.csv 2020-24 plus 'Others'")
    w(f"#   (= {', '.join(data.merged)} and SIPRI Others: {data.model_tiv[OTHERS]:.1f} TIV).")
    w("#   Only the United States has domestic demand: the competitor agents hold only")
    w("#   their exporter's export industry (docs/model.md s.3). US domestic demand = 2 x US")
    w(f"#   exports ({data.model_tiv[FOCAL]:.1f} TIV / 60 months = {us_exp_month:.2f} TIV/month),")
    w("#   from [FACT] 'US export share of primes' output roughly 25-35%' (firm reports),")
    w("#   i.e. exports ~1/3 of output; split by the US category mix.")
    w("# - Supplier lines. US capacity of a category = domestic demand + exports a month")
    w("#   (assumption: saturated; docs/model.md s.8 requires US lines at >= 90% of capacity),")
    w("#   split among the US firms that make it (shares stated per supplier). Each")
    w("#   competitor has one high-tier line per category with >= 1% of its SIPRI mix")
    w("#   (mapped to six, renormalised over the kept categories so the lines hold all")
    w("#   of its exports); capacity = its 2020-24 exports / 60 months x that share.")
    w("#   'Others' uses the World mix. Line quality is calibrated per exporter.")
    w(f"#   Price index: assumption, {num(REF_PRICE, 1)} US$ M per TIV for the US (see [[exporters]]")
    w("#   block), others as a ratio to it. Only ratios enter choice (beta_p ln p).")
    w(f"#   Owners' cash = {CASH_MONTHS:g} months and credit_limit = {CREDIT_MONTHS:g} months of revenue at")
    w("#   capacity x price index (assumption: liquidity of about half a year's sales, borrowing")
    w("#   of about a year's).")
    w("# - Allies. One per importer of sipri_importers_2020_2024.csv (60 named; 'NATO**',")
    w("#   the organisation as recipient, is named 'NATO'), plus 'Rest of <region>' per SIPRI")
    w("#   region holding tiv_rest_of_region of sipri_regions_2020_2024.csv.")
    w("#   import_budget (TIV/year at threat 1) = 2020-24 TIV / 5 x budget_factor[region] (calibrated).")
    w("#   mix = World category mix mapped to six, the same for every ally (assumption: SIPRI gives")
    w("#   no per-importer category data here): "
      + ", ".join(f"{c} {wm[c]:.4f}" for c in CATEGORIES) + ".")
    w(f"#   alignment a(e,i) = {ALIGN_FLOOR} + {ALIGN_SPAN} x TIV i received from e / TIV i received from its")
    w("#   largest supplier among the 13 model exporters (sipri_dyads_2020_2024.csv; the dyads'")
    w(f"#   {', '.join(data.merged)} and Others count as 'Others'). Rest-of-region aggregates use")
    w("#   their region's named importers' summed (TIV-weighted) dyads. a = 0 (never eligible) where")
    w("#   a political fact rules sales out: US, EU (France, Germany, Italy, Spain, Netherlands) and")
    w("#   UK arms embargoes on China; Russia and China do not sell to NATO members (nato_2024 = yes)")
    w("#   or Ukraine; and an ally never buys from its own nation.")
    w("#   Choice weights, the same for all allies (assumptions): beta_quality 3 and beta_alignment 3")
    w("#   (quality and political alignment dominate: a full alignment step outweighs the price gap")
    w("#   between the dearest and cheapest exporters); beta_price 1 (utility per log-unit of price);")
    w("#   beta_time 1 (one utility unit per year of quoted wait); beta_uncertainty 0.5 (a year of")
    w("#   spread weighs half a year of wait). patience 1.5 (docs/model.md default: an unstarted order is")
    w("#   at risk of cancellation once 50% overdue). advance_share 0.2 (assumption: FMS cases and")
    w("#   most direct sales collect an initial deposit on signature, ~20% of the price).")
    w("#")
    w("# Data notes (checks run by the generator):")
    w(NOTES_MARKER)
    w("")

    # ---------------- top level ----------------
    w('name = "baseline"')
    w('description = "Status quo world arms market 2020-2035, calibrated to SIPRI 2020-24 deliveries; '
      'generated by scenarios/tools/make_baseline.py"')
    w("start_year = 2020     # docs/model.md s.8: month 0 = January 2020")
    w("months = 192          # assumption: 16 reported years (2020-2035) covering the 5-20 year questions of docs/model.md s.1 and the 2030-34 drift check of s.8")
    w("warmup_months = 120   # docs/model.md s.4 default: 10 years for capacity, backlogs and reputations to settle")
    w(f'focal_exporter = "{FOCAL}"')
    w("")

    # ---------------- model ----------------
    w("# Global mechanism parameters: all at the docs/model.md s.4 defaults.")
    w("[model]")
    model = [
        ("threat_persistence", "0.98", "docs/model.md s.4 step 1 default r"),
        ("threat_sd", "0.05", "docs/model.md s.4 step 1 default s"),
        ("margin", "0.1", "docs/model.md s.4 step 7 default"),
        ("cancel_prob", "0.1", "docs/model.md s.4 step 8 default"),
        ("reputation_weight", "0.05", "docs/model.md s.4 step 9 default lambda"),
        ("invest_threshold_months", "18.0", "docs/model.md s.4 step 10 default"),
        ("target_backlog_months", "12.0", "docs/model.md s.4 step 10 default"),
        ("max_growth", "0.25", "docs/model.md s.4 step 10 default"),
        ("factory_lead_months", "36", "docs/model.md s.4 step 10 default; [FACT] new plants 2-3+ years to rated output"),
        ("decline_backlog_months", "3.0", "docs/model.md s.4 step 10: idle below 3 backlog months"),
        ("decline_after_months", "12", "docs/model.md s.4 step 10: 12 idle months in a row"),
        ("decline_rate", "0.01", "docs/model.md s.4 step 10: 1% of capacity a month"),
        ("invest_every_months", "3", "docs/model.md s.4 step 10: (t + warmup) mod 3 = 0"),
        ("min_foreign_share", "0.05", "docs/model.md s.4 step 2: foreign capacity at least 0.05 x K"),
    ]
    for k, v, why in model:
        w(f"{k} = {v}  # {why}")
    w("")

    # ---------------- categories ----------------
    w("# ---------------------------------------------------------------- categories")
    w(f"# capex_per_unit = M months of the new capacity's output value at the US price index ({num(REF_PRICE, 1)} US$ M/TIV).")
    w(f"# Anchor [FACT]: greenfield 155 mm plant US$0.3-0.6 bn for 200-350k rounds/year; midpoint US${plant_mid:.0f} M")
    w(f"# for {rounds_mid:,.0f} rounds/year at an assumed US${SHELL_PRICE_USD:,.0f}/round = US${output_month:.1f} M of output a month,")
    w(f"# so the plant costs {shell_months:.1f} months of output (range over the fact's bounds and US$4-8k/round: ~1-9).")
    w("# Platforms are more capital-intensive: assumption 12-36 months of output value.")
    for c in CATEGORIES:
        size, size_why = PROGRAM_SIZE[c]
        months, cwhy = CAPEX_MONTHS[c]
        cwhy = cwhy.format(shell=shell_months)
        w("")
        w("[[categories]]")
        w(f'name = "{c}"')
        w(f"program_size_mean = {num(size, 1)}  # assumption: order of magnitude of one SIPRI deal's TIV: {size_why}")
        w(f"program_size_sigma = {num(PROGRAM_SIGMA, 1)}  # assumption: lognormal shape 1 (deal sizes span about an order of magnitude)")
        w(f"capex_per_unit = {num(months * REF_PRICE, 1)}  # {num(months, 1)} months x {num(REF_PRICE, 1)} US$ M/TIV: assumption: {cwhy}")
        w(f"delivery_span_months = {num(DELIVERY_SPAN, 1)}  # docs/model.md s.3 default: a programme is built and delivered over about two years")
    w("")

    # ---------------- exporters ----------------
    w("# ---------------------------------------------------------------- exporters")
    w("# Order: SIPRI 2020-24 share order (sipri_exporter_shares.csv), then the aggregate Others.")
    w(f"# approval_cv {APPROVAL_CV} for all: {APPROVAL_CV_WHY}.")
    w("# domestic_priority true for all: docs/model.md s.3 default; [FACT] rated DoD orders (DPAS) are filled before")
    w("# unrated ones; Switzerland's 2022 Patriot order was pushed back at least 5 years.")
    for e in exporters:
        p = dict(DEFAULT_WHY)
        p.update(EXP[e])
        w("")
        w("[[exporters]]")
        w(f"name = {qstr(e)}")
        if e == OTHERS:
            w(f"# aggregate of {', '.join(data.merged)} and SIPRI Others ({data.model_tiv[OTHERS]:.1f} TIV in 2020-24)")
        w(f"approval_mean_months = {num(p['appr'], 1)}  # {p['appr_why']}")
        w(f"approval_cv = {num(APPROVAL_CV, 2)}  # assumption (see block comment)")
        w(f"deny_base = {num(p['deny'], 2)}  # {p.get('deny_why') or DENY_WHY[p['deny']]}")
        w(f"export_variant_delay_months = {num(p['var'], 1)}  # {p['var_why']}")
        w("domestic_priority = true")
        if e == FOCAL:
            dd = {c: us_dom_c[c] for c in CATEGORIES}
            w(f"# 2 x US exports by category: {data.model_tiv[FOCAL]:.1f} TIV / 60 months x US mix (SIPRI")
            w("# sipri_categories_2020_2024.csv, mapped to six) x 2 ([FACT] exports ~25-35% of primes' output).")
            w(f"# Total {sum(dd.values()):.2f} TIV/month.")
            w(f"domestic_demand = {inline(dd, CATEGORIES, 2)}  # TIV/month, see comment above")
        else:
            w("domestic_demand = {}  # competitor agents hold only their export industry (docs/model.md s.3)")
    w("")

    # ---------------- suppliers ----------------
    w("# ---------------------------------------------------------------- suppliers")
    w("# US contractors (kind contractor). US capacity per category = domestic demand + exports a month")
    w("# (assumption: saturated, docs/model.md s.8), TIV/month:")
    for c in CATEGORIES:
        w(f"#   {c}: {us_dom_c[c]:.2f} + {us_export_c[c]:.2f} = {us_cap_c[c]:.2f}")
    w("# split among firms (assumption):")
    for c in CATEGORIES:
        w(f"#   {c}: {US_SHARE_WHY[c]}")
    w(f"#   RTX aircraft share = US Engines {us_raw.get('Engines', 0):.1f} / (Aircraft {us_raw.get('Aircraft', 0):.1f} + Engines) = {rtx_air:.4f} (SIPRI).")
    w(f"# US price index {num(REF_PRICE, 1)} US$ M per TIV: {EXP[FOCAL]['price_why']}; US build_months 18: {EXP[FOCAL]['build_why']}.")
    w(f"# {NEWCOMER}: quality = calibrated US quality - {NEWCOMER_QUALITY_GAP} (assumption: fewer fielded systems), price")
    w(f"# {NEWCOMER_PRICE} x US (assumption: lower-cost, attritable designs), build_months {NEWCOMER_BUILD} (assumption: commercial-style")
    w("# serial production of smaller systems).")
    caps: dict[str, float] = {}
    us_q = quality[FOCAL]

    def owner_block(name: str, exporter: str, kind: str, lines: list[dict], note: str) -> None:
        rev = sum(l["capacity"] * l["price"] for l in lines)
        w("")
        w("[[suppliers]]")
        w(f"name = {qstr(name)}  # {note}")
        w(f"exporter = {qstr(exporter)}")
        w(f'kind = "{kind}"')
        w(f"cash = {num(CASH_MONTHS * rev, 1)}  # assumption: {CASH_MONTHS:g} months of revenue at capacity ({rev:.1f} US$ M/month)")
        w(f"credit_limit = {num(CREDIT_MONTHS * rev, 1)}  # assumption: {CREDIT_MONTHS:g} months of revenue at capacity")
        for l in lines:
            w("")
            w("[[suppliers.lines]]")
            w(f'category = "{l["category"]}"')
            w('tier = "high"')
            w(f"capacity = {num(l['capacity'], 2)}  # TIV/month: {l['cap_why']}")
            w(f"quality = {num(l['quality'], 3)}  # {l['q_why']}")
            w(f"price_index = {num(l['price'], 2)}  # US$ M per TIV: {l['p_why']}")
            w(f"build_months = {l['build']}  # {l['b_why']}")
        caps[exporter] = caps.get(exporter, 0.0) + sum(l["capacity"] for l in lines)

    for firm in US_FIRMS:
        lines = []
        for c in CATEGORIES:
            s = shares[c].get(firm)
            if not s:
                continue
            newcomer = firm == NEWCOMER
            lines.append(dict(
                category=c,
                capacity=us_cap_c[c] * s,
                cap_why=(f"US {c} capacity {us_cap_c[c]:.2f} = domestic {us_dom_c[c]:.2f} + exports {us_export_c[c]:.2f}"
                         f" x {num(us_xf, 3)} ({CAL_NOTE}), x {firm} share {s:.4f} (see block comment)"),
                quality=(us_q - NEWCOMER_QUALITY_GAP) if newcomer else us_q,
                q_why=(f"{CAL_NOTE}: United States {num(us_q, 3)} - {NEWCOMER_QUALITY_GAP} newcomer step (assumption)"
                       if newcomer else f"{CAL_NOTE}: United States"),
                price=REF_PRICE * (NEWCOMER_PRICE if newcomer else 1.0),
                p_why=(f"assumption: {NEWCOMER_PRICE} x US reference price" if newcomer
                       else "assumption: US reference price (see header)"),
                build=NEWCOMER_BUILD if newcomer else EXP[FOCAL]["build"],
                b_why=("assumption: newcomer, commercial-style production" if newcomer
                       else "[FACT] Poland's 2022 Abrams order arrived from January 2025 (~30 months), less ~6 months approval and ~6 months export variant"),
            ))
        owner_block(firm, FOCAL, "contractor", lines, US_FIRM_NOTE[firm])

    w("")
    w("# Competitor exporters (kind competitor), one agent per exporter holding its export industry.")
    w("# Line capacity = 2020-24 exports / 60 months x mapped category share, for shares >= 1%, the kept")
    w("# shares renormalised to sum to 1 (SIPRI sipri_exporter_shares.csv x sipri_categories_2020_2024.csv).")
    dropped_notes = []
    for e in exporters[1:]:
        p = dict(DEFAULT_WHY)
        p.update(EXP[e])
        mix = world_mix if e == OTHERS else data.mix[e]
        kept = [c for c in CATEGORIES if mix[c] >= MIN_LINE_SHARE]
        dropped = [c for c in CATEGORIES if 0 < mix[c] < MIN_LINE_SHARE]
        ksum = sum(mix[c] for c in kept)
        if dropped:
            dropped_notes.append(f"{e}: {', '.join(f'{c} {100 * mix[c]:.2f}%' for c in dropped)}")
        month = data.model_tiv[e] / WINDOW_MONTHS
        src = "World mix" if e == OTHERS else f"{e} mix"
        lines = []
        for c in kept:
            share = mix[c] / ksum
            lines.append(dict(
                category=c,
                capacity=month * share,
                cap_why=f"{data.model_tiv[e]:.1f} TIV / 60 x {src} {c} {share:.4f}",
                quality=quality[e],
                q_why=f"{CAL_NOTE}: {e}",
                price=REF_PRICE * p["price"],
                p_why=f"{num(p['price'], 2)} x US: {p['price_why']}",
                build=p["build"],
                b_why=p["build_why"],
            ))
        note = (f"competitor: all of {e}'s exports" if e != OTHERS
                else f"competitor: {', '.join(data.merged)} and SIPRI Others")
        owner_block(e, e, "competitor", lines, note)
    if dropped_notes:
        summary["notes"].append("competitor categories under 1% of the mix get no line (capacity moved pro rata to the kept ones): "
                                + "; ".join(dropped_notes) + ".")
    w("")

    # ---------------- allies ----------------
    w("# ---------------------------------------------------------------- allies")
    w("# Order: sipri_importers_2020_2024.csv order, then the five Rest-of-region aggregates.")
    w("# Betas, patience, advance_share: assumptions, see header. default_alignment 0.2: an exporter not")
    w("# listed (e.g. added by an extending scenario) gets the no-trade floor of the alignment formula.")
    budgets: dict[str, float] = {r: 0.0 for r in regions}
    embargo_log: list[str] = []
    imp_by_name = {r["importer"]: r for r in data.named}

    def ally_block(name: str, region: str, tiv: float, tiv_src: str, align: dict[str, float],
                   align_src: str) -> None:
        f = float(bfac[region])
        b = tiv / WINDOW_YEARS * f
        budgets[region] += b
        w("")
        w("[[allies]]")
        w(f"name = {qstr(name)}")
        w(f"region = {qstr(region)}")
        w(f"import_budget = {num(b, 2)}  # TIV/year: {tiv_src} {tiv:.1f} TIV / 5 years (SIPRI) x budget_factor {region} {num(f, 3)}, {CAL_NOTE}")
        w(f"mix = {inline(wm, CATEGORIES, 4)}  # World mix mapped to six (SIPRI sipri_categories_2020_2024.csv; see header)")
        for k, v in BETAS:
            w(f"{k} = {num(v, 2)}  # assumption (see header)")
        w(f"outside_utility = {num(u0, 3)}  # {CAL_NOTE}")
        w(f"patience = {num(PATIENCE, 2)}  # assumption: docs/model.md default (see header)")
        w(f"advance_share = {num(ADVANCE_SHARE, 2)}  # assumption: deposit on signature (see header)")
        w(f"# alignment: {align_src}")
        w(f"alignment = {inline(align, exporters, 3)}  # a(e,i), see comment above")
        w(f"default_alignment = {num(ALIGN_FLOOR, 2)}  # assumption: no-trade floor (see block comment)")

    for r in data.importer_rows:
        i = r["importer"]
        if i.startswith("Others"):
            continue
        supp = data.dyad.get(i, {})
        a, top, mx = alignment_from(supp, exporters)
        zeros: dict[str, list[str]] = {}
        for e in exporters:
            why = embargo_rules(e, r)
            if why:
                if supp.get(e, 0.0) > 0:
                    embargo_log.append(f"{e} -> {i} {supp[e]:.1f} TIV ({why})")
                a[e] = 0.0
                zeros.setdefault(why, []).append(e)
        src = (f"SIPRI dyads 2020-24, a = 0.2 + 0.8 x TIV from e / {mx:.1f} TIV from {top} (largest)"
               + ("; 0 = " + "; ".join(f"{', '.join(es)} ({why})" for why, es in zeros.items())
                  if zeros else ""))
        name = RENAME_IMPORTER.get(i, i)
        if name != i:
            src += f"; SIPRI name {i!r}"
        ally_block(name, r["region"], float(r["tiv_millions"]), f"sipri_importers_2020_2024.csv {i}", a, src)

    for rr in data.region_rows:
        reg = rr["region"]
        supp: dict[str, float] = {}
        for r in data.named:
            if r["region"] == reg:
                for e, v in data.dyad.get(r["importer"], {}).items():
                    supp[e] = supp.get(e, 0.0) + v
        a, top, mx = alignment_from(supp, exporters)
        src = (f"SIPRI dyads 2020-24 summed over {reg}'s named importers, a = 0.2 + 0.8 x TIV from e / "
               f"{mx:.1f} TIV from {top} (largest); no embargo applies to an aggregate")
        ally_block(f"Rest of {reg}", reg, float(rr["tiv_rest_of_region"]),
                   "sipri_regions_2020_2024.csv tiv_rest_of_region", a, src)
    w("")

    # ---------------- policy ----------------
    w("# ---------------------------------------------------------------- policy")
    w("# Status quo: every lever at its default (docs/model.md s.5); policy scenarios extend this file.")
    w("[policy]")
    w("start_month = 73  # docs/model.md s.8: February 2026, when the 2026 arms-transfer strategy was signed")

    if embargo_log:
        summary["notes"].append("political zeros override observed 2020-24 deliveries: " + "; ".join(embargo_log) + ".")
    notes = []
    for nte in summary["notes"]:
        notes.extend(wrap_comment(nte))
    i = out.index(NOTES_MARKER)
    out[i:i + 1] = notes
    summary["budgets"] = budgets
    summary["capacity"] = caps
    summary["us_capacity"] = us_cap_c
    summary["us_domestic"] = us_dom_c
    return "\n".join(wrap_long(out)) + "\n", summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="SIPRI CSV directory (default <repo>/data/sipri)")
    ap.add_argument("--calibration", type=Path, default=DEFAULT_CALIBRATION, help="calibration TOML")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output scenario file")
    ap.add_argument("--quiet", action="store_true", help="do not print the summary")
    args = ap.parse_args()

    data = Data(args.data.resolve())
    with args.calibration.open("rb") as f:
        cal = tomllib.load(f)
    text, summary = build(data, cal)
    # Self-check: the output parses and every numeric line carries a comment.
    parsed = tomllib.loads(text)
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#") or "=" not in s:
            continue
        value = s.split("=", 1)[1].strip()
        if not value.startswith('"') and any(ch.isdigit() for ch in value) and "#" not in value:
            fail(f"generated line {n} has a number without a comment: {s}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")

    if not args.quiet:
        print(f"wrote {args.out} ({len(parsed['allies'])} allies, {len(parsed['suppliers'])} suppliers)")
        print("import budgets by region (TIV/year at threat 1):")
        for reg, b in summary["budgets"].items():
            print(f"  {reg:18s} {b:10.1f}")
        print(f"  {'total':18s} {sum(summary['budgets'].values()):10.1f}")
        print("line capacity by exporter (TIV/month):")
        for e, c in summary["capacity"].items():
            print(f"  {e:18s} {c:10.2f}")
        print(f"  {'total':18s} {sum(summary['capacity'].values()):10.2f}")
        print("data notes:")
        for nte in summary["notes"]:
            print("  - " + nte)


if __name__ == "__main__":
    main()
