"""Benchmark: filter a full BACI year (~10 M rows) to the rare-earth chain's HS codes.

The issue's target: a full yearly BACI file filtered to the chain's HS codes in <= 15 s and
<= 1 GB. This script

1. ``generate``: writes a synthetic BACI release folder (``BACI_HS22_Y2023_V202501.csv`` with
   ``rows`` rows in the real layout ``t,i,j,k,v,q``: ``k`` zero-padded text drawn from ~5,400
   product codes, ``q`` right-aligned to 15 characters with ~2.3 % ``NA``, ``v`` with three
   decimals; plus ``country_codes_V202501.csv``, ``product_codes_HS22_V202501.csv`` and
   ``Readme.txt``), optionally zipped as CEPII ships it. The numbers are random, not trade data;
   the folder goes to ``benchmarks/out/`` (git-ignored) unless ``-o`` says otherwise.
2. ``time``: runs the engines on that file, each in a fresh child process, and reports the
   median wall time and the peak resident memory (``ru_maxrss`` of the child) of each:

   - ``supplygraph``: :func:`supplygraph.trade.baci.read_baci_year`, the code the CLI runs
     (streamed through pyarrow's CSV reader, batches filtered on ``k`` as they arrive);
   - ``pandas``: ``pandas.read_csv(dtype=str)`` in chunks, filtered per chunk (the baseline);
   - ``pyarrow-full``: read the whole file into one Arrow table, then filter;
   - ``duckdb`` / ``polars``: their CSV scanners with the filter pushed down (only when the
     package is installed; neither is a dependency of supplygraph).

Every engine must return the same rows (checked: row count and the sums of ``v`` and ``q``).

Examples
--------
python benchmarks/trade_baci.py generate --rows 10000000
python benchmarks/trade_baci.py time --repeat 3
python benchmarks/trade_baci.py generate --rows 10000000 --zip && \
    python benchmarks/trade_baci.py time --zip --engines supplygraph
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "out" / "baci_synthetic"
VERSION = "202501"
YEAR = 2023
#: The default map's six-digit codes (enabled or not), as the filter sees them.
CHAIN_CODES = ["253090", "284610", "284690", "280530", "720299", "850511", "850519"]

COUNTRY_HEADER = "country_code,country_name,country_iso2,country_iso3\n"


def _country_rows(n: int) -> list[tuple[int, str, str, str]]:
    import pycountry

    rows = []
    for c in list(pycountry.countries)[:n]:
        code = int(c.numeric)
        if c.alpha_3 == "USA":
            code = 842  # as BACI/Comtrade number it
        rows.append((code, c.name, c.alpha_2, c.alpha_3))
    return rows


def generate(folder: Path, rows: int, seed: int = 7, *, as_zip: bool = False) -> Path:
    """Write a synthetic BACI release with ``rows`` rows for one year; return the data file."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    countries = _country_rows(226)
    with (folder / f"country_codes_V{VERSION}.csv").open("w", encoding="utf-8") as fh:
        fh.write(COUNTRY_HEADER)
        for code, name, iso2, iso3 in countries:
            quoted = f'"{name}"' if "," in name else name
            fh.write(f"{code},{quoted},{iso2},{iso3}\n")
    codes = np.array(sorted({f"{x:06d}" for x in rng.integers(10100, 970600, 5400)}))
    codes = np.unique(np.concatenate([codes, np.array(CHAIN_CODES)]))
    with (folder / f"product_codes_HS22_V{VERSION}.csv").open("w", encoding="utf-8") as fh:
        fh.write("code,description\n")
        for code in codes:
            fh.write(f"{code},synthetic product {code}\n")
    (folder / "Readme.txt").write_text(
        f"BACI\n\nVersion: {VERSION}\n\nRelease Date: 2025 01 15\n\n"
        "Content:\nSYNTHETIC benchmark file, not trade data.\n",
        encoding="utf-8",
    )
    cc = np.array([c[0] for c in countries])
    i = rng.choice(cc, rows)
    j = rng.choice(cc, rows)
    k = rng.choice(codes, rows)
    v_milli = rng.lognormal(7.0, 2.5, rows).astype(np.int64) + 1
    q_milli = rng.lognormal(6.0, 3.0, rows).astype(np.int64) + 1
    na = rng.random(rows) < 0.023

    def decimals(n: np.ndarray) -> pa.Array:
        whole = pc.cast(pa.array(n // 1000), pa.string())
        frac = pc.utf8_lpad(pc.cast(pa.array(n % 1000), pa.string()), 3, "0")
        return pc.binary_join_element_wise(whole, frac, ".")

    q = pc.if_else(pa.array(na), pa.scalar("NA"), decimals(q_milli))
    table = pa.table(
        {
            "t": pa.array(np.full(rows, YEAR)),
            "i": pa.array(i),
            "j": pa.array(j),
            "k": pa.array(k),
            "v": decimals(v_milli),
            "q": pc.utf8_lpad(q, 15, " "),
        }
    )
    data = folder / f"BACI_HS22_Y{YEAR}_V{VERSION}.csv"
    options = pacsv.WriteOptions(quoting_style="none", include_header=False)
    with data.open("wb") as fh:
        fh.write(b"t,i,j,k,v,q\n")
        pacsv.write_csv(table, fh, write_options=options)
    if as_zip:
        archive = folder.with_suffix(".zip")
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for member in sorted(folder.iterdir()):
                zf.write(member, member.name)
        return archive
    return data


# -- engines (each runs in a child process; returns (rows, sum v, sum q)) ----------------------


def _engine_supplygraph(path: Path) -> tuple[int, float, float]:
    from supplygraph.trade.baci import read_baci_year

    table = read_baci_year(path, YEAR, CHAIN_CODES)
    return len(table), float(table["v"].sum()), float(table["q"].sum())


def _engine_pandas(path: Path) -> tuple[int, float, float]:
    import pandas as pd

    keep = set(CHAIN_CODES)
    parts = []
    for chunk in pd.read_csv(
        path, dtype=str, keep_default_na=False, na_values=[], chunksize=1_000_000
    ):
        parts.append(chunk[chunk["k"].isin(keep)])
    df = pd.concat(parts)
    v = pd.to_numeric(df["v"].str.strip())
    q = pd.to_numeric(df["q"].str.strip().replace("NA", None))
    return len(df), float(v.sum()), float(q.sum())


def _engine_pyarrow_full(path: Path) -> tuple[int, float, float]:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    types = {"k": pa.string(), "q": pa.string(), "v": pa.float64()}
    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types))
    table = table.filter(pc.is_in(table["k"], pa.array(CHAIN_CODES)))
    q = pc.cast(
        pc.if_else(
            pc.equal(pc.utf8_trim_whitespace(table["q"]), "NA"),
            None,
            pc.utf8_trim_whitespace(table["q"]),
        ),
        pa.float64(),
    )
    return table.num_rows, float(pc.sum(table["v"]).as_py()), float(pc.sum(q).as_py())


def _engine_duckdb(path: Path) -> tuple[int, float, float]:
    import duckdb

    codes = ", ".join(f"'{c}'" for c in CHAIN_CODES)
    con = duckdb.connect()
    row = con.execute(
        f"""
        SELECT count(*), sum(v), sum(TRY_CAST(NULLIF(trim(q), 'NA') AS DOUBLE))
        FROM read_csv('{path}', header=true,
                      columns={{'t': 'INTEGER', 'i': 'INTEGER', 'j': 'INTEGER',
                                'k': 'VARCHAR', 'v': 'DOUBLE', 'q': 'VARCHAR'}})
        WHERE k IN ({codes})
        """
    ).fetchone()
    assert row is not None
    return int(row[0]), float(row[1]), float(row[2])


def _engine_polars(path: Path) -> tuple[int, float, float]:
    import polars as pl

    lf = pl.scan_csv(path, schema_overrides={"k": pl.Utf8, "q": pl.Utf8, "v": pl.Float64}).filter(
        pl.col("k").is_in(CHAIN_CODES)
    )
    df = lf.select(
        pl.len().alias("n"),
        pl.col("v").sum(),
        pl.col("q").str.strip_chars().replace("NA", None).cast(pl.Float64).sum(),
    ).collect()
    return int(df["n"][0]), float(df["v"][0]), float(df["q"][0])


ENGINES = {
    "supplygraph": _engine_supplygraph,
    "pandas": _engine_pandas,
    "pyarrow-full": _engine_pyarrow_full,
    "duckdb": _engine_duckdb,
    "polars": _engine_polars,
}


def _child(engine: str, path: str) -> None:
    start = time.perf_counter()
    rows, v, q = ENGINES[engine](Path(path))
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "v": v, "q": q, "seconds": seconds, "peak_mb": peak_mb}))


def _available(engine: str) -> bool:
    module = {"duckdb": "duckdb", "polars": "polars"}.get(engine)
    if module is None:
        return True
    import importlib.util

    return importlib.util.find_spec(module) is not None


def time_engines(path: Path, engines: list[str], repeat: int) -> list[dict[str, object]]:
    """Run each engine ``repeat`` times in child processes; return one result row per engine."""
    env = dict(os.environ)
    graphlib = str(HERE.parent / "graphlib")
    env["PYTHONPATH"] = graphlib + os.pathsep + env.get("PYTHONPATH", "")
    results = []
    for engine in engines:
        if not _available(engine):
            results.append({"engine": engine, "note": "not installed"})
            continue
        runs = []
        for _ in range(repeat):
            out = subprocess.run(
                [sys.executable, __file__, "_child", engine, str(path)],
                check=True,
                capture_output=True,
                text=True,
                env=env,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        results.append(
            {
                "engine": engine,
                "rows": runs[0]["rows"],
                "sum_v": round(runs[0]["v"], 3),
                "sum_q": round(runs[0]["q"], 3),
                "median_s": round(statistics.median(r["seconds"] for r in runs), 2),
                "peak_mb": round(max(r["peak_mb"] for r in runs)),
            }
        )
    return results


def _markdown(path: Path, rows: list[dict[str, object]], repeat: int) -> str:
    import platform

    import pyarrow

    base = next((r for r in rows if r.get("engine") == "pandas" and "median_s" in r), None)
    lines = [
        "# BACI year filter: measured times",
        "",
        f"File: `{path.name}` ({path.stat().st_size / 1e6:,.0f} MB), synthetic, generated by "
        "`benchmarks/trade_baci.py generate` (10 M rows in the real layout). Filter: the seven "
        "six-digit chain codes. Each engine runs in a fresh process; median of "
        f"{repeat} runs; peak = the child's maximum resident memory (interpreter included).",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.2f}; Python {platform.python_version()}, pyarrow "
        f"{pyarrow.__version__}. Target: <= 15 s and <= 1 GB.",
        "",
        "| engine | rows kept | median s | peak MB | time vs pandas | target |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "median_s" not in r:
            lines.append(f"| {r['engine']} | | | | | {r.get('note', '')} |")
            continue
        ratio = f"{float(r['median_s']) / float(base['median_s']):.2f}" if base else ""
        met = "met" if float(r["median_s"]) <= 15 and float(r["peak_mb"]) <= 1024 else "not met"
        lines.append(
            f"| {r['engine']} | {r['rows']} | {r['median_s']} | {r['peak_mb']} | {ratio} | {met} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Command line: ``generate``, ``time`` (and the internal ``_child``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    gen = sub.add_parser("generate", help="write a synthetic BACI release")
    gen.add_argument("--rows", type=int, default=10_000_000)
    gen.add_argument("--seed", type=int, default=7)
    gen.add_argument("--zip", action="store_true", help="also write the release as a .zip")
    gen.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT)
    tim = sub.add_parser("time", help="time the engines on a generated release")
    tim.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT)
    tim.add_argument("--repeat", type=int, default=3)
    tim.add_argument("--zip", action="store_true", help="read the zipped release")
    tim.add_argument("--engines", nargs="+", default=list(ENGINES), choices=list(ENGINES))
    tim.add_argument("--report", type=Path, help="also write the results as Markdown here")
    child = sub.add_parser("_child")
    child.add_argument("engine")
    child.add_argument("path")
    args = parser.parse_args(argv)
    if args.cmd == "generate":
        start = time.perf_counter()
        path = generate(args.out, args.rows, args.seed, as_zip=args.zip)
        size = path.stat().st_size / 1e6
        print(f"wrote {path} ({size:,.0f} MB) in {time.perf_counter() - start:.1f} s")
    elif args.cmd == "time":
        if args.zip:
            path = args.out.with_suffix(".zip")
        else:
            path = args.out / f"BACI_HS22_Y{YEAR}_V{VERSION}.csv"
        rows = time_engines(path, args.engines, args.repeat)
        print(f"file: {path} ({path.stat().st_size / 1e6:,.0f} MB), repeat {args.repeat}")
        for row in rows:
            print(json.dumps(row))
        if args.report:
            args.report.write_text(_markdown(path, rows, args.repeat), encoding="utf-8")
    else:
        _child(args.engine, args.path)


if __name__ == "__main__":
    main()
