"""Read a CEPII BACI release: yearly bilateral flows ``t,i,j,k,v,q`` and its own code files.

A release is a folder or the zip CEPII ships (``BACI_HS17_V202401b.zip``) holding

- ``BACI_{HS}_Y{year}_V{version}.csv``: one file per year; columns ``t`` (year), ``i``
  (exporter), ``j`` (importer), ``k`` (HS 6-digit product, text), ``v`` (value, thousands of
  current USD, FOB), ``q`` (quantity, metric tonnes; the text ``NA`` when unknown, space-padded);
- ``country_codes_V{version}.csv``: numeric code -> ISO3, in one of two layouts
  (``country_code,country_name,country_iso2,country_iso3`` from V202401 on;
  ``country_code,country_name_abbreviation,country_name_full,iso_2digit_alpha,iso_3digit_alpha``
  up to V202301);
- ``product_codes_{HS}_V{version}.csv`` and ``Readme.txt`` (version and release date).

Rules: columns are found by name; ``k`` stays text (``"010121"`` keeps its zero); ``q`` is
stripped and ``NA`` (or blank) becomes unknown, never zero; countries are mapped only through the
release's own code file (842 is the USA there, not ISO 840; 490 "Other Asia, nes" stays ``S19``
unless the caller maps it), and a code missing from that file is an error. One HS revision per
read: two data files for the same year in different revisions are an error.

Speed: the yearly file (about 10 million rows) is streamed through pyarrow's CSV reader in 4 MB
blocks and every block is filtered on ``k`` as it arrives, so memory stays bounded by the block
size plus the matching rows (``benchmarks/trade_baci.py`` measures it).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from supplygraph.errors import InputError
from supplygraph.trade.files import decode_utf8, open_zip_member, read_bytes, zip_names

if TYPE_CHECKING:
    import pandas as pd

    from supplygraph.trade.hsmap import HSMap
    from supplygraph.trade.records import TradeData

__all__ = [
    "BaciRelease",
    "find_release",
    "read_baci",
    "read_baci_year",
    "read_country_codes",
    "read_readme",
]

_DATA = re.compile(r"BACI_(HS\d\d)_Y(\d{4})_V(\w+)\.csv$", re.IGNORECASE)
_COUNTRIES = re.compile(r"country_codes_V(\w+)\.csv$", re.IGNORECASE)
_README = re.compile(r"readme\.txt$", re.IGNORECASE)
_COLUMNS = ("t", "i", "j", "k", "v", "q")
_NEW_LAYOUT = ("country_code", "country_name", "country_iso2", "country_iso3")
_OLD_LAYOUT = (
    "country_code",
    "country_name_abbreviation",
    "country_name_full",
    "iso_2digit_alpha",
    "iso_3digit_alpha",
)
_BLOCK = 4 * 1024 * 1024
CITATION = (
    "Gaulier, G. and Zignago, S. (2010) BACI: International Trade Database at the Product-Level. "
    "The 1994-2007 Version. CEPII Working Paper, N°2010-23"
)


@dataclass(frozen=True)
class BaciRelease:
    """Where one year of a BACI release lives.

    Attributes
    ----------
    root
        The folder or zip archive.
    data, countries, readme
        Names of the yearly data file, the country-code file and the Readme (None when absent):
        file names in ``root`` (a folder) or member names (a zip).
    hs, year, version
        HS revision (``"HS17"``), data year and release version (``"202401b"``).
    """

    root: Path
    data: str
    countries: str
    readme: str | None
    hs: str
    year: int
    version: str

    @property
    def is_zip(self) -> bool:
        """True when the release is a zip archive."""
        return self.root.is_file()

    def label(self, name: str) -> str:
        """Return how a member is named in messages (``release.zip!member`` or a path)."""
        if self.is_zip:
            return f"{self.root.name}!{name}"
        return str(self.root / name)

    def open(self, name: str) -> IO[bytes]:
        """Open a file of the release for binary reading (zip members within the bomb limits)."""
        if self.is_zip:
            return open_zip_member(self.root, name)
        return (self.root / name).open("rb")

    def text(self, name: str) -> str:
        """Return a (small) file of the release as UTF-8 text."""
        data = read_bytes(self.root, name) if self.is_zip else read_bytes(self.root / name)
        return decode_utf8(data, self.label(name))


def _listing(path: Path) -> tuple[Path, list[str]]:
    if path.is_dir():
        return path, sorted(p.name for p in path.iterdir() if p.is_file())
    if zipfile.is_zipfile(path):
        return path, sorted(zip_names(path))
    return path.parent, sorted(p.name for p in path.parent.iterdir() if p.is_file())


def find_release(path: str | Path, year: int) -> BaciRelease:
    """Locate the data, country-code and Readme files of ``year`` in a BACI release.

    Parameters
    ----------
    path
        A release folder, the release zip, or one yearly data file (its folder is the release).
    year
        The data year.

    Returns
    -------
    BaciRelease

    Raises
    ------
    InputError
        No data file for the year (the message lists the years present), data files of two HS
        revisions or two versions for the year, a data file for another year, or no
        ``country_codes_V*.csv``.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("no such file or folder", file=str(p))
    root, names = _listing(p)
    if p.is_file() and not zipfile.is_zipfile(p):
        m = _DATA.search(p.name)
        if m is None:
            msg = "not a BACI data file (expected a name like BACI_HS17_Y2022_V202401b.csv)"
            raise InputError(msg, file=str(p))
        if int(m.group(2)) != year:
            msg = f"this file holds {m.group(2)}, not {year}"
            raise InputError(msg, file=str(p))
        names = [n for n in names if not _DATA.search(n) or n == p.name]
    data = [(n, _DATA.search(n)) for n in names]
    found = [(n, m) for n, m in data if m is not None]
    if not found:
        msg = "no BACI data file (BACI_HS??_Y????_V*.csv) in this release"
        raise InputError(msg, file=str(p))
    this_year = [(n, m) for n, m in found if int(m.group(2)) == year]
    if not this_year:
        years = ", ".join(sorted({m.group(2) for _, m in found}))
        raise InputError(f"no BACI data file for {year} (years here: {years})", file=str(p))
    revisions = sorted({m.group(1).upper() for _, m in this_year})
    if len(revisions) > 1:
        files = ", ".join(n for n, _ in this_year)
        msg = (
            f"mixed HS revisions for {year}: {', '.join(revisions)} ({files}); "
            "one graph must use one revision, so point to one release"
        )
        raise InputError(msg, file=str(p))
    if len(this_year) > 1:
        files = ", ".join(n for n, _ in this_year)
        msg = f"several versions of the {year} data file ({files}); point to one release"
        raise InputError(msg, file=str(p))
    name, match = this_year[0]
    version = match.group(3)
    codes = [(n, m.group(1)) for n in names if (m := _COUNTRIES.search(n))]
    same = [n for n, v in codes if v.lower() == version.lower()]
    if same:
        countries = same[0]
    elif len(codes) == 1:
        countries = codes[0][0]
    elif codes:
        msg = f"several country-code files and none of version V{version}"
        raise InputError(msg, file=str(p))
    else:
        msg = "no country_codes_V*.csv in this release (countries are mapped only through it)"
        raise InputError(msg, file=str(p))
    readme = next((n for n in names if _README.search(n)), None)
    return BaciRelease(
        root=root,
        data=name,
        countries=countries,
        readme=readme,
        hs=match.group(1).upper(),
        year=year,
        version=version,
    )


def read_readme(text: str) -> dict[str, str]:
    """Return the ``key: value`` lines of a BACI ``Readme.txt`` (``Version``, ``Release Date``).

    Examples
    --------
    >>> read_readme("BACI\\n\\nVersion: 202401b\\n\\nRelease Date: 2024 04 09\\n")
    {'Version': '202401b', 'Release Date': '2024 04 09'}
    """
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("Version", "Release Date", "Weblink") and value.strip():
            out[key.strip()] = value.strip()
    return out


def read_country_codes(text: str, file: str) -> dict[int, tuple[str | None, str]]:
    """Parse a BACI ``country_codes_V*.csv`` in either layout.

    Parameters
    ----------
    text
        The file's text.
    file
        Its name, for messages.

    Returns
    -------
    dict
        Numeric code -> (ISO3 or the release's own alpha code, None when blank; name).

    Raises
    ------
    InputError
        An unknown layout (naming both known ones), a non-numeric or repeated code.

    Examples
    --------
    >>> text = 'country_code,country_name,country_iso2,country_iso3\\n344,"China, Hong Kong SAR",HK,HKG\\n'
    >>> read_country_codes(text, "c.csv")
    {344: ('HKG', 'China, Hong Kong SAR')}
    """
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if all(c in header for c in _NEW_LAYOUT):
        code_col = header.index("country_code")
        name_col = header.index("country_name")
        iso_col = header.index("country_iso3")
    elif all(c in header for c in _OLD_LAYOUT):
        code_col = header.index("country_code")
        name_col = header.index("country_name_full")
        iso_col = header.index("iso_3digit_alpha")
    else:
        msg = (
            f"not a BACI country-code file: columns {', '.join(header) or '(none)'}; expected "
            f"{','.join(_NEW_LAYOUT)} (V202401 on) or {','.join(_OLD_LAYOUT)} (up to V202301)"
        )
        raise InputError(msg, file=file)
    out: dict[int, tuple[str | None, str]] = {}
    width = max(code_col, name_col, iso_col) + 1
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < width:
            raise InputError(f"{len(cells)} fields, fewer than the header's", file=file, row=line)
        raw = cells[code_col].strip()
        if not raw.isdigit():
            raise InputError(
                "country code is not a number",
                file=file,
                row=line,
                column="country_code",
                value=raw,
            )
        code = int(raw)
        if code in out:
            raise InputError(
                f"country code {code} is listed twice", file=file, row=line, column="country_code"
            )
        iso = cells[iso_col].strip().upper() or None
        out[code] = (iso, cells[name_col].strip())
    return out


def _header(fh: IO[bytes], label: str) -> list[str]:
    first = fh.readline(64 * 1024)
    text = decode_utf8(first, label).strip()
    names = [c.strip().strip('"').lower() for c in text.split(",")]
    missing = [c for c in _COLUMNS if c not in names]
    if missing:
        msg = (
            f"not a BACI data file: no column {', '.join(repr(c) for c in missing)} "
            f"(header: {text[:80]!r}; expected t,i,j,k,v,q)"
        )
        raise InputError(msg, file=label)
    return names


def _diagnose(fh: IO[bytes], names: list[str], label: str) -> InputError:
    """Find the first row pyarrow rejected and say what is wrong with it (slow; errors only)."""
    width = len(names)
    fh.readline()
    for row, raw in enumerate(fh, start=2):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            msg = f"not UTF-8 text (byte 0x{raw[exc.start]:02X}); save the file as UTF-8"
            return InputError(msg, file=label, row=row)
        cells = next(csv.reader([line]), [])
        if not cells:
            continue
        if len(cells) != width:
            return InputError(
                f"{len(cells)} fields where the header has {width}", file=label, row=row
            )
        for name in ("t", "i", "j"):
            value = cells[names.index(name)].strip()
            if not value.lstrip("-").isdigit():
                return InputError(
                    "not a whole number", file=label, row=row, column=name, value=value
                )
    return InputError("not a readable CSV table", file=label)


def read_baci_year(path: str | Path, year: int, codes: Iterable[str]) -> pd.DataFrame:
    """Read one year of BACI, keeping only the rows whose product ``k`` is in ``codes``.

    Parameters
    ----------
    path
        A release folder or zip, or the yearly data file.
    year
        The data year.
    codes
        Six-digit HS codes (text) to keep.

    Returns
    -------
    pandas.DataFrame
        ``t``, ``i``, ``j`` (int), ``k`` (text), ``v`` (thousand USD), ``q`` (tonnes; NaN when
        ``NA``) and ``row`` (the line in the file, header = 1).

    Raises
    ------
    InputError
        A missing column, a row that does not parse (row and column named), a year other than
        ``year`` in ``t``, a value or quantity that is not a number or is negative.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "BACI_HS17_Y2022_V202401b.csv").write_text(
    ...     "t,i,j,k,v,q\\n2022,104,156,284690,52000.000,       9000.000\\n"
    ...     "2022,156,842,280530,4500.000,             NA\\n2022,4,8,010121,1.0,1.0\\n")
    >>> _ = (d / "country_codes_V202401b.csv").write_text("country_code,country_name,country_iso2,country_iso3\\n")
    >>> read_baci_year(d, 2022, ["284690", "280530"])[["k", "v", "q", "row"]].values.tolist()
    [['284690', 52000.0, 9000.0, 2], ['280530', 4500.0, nan, 3]]
    """
    release = find_release(path, year)
    return _read_rows(release, list(codes))


def _read_rows(release: BaciRelease, codes: list[str]) -> pd.DataFrame:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    label = release.label(release.data)
    with release.open(release.data) as fh:
        names = _header(fh, label)
    types = {"t": pa.int32(), "i": pa.int32(), "j": pa.int32()}
    types.update({c: pa.string() for c in ("k", "v", "q")})
    value_set = pa.array(sorted(set(codes)), pa.string())
    parts: list[pa.RecordBatch] = []
    rows: list[np.ndarray] = []
    seen = 0
    try:
        with release.open(release.data) as fh:
            reader = pacsv.open_csv(
                fh,
                read_options=pacsv.ReadOptions(
                    column_names=names, skip_rows=1, block_size=_BLOCK, use_threads=True
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=types, include_columns=list(_COLUMNS), strings_can_be_null=False
                ),
            )
            for batch in reader:
                keep = pc.is_in(pc.utf8_trim_whitespace(batch.column("k")), value_set=value_set)
                index = pc.indices_nonzero(keep).to_numpy()
                if len(index):
                    parts.append(batch.filter(keep))
                    rows.append(index + seen + 2)
                seen += batch.num_rows
    except (pa.ArrowInvalid, UnicodeDecodeError):
        with release.open(release.data) as fh:
            raise _diagnose(fh, names, label) from None
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise InputError(f"corrupt or truncated file ({exc})", file=label) from None
    schema = pa.schema([(c, types[c]) for c in _COLUMNS])
    table = pa.Table.from_batches(parts, schema=schema)
    df = table.to_pandas()
    df["row"] = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    df["k"] = df["k"].str.strip()
    bad_year = df["t"] != release.year
    if bad_year.any():
        first = df[bad_year].iloc[0]
        msg = f"year {first['t']} in the data file for {release.year}"
        raise InputError(msg, file=label, row=int(first["row"]), column="t")
    df["v"] = _numbers(df, "v", label, allow_na=False)
    df["q"] = _numbers(df, "q", label, allow_na=True)
    return df.reset_index(drop=True)


def _numbers(df: pd.DataFrame, col: str, label: str, *, allow_na: bool) -> pd.Series:
    import pandas as pd

    text = df[col].astype(str).str.strip()
    unknown = text.eq("") | (text.eq("NA") if allow_na else False)
    values = pd.to_numeric(text.where(~unknown), errors="coerce")
    bad = (values.isna() & ~unknown) | (values < 0)
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        what = "quantity (tonnes)" if col == "q" else "value (thousand USD)"
        msg = f"{what} must be a number >= 0{' or NA' if allow_na else ''}"
        raise InputError(
            msg, file=label, row=int(df["row"].iloc[i]), column=col, value=str(df[col].iloc[i])
        )
    return values.astype(float)


def read_baci(
    path: str | Path,
    year: int,
    hs_map: HSMap | None = None,
    *,
    country_map: Mapping[str, str] | None = None,
) -> TradeData:
    """Read one year of a BACI release as bilateral flows per stage.

    Parameters
    ----------
    path
        A release folder or zip, or the yearly data file.
    year
        The data year.
    hs_map
        HS -> stage map (:func:`supplygraph.trade.hsmap.default_hs_map` when None).
    country_map
        Codes to re-map after the release's own mapping: keys are the release's alpha codes or
        numeric codes (``{"S19": "TWN"}`` or ``{"490": "TWN"}``), values the codes to use.

    Returns
    -------
    TradeData
        Flows in kUSD and tonnes; every importer of the release counts as complete.

    Raises
    ------
    InputError
        As :func:`find_release` and :func:`read_baci_year`, and for a country code in the data
        that the release's code file does not list (or lists without an alpha code).
    """
    import pandas as pd

    from supplygraph.trade.hsmap import default_hs_map
    from supplygraph.trade.records import TradeData, finish_flows

    hs_map = hs_map or default_hs_map()
    release = find_release(path, year)
    codes_label = release.label(release.countries)
    countries = read_country_codes(release.text(release.countries), codes_label)
    overrides = {
        str(k).strip().upper(): str(v).strip().upper() for k, v in (country_map or {}).items()
    }
    df = _read_rows(release, hs_map.codes6())
    iso: dict[int, str] = {}
    for col in ("i", "j"):
        for code in sorted(set(df[col].tolist())):
            if code in iso:
                continue
            entry = countries.get(code)
            row = int(df.loc[df[col] == code, "row"].iloc[0])
            if entry is None:
                msg = f"country code {code} is not in {release.countries}"
                raise InputError(msg, file=release.label(release.data), row=row, column=col)
            alpha = overrides.get(str(code)) or entry[0]
            if alpha is None:
                msg = (
                    f"country code {code} ({entry[1]}) has no alpha code in "
                    f"{release.countries}; map it with a country override ({code}=ISO3)"
                )
                raise InputError(msg, file=release.label(release.data), row=row, column=col)
            iso[code] = overrides.get(alpha, alpha)
    notes: list[str] = []
    records = pd.DataFrame(
        {
            "exporter": df["i"].map(iso),
            "importer": df["j"].map(iso),
            "code": df["k"],
            "value_kusd": df["v"],
            "quantity_t": df["q"],
        }
    )
    self_trade = records["exporter"] == records["importer"]
    if self_trade.any():
        notes.append(
            f"{int(self_trade.sum())} rows whose exporter and importer map to the same country "
            "were left out"
        )
        records = records[~self_trade]
    missing_q = int(records["quantity_t"].isna().sum())
    if missing_q:
        notes.append(f"{missing_q} rows have no quantity (NA): kept with unknown tonnes")
    flows = finish_flows(records, hs_map, year, notes)
    readme: dict[str, str] = {}
    if release.readme is not None:
        readme = read_readme(release.text(release.readme))
    version = readme.get("Version", release.version)
    source = {
        "kind": "BACI",
        "label": f"CEPII BACI {release.hs} V{version}",
        "year": year,
        "hs_revision": release.hs,
        "version": version,
        "release_date": readme.get("Release Date"),
        "files": [release.label(release.data), codes_label],
        "citation": CITATION,
        "licence": "Etalab 2.0 (reuse with attribution)",
        "url": "http://www.cepii.fr/CEPII/en/bdd_modele/bdd_modele_item.asp?id=37",
        "country_map": dict(overrides),
    }
    complete = {overrides.get(a, a) for a, _ in countries.values() if a}
    return TradeData(flows=flows, source=source, complete_importers=complete, notes=notes)
