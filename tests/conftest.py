"""Shared pytest set-up for the layers that run without Odoo in-process.

`bank_api` lives inside the addon (so Odoo ships it) but never imports `odoo`:
we put the addon folder on sys.path and import it as the top-level package
`bank_api`, which is exactly how its unit tests prove it needs no Odoo.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "odoo_bank_crm", ROOT / "payment_tbank"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

# The harness (tools/) serves the Odoo and end-to-end layers.
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))
