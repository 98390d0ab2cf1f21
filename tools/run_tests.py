"""`make test`: every test layer in one pytest run, on a private PostgreSQL cluster.

Checks first what the Odoo layers need (Odoo 18, PostgreSQL, a free port),
with one clear line when something is missing. Arguments are passed to pytest
(e.g. `make test ARGS="tests/bank_api -x"`).
"""

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness
import odoo_env
import pgcluster


def main(argv):
    try:
        odoo_env.locate()
        bin_dir = pgcluster.find_pg_bin()
        user = pgcluster._run_as()
        running = pgcluster._is_running(bin_dir, user, pgcluster.cluster_dir(harness.TEST_CLUSTER, user))
        pgcluster.start(harness.TEST_CLUSTER, harness.TEST_PG_PORT)
    except (odoo_env.OdooNotFound, pgcluster.ClusterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return subprocess.call([sys.executable, "-m", "pytest", *argv], cwd=harness.ROOT)
    finally:
        if not running:
            pgcluster.stop(harness.TEST_CLUSTER)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
