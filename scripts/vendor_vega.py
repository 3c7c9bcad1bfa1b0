"""Rebuild tracker/serve/static/vega-embed.js, the Vega-Embed bundle Datasette pages load.

The bundle comes from vl-convert (``vl_convert.javascript_bundle``): Vega, Vega-Lite and
Vega-Embed with their dependencies, at the Vega-Lite version altair writes specs for,
so a chart drawn in the browser matches the SVG vl-convert draws for the report. Run it
after upgrading altair or vl-convert-python, then commit the file and the versions in
tracker/serve/static/README.md:

    .venv/bin/python scripts/vendor_vega.py
"""

from __future__ import annotations

import re
from pathlib import Path

import vl_convert

from tracker.report.charts import VEGA_LITE_VERSION

STATIC = Path(__file__).resolve().parent.parent / "tracker" / "serve" / "static"


def main() -> None:
    """Write the bundle and print the versions to record in the README beside it."""
    bundle = vl_convert.javascript_bundle(vl_version=VEGA_LITE_VERSION)
    (STATIC / "vega-embed.js").write_text(bundle.rstrip() + "\n", encoding="utf-8")
    versions = {
        "vega": vl_convert.get_vega_version(),
        "vega-lite": VEGA_LITE_VERSION,
        "vega-embed": vl_convert.get_vega_embed_version(),
        "vl-convert-python": vl_convert.__version__ if hasattr(vl_convert, "__version__") else "?",
    }
    print(f"wrote {STATIC / 'vega-embed.js'} ({len(bundle):,} bytes): {versions}")
    readme = (STATIC / "README.md").read_text(encoding="utf-8")
    for name, version in versions.items():
        readme = re.sub(rf"(\| {re.escape(name)} \| )[^|]+(\|)", rf"\g<1>{version} \g<2>", readme)
    (STATIC / "README.md").write_text(readme, encoding="utf-8")


if __name__ == "__main__":
    main()
