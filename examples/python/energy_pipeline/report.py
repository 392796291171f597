"""Node 3, report: analyze's analysis.json as energy_report.csv, largest consumer first."""

import csv
import json
import os

from danube import artifacts, ctx, progress, set_result


def kwh(wh: int) -> str:
    return f"{wh // 1000}.{wh % 1000:03d}"


def main() -> None:
    with open(artifacts.download("analysis.json", from_node="analyze").file) as file:
        sites = json.load(file)
    ranked = sorted(sites.items(), key=lambda item: (-item[1]["total_wh"], item[0]))
    path = os.path.join(ctx.output_dir or os.getcwd(), "energy_report.csv")
    with open(path, "w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["site", "total_kwh", "mean_kwh", "peak_kwh", "peak_at"])
        for name, site in ranked:
            # The mean in whole watt-hours, rounded half up, in integers alone.
            mean_wh = (2 * site["total_wh"] + site["hours"]) // (2 * site["hours"])
            writer.writerow([name, kwh(site["total_wh"]), kwh(mean_wh), kwh(site["peak_wh"]), site["peak_at"]])
    artifacts.upload(path)
    progress(100, "report written")
    set_result({"report": "energy_report.csv", "largest": ranked[0][0], "sites": len(ranked)})
    with open(path) as file:
        print(file.read(), end="")


if __name__ == "__main__":
    main()
