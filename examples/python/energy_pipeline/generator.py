"""Node 1, generate: a week of hourly meter readings for three sites, as energy_data.csv."""

import csv
import hashlib
import os
import random
from datetime import datetime, timedelta, timezone

from danube import artifacts, ctx, progress, secrets, set_result

SITES = ["vienna-plant", "budapest-depot", "belgrade-office"]
BASE_KW = {"vienna-plant": 42.0, "budapest-depot": 18.5, "belgrade-office": 7.25}
DAYS = 7
START = datetime(2026, 1, 5, tzinfo=timezone.utc)


def main() -> None:
    # The meters' API key: a real generator would use it to fetch readings. Only a
    # fingerprint of it is kept, never the value.
    key = secrets.get("energy-meter-key")
    rng = random.Random(2026)
    path = os.path.join(ctx.output_dir or os.getcwd(), "energy_data.csv")
    rows = 0
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["timestamp", "site", "kwh"])
        for day in range(DAYS):
            for hour in range(24):
                at = START + timedelta(days=day, hours=hour)
                for site in SITES:
                    working = 1.6 if 8 <= hour < 18 and at.weekday() < 5 else 1.0
                    kwh = BASE_KW[site] * working * rng.uniform(0.85, 1.15)
                    writer.writerow([at.strftime("%Y-%m-%dT%H:%MZ"), site, f"{kwh:.3f}"])
                    rows += 1
            progress(round(100 * (day + 1) / DAYS), f"day {day + 1} of {DAYS} generated")
    artifacts.upload(path)
    set_result({"rows": rows, "sites": SITES, "keyFingerprint": hashlib.sha256(key.encode()).hexdigest()[:12]})
    print(f"generated {rows} readings for {len(SITES)} sites")


if __name__ == "__main__":
    main()
