"""One incremental reindex in a fresh process, like a ``reindex`` run from cron.

``python -m bench.cold SYSTEM SOURCE INDEX [JOBS [OPTIONS_JSON]]`` prints ``{"s": ..., "report": ...}``;
the time covers importing the system and the update call, not interpreter start-up.
"""

import json
import sys
import time


def main(argv=None):
    """Time import + ``update`` for one system and print the result as JSON."""
    system, source, index_dir, *rest = argv if argv is not None else sys.argv[1:]
    jobs = int(rest[0]) if rest and rest[0] != "None" else None
    options = json.loads(rest[1]) if len(rest) > 1 else {}
    started = time.perf_counter()
    from bench.systems import SYSTEMS

    report = SYSTEMS[system](**options).update(source, index_dir, jobs)
    print(json.dumps({"s": time.perf_counter() - started, "report": report}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
