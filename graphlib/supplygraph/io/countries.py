"""Country names and codes to ISO 3166-1 alpha-3, without guessing.

Resolution order for a cell:

1. Normalise the text: Unicode NFKC, curly apostrophes to ``'``, trim, collapse whitespace,
   case-fold.
2. Empty → no country. Digits only → rejected (Comtrade/BACI numeric codes are *not* ISO numeric).
3. Bloc / aggregate codes from :data:`supplygraph.schema.AGGREGATE_COUNTRIES` (``EU``, ``ROW``,
   ``XXX``) and their spelled-out forms ("European Union", "Rest of world", "Other", "Unknown").
4. :data:`AMBIGUOUS` names ("Korea", "Congo", "Virgin Islands", ...) → error listing the
   candidates. "Korea" alone is ambiguous: South Korea is the usual meaning in minerals data, but
   a wrong guess would silently move North Korea's numbers, so the user must say which.
5. The explicit :data:`ALIASES` table (PRC, Burma, UK, Turkey/Türkiye, DRC, "Congo (Kinshasa)",
   Ivory Coast, Swaziland, Russia, Taiwan, Hong Kong ...).
6. Exact :func:`pycountry.countries.lookup` (alpha-2, alpha-3, name, official name, common
   name; case-insensitive). ``"NA"`` is therefore Namibia (``NAM``), never "missing".
7. Anything else → error "unknown country", with close matches offered as hints only. Fuzzy
   matches are never accepted.

Examples
--------
>>> to_iso3("PRC"), to_iso3("NA"), to_iso3("Türkiye"), to_iso3("Congo (Kinshasa)")
('CHN', 'NAM', 'TUR', 'COD')
>>> to_iso3("Korea")
Traceback (most recent call last):
...
supplygraph.errors.InputError: ambiguous country 'Korea': say KOR (South Korea) or PRK (North Korea)
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata

from supplygraph.errors import InputError
from supplygraph.schema import AGGREGATE_COUNTRIES

__all__ = ["ALIASES", "AMBIGUOUS", "country_name", "normalize_key", "to_iso3"]

#: Explicit aliases (keys are normalised with :func:`normalize_key`) → ISO alpha-3 / aggregate.
ALIASES: dict[str, str] = {
    # China and its special administrative regions
    "prc": "CHN",
    "p.r.c.": "CHN",
    "p.r. china": "CHN",
    "pr china": "CHN",
    "people's republic of china": "CHN",
    "peoples republic of china": "CHN",
    "china, people's republic of": "CHN",
    "mainland china": "CHN",
    "china (mainland)": "CHN",
    "hong kong": "HKG",
    "hong kong sar": "HKG",
    "hong kong, china": "HKG",
    "hong kong sar, china": "HKG",
    "china, hong kong sar": "HKG",
    "macau": "MAC",
    "macao sar": "MAC",
    "taiwan": "TWN",
    "chinese taipei": "TWN",
    "taiwan, china": "TWN",
    "republic of china": "TWN",
    "roc": "TWN",
    # Myanmar
    "burma": "MMR",
    "myanmar (burma)": "MMR",
    # United Kingdom, United States
    "uk": "GBR",
    "u.k.": "GBR",
    "great britain": "GBR",
    "britain": "GBR",
    "united kingdom": "GBR",
    "united kingdom of great britain and northern ireland": "GBR",
    "us": "USA",
    "u.s.": "USA",
    "usa": "USA",
    "u.s.a.": "USA",
    "united states of america": "USA",
    "america": "USA",
    # Türkiye
    "turkey": "TUR",
    "türkiye": "TUR",
    "turkiye": "TUR",
    "republic of türkiye": "TUR",
    # Koreas (bare "korea" is in AMBIGUOUS)
    "south korea": "KOR",
    "republic of korea": "KOR",
    "korea, republic of": "KOR",
    "korea, rep.": "KOR",
    "korea, south": "KOR",
    "korea (south)": "KOR",
    "rok": "KOR",
    "north korea": "PRK",
    "dprk": "PRK",
    "democratic people's republic of korea": "PRK",
    "korea, democratic people's republic of": "PRK",
    "korea, dem. people's rep.": "PRK",
    "korea, north": "PRK",
    "korea (north)": "PRK",
    # Congos (bare "congo" is in AMBIGUOUS)
    "drc": "COD",
    "dr congo": "COD",
    "d.r. congo": "COD",
    "congo (kinshasa)": "COD",
    "congo-kinshasa": "COD",
    "democratic republic of the congo": "COD",
    "democratic republic of congo": "COD",
    "congo, dem. rep.": "COD",
    "congo, democratic republic of the": "COD",
    "congo, the democratic republic of the": "COD",
    "zaire": "COD",
    "congo (brazzaville)": "COG",
    "congo-brazzaville": "COG",
    "republic of the congo": "COG",
    "congo, rep.": "COG",
    "congo, republic of the": "COG",
    # Others common in minerals data (USGS, BGS, Comtrade)
    "russia": "RUS",
    "viet nam": "VNM",
    "lao pdr": "LAO",
    "lao people's democratic republic": "LAO",
    "ivory coast": "CIV",
    "cote d'ivoire": "CIV",
    "côte d'ivoire": "CIV",
    "cape verde": "CPV",
    "cabo verde": "CPV",
    "swaziland": "SWZ",
    "eswatini": "SWZ",
    "brunei": "BRN",
    "holland": "NLD",
    "the netherlands": "NLD",
    "czech republic": "CZE",
    "macedonia": "MKD",
    "north macedonia": "MKD",
    "vatican": "VAT",
    "vatican city": "VAT",
    "palestine": "PSE",
    "micronesia": "FSM",
    "bolivia": "BOL",
    "iran": "IRN",
    "syria": "SYR",
    "kyrgyzstan": "KGZ",
    "east timor": "TLS",
    "timor-leste": "TLS",
    "uae": "ARE",
    "u.a.e.": "ARE",
    "emirates": "ARE",
    "saudi arabia": "SAU",
    # Blocs and aggregates (see schema.AGGREGATE_COUNTRIES)
    "eu": "EU",
    "eu27": "EU",
    "eu-27": "EU",
    "eu 27": "EU",
    "european union": "EU",
    "row": "ROW",
    "rest of world": "ROW",
    "rest of the world": "ROW",
    "other": "ROW",
    "others": "ROW",
    "other countries": "ROW",
    "xxx": "XXX",
    "unknown": "XXX",
    "unattributed": "XXX",
}

#: Names that mean more than one country: always an error, with the candidates.
AMBIGUOUS: dict[str, tuple[str, ...]] = {
    "korea": ("KOR", "PRK"),
    "congo": ("COD", "COG"),
    "virgin islands": ("VGB", "VIR"),
}

#: Spelled-out texts that are not countries at all and must not be mapped to one.
NOT_COUNTRIES: dict[str, str] = {
    "world": "a world total is not a country; remove the row or use ROW for the remainder",
    "world total": "a world total is not a country; remove the row or use ROW for the remainder",
    "total": "a total is not a country; remove the row",
    "n/a": "'N/A' is not a country; leave the cell empty or use XXX for unknown",
    "none": "'None' is not a country; leave the cell empty or use XXX for unknown",
    "null": "'null' is not a country; leave the cell empty or use XXX for unknown",
    "nan": "'nan' is not a country; leave the cell empty or use XXX for unknown",
    "-": "'-' is not a country; leave the cell empty or use XXX for unknown",
}

_NAMES_EXTRA = {
    "EU": "European Union",
    "ROW": "Rest of world",
    "XXX": "Unknown",
    "COD": "DR Congo, Kinshasa",
    "COG": "Republic of the Congo, Brazzaville",
    "VGB": "British Virgin Islands",
    "VIR": "US Virgin Islands",
}

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})


def normalize_key(text: str) -> str:
    """Return the lookup key of a country text: NFKC, plain apostrophes, trimmed, case-folded.

    Examples
    --------
    >>> normalize_key("  Côte d’Ivoire ")
    "côte d'ivoire"
    """
    text = unicodedata.normalize("NFKC", str(text)).translate(_QUOTES)
    text = re.sub(r"\s+", " ", text).strip()
    return text.casefold()


def country_name(code: str) -> str:
    """Return a display name for an ISO alpha-3 or aggregate code (the code when unknown).

    Examples
    --------
    >>> country_name("NAM"), country_name("EU")
    ('Namibia', 'European Union')
    """
    if code in _NAMES_EXTRA:
        return _NAMES_EXTRA[code]
    import pycountry

    c = pycountry.countries.get(alpha_3=code)
    if c is None:
        return code
    return getattr(c, "common_name", None) or c.name


@functools.lru_cache(maxsize=1)
def _candidate_names() -> dict[str, str]:
    import pycountry

    out: dict[str, str] = dict(ALIASES)
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            v = getattr(c, attr, None)
            if v:
                out[normalize_key(v)] = c.alpha_3
    return out


@functools.lru_cache(maxsize=4096)
def to_iso3(value: str) -> str:
    """Return the ISO 3166-1 alpha-3 (or aggregate) code of a country name or code.

    Parameters
    ----------
    value
        A country name, ISO alpha-2/alpha-3 code, alias (see :data:`ALIASES`) or aggregate code.

    Returns
    -------
    str
        ``"CHN"``, ``"NAM"``, ... or ``"EU"``/``"ROW"``/``"XXX"``.

    Raises
    ------
    InputError
        Empty text, a numeric code, an ambiguous name (with candidates) or an unknown name (with
        close matches as hints). The message has no location; callers add file/sheet/row.

    Examples
    --------
    >>> [to_iso3(x) for x in ["China", " china ", "CHN", "CN", "Burma", "UK", "DRC", "EU"]]
    ['CHN', 'CHN', 'CHN', 'CHN', 'MMR', 'GBR', 'COD', 'EU']
    """
    raw = "" if value is None else str(value)
    key = normalize_key(raw)
    if not key:
        raise InputError("empty country")
    if key.isdigit():
        raise InputError(
            f"numeric country code '{raw.strip()}' is not accepted (trade-data codes are not "
            "ISO numeric); use ISO alpha-3 such as CHN"
        )
    upper = key.upper()
    if upper in AGGREGATE_COUNTRIES:
        return upper
    if key in NOT_COUNTRIES:
        raise InputError(NOT_COUNTRIES[key])
    if key in AMBIGUOUS:
        options = " or ".join(f"{c} ({country_name(c)})" for c in AMBIGUOUS[key])
        raise InputError(f"ambiguous country '{raw.strip()}': say {options}")
    if key in ALIASES:
        return ALIASES[key]
    import pycountry

    try:
        return pycountry.countries.lookup(key).alpha_3
    except LookupError:
        pass
    names = _candidate_names()
    close = difflib.get_close_matches(key, list(names), n=3, cutoff=0.8)
    hint = ""
    if close:
        hint = " (did you mean " + ", ".join(f"{names[c]} = '{c}'" for c in close) + "?)"
    raise InputError(f"unknown country '{raw.strip()}'{hint}")
