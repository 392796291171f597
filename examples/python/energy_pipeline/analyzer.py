"""Node 2, analyze: per-site totals, means and peaks of generate's energy_data.csv, as
analysis.json. Energy is counted in whole watt-hours, so every sum is exact."""

import csv
import json
import os

from danube import artifacts, ctx, progress, set_result


def watt_hours(kwh: str) -> int:
    whole, _, fraction = kwh.partition(".")
    return int(whole) * 1000 + int((fraction + "000")[:3])


def main() -> None:
    data = artifacts.download("energy_data.csv", from_node="generate").file
    sites = {}
    with open(data, newline="") as file:
        for row in csv.DictReader(file):
            wh = watt_hours(row["kwh"])
            site = sites.setdefault(row["site"], {"hours": 0, "total_wh": 0, "peak_wh": -1, "peak_at": ""})
            site["hours"] += 1
            site["total_wh"] += wh
            if wh > site["peak_wh"]:
                site["peak_wh"], site["peak_at"] = wh, row["timestamp"]
    progress(80, f"analysed {len(sites)} sites")
    path = os.path.join(ctx.output_dir or os.getcwd(), "analysis.json")
    with open(path, "w") as file:
        json.dump(sites, file, indent=2, sort_keys=True)
    artifacts.upload(path)
    set_result({name: {"total_kwh": s["total_wh"] / 1000} for name, s in sites.items()})
    print(f"analysed {sum(s['hours'] for s in sites.values())} readings")


if __name__ == "__main__":
    main()
