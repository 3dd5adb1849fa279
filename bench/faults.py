"""Fault injection: kill reindex, fill the disk, damage index files, fuzz queries; count what held.

Each trial runs the real commands in child processes against a small generated
corpus and checks the promises: a killed run leaves the live index answering
and the next run working; a full disk gives exit 2 and one clear message and
leaves the live index as it was; a damaged file gives IndexCorruptError (never
a traceback) and ``reindex --full`` recovers; any query gives results or a
QueryError. The disk-full trials need root (a tmpfs is mounted).

    .venv/bin/python -m bench.faults --kills 10 --disk 10 --corruptions 30 --fuzz 2000
"""

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def cli(*args, timeout=600):
    return subprocess.run(
        [str(BIN / args[0]), *map(str, args[1:])], capture_output=True, text=True, timeout=timeout, check=False
    )


def answers(index_dir, expected):
    """Whether a fresh process searches the index and finds `expected` posts."""
    import indexer

    with indexer.open_index(index_dir) as ix:
        return ix.doc_count == expected and ix.search("课后服务").total >= 1


def write_posts(root, count, seed):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from fixture_posts import write_post

    rng = random.Random(seed)
    for i in range(count):
        body = "".join(rng.choice("课后服务双减政策经济增长市场公司") for _ in range(rng.randint(50, 400)))
        write_post(root, f"f{i % 7}/{i:04d}.md", title=f"第{i}篇 课后服务", body=f"<p>{body}</p>")


def kills(work, trials, rng):
    """Kill a full rebuild's parent at a random moment: the old index answers, workers die, the next run works."""
    root, index_dir = work / "posts", work / "kill-index"
    assert cli("reindex", root, "--index", index_dir, "--quiet").returncode == 0
    held = 0
    for _ in range(trials):
        proc = subprocess.Popen(
            [str(BIN / "reindex"), str(root), "--index", str(index_dir), "--full", "--jobs", "2", "--quiet"]
        )
        time.sleep(rng.uniform(0.5, 4.0))
        children = _children(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        time.sleep(0.5)
        ok = not any(_alive(c) for c in children) and answers(index_dir, 600)
        run = cli("reindex", root, "--index", index_dir, "--quiet")
        held += ok and run.returncode == 0 and answers(index_dir, 600)
    return held


def disk_full(work, trials, rng):
    """Run reindex on a nearly full tmpfs: exit 0 or 2 with the message, never a traceback; live index intact."""
    root = work / "posts"
    disk = work / "disk"
    disk.mkdir(exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)], capture_output=True).returncode:
        return None
    held, exits = 0, {}
    try:
        for trial in range(trials):
            index_dir = disk / "index"
            shutil.rmtree(index_dir, ignore_errors=True)
            (disk / "filler").unlink(missing_ok=True)
            first = cli("reindex", root, "--index", index_dir, "--quiet", "--jobs", "1")
            if first.returncode != 0:
                continue
            for path in rng.sample(sorted(root.rglob("*.md")), 150):  # changed: re-indexed
                os.utime(path, ns=(time.time_ns(), time.time_ns() + trial * 10**9))
            free = shutil.disk_usage(disk).free
            (disk / "filler").write_bytes(b"\0" * max(0, free - rng.randint(0, free // 2)))
            full = rng.random() < 0.5
            run = cli("reindex", root, "--index", index_dir, "--jobs", "2", *(["--full"] if full else []))
            exits[run.returncode] = exits.get(run.returncode, 0) + 1
            clean = "Traceback" not in run.stderr and (
                run.returncode == 0 or (run.returncode == 2 and "No space left" in run.stderr)
            )
            (disk / "filler").unlink()
            answered = answers(index_dir, 600)
            again = cli("reindex", root, "--index", index_dir, "--quiet")
            ok = clean and answered and again.returncode == 0
            held += ok
            if not ok:
                print(
                    f"  disk trial {trial} (full={full}): exit {run.returncode}, answered={answered}, "
                    f"then reindex exit {again.returncode}: {(run.stderr + again.stderr).strip()[-300:]}",
                    file=sys.stderr,
                )
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
    print(f"  disk-full runs by exit status: {exits}", flush=True)
    return held


def corruptions(work, trials, rng):
    """Damage one index file: searching gives results or IndexCorruptError, the CLI no traceback, --full recovers."""
    import indexer

    root, index_dir = work / "posts", work / "damage-index"
    assert cli("reindex", root, "--index", index_dir, "--quiet", "--full").returncode == 0
    counts = {"held": 0, "detected": 0, "unnoticed": 0}
    for _ in range(trials):
        gen_dir = next(index_dir.glob("gen-*"))
        files = [p for p in gen_dir.iterdir() if p.is_file()] + [index_dir / "CURRENT"]
        target = rng.choice(files)
        data = bytearray(target.read_bytes())
        how = rng.choice(["truncate", "zero", "flip"])
        if how == "truncate":
            data = data[: rng.randint(0, len(data))]
        elif how == "zero":
            data = bytearray(len(data))
        else:
            for _ in range(rng.randint(1, 16)):
                if data:
                    data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        target.write_bytes(bytes(data))
        outcome = "unnoticed"
        try:
            with indexer.open_index(index_dir) as ix:
                for q in ("课后服务", "经济", "第1篇", ""):
                    ix.search(q)
                ix.stats()
        except indexer.IndexCorruptError:
            outcome = "detected"
        except indexer.SearchEngineError:
            outcome = "detected"  # e.g. IndexVersionError for a damaged zhsearch.json: also "run --full"
        except Exception as exc:  # noqa: BLE001 (what this counts)
            outcome = f"raw {type(exc).__name__}"
        search = cli("zhsearch", "search", "课后服务", "--index", index_dir)
        recovered = cli("reindex", root, "--index", index_dir, "--full", "--quiet").returncode == 0
        counts[outcome] = counts.get(outcome, 0) + 1
        counts["held"] += outcome in ("detected", "unnoticed") and "Traceback" not in search.stderr and recovered
    return counts


def fuzz(work, trials, rng):
    """Random queries: results or QueryError, nothing else."""
    import indexer

    alphabet = list("课后服务的是双减 OR-\"'：:title分类作者() ＯＲ\t\n\\%*?") + [chr(rng.randrange(0x20, 0x3000))]
    counts = {"results": 0, "QueryError": 0}
    with indexer.open_index(work / "damage-index") as ix:
        for _ in range(trials):
            q = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
            if rng.random() < 0.1:
                q += "\ud800"
            if rng.random() < 0.05:
                q = " OR ".join(rng.choice("的是在和了有不人中大") for _ in range(rng.randint(20, 120)))
            try:
                ix.search(q, page=rng.randint(1, 3))
                counts["results"] += 1
            except indexer.QueryError:
                counts["QueryError"] += 1
            except Exception as exc:  # noqa: BLE001 (what this counts)
                counts[type(exc).__name__] = counts.get(type(exc).__name__, 0) + 1
    return counts


def _children(pid):
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n")[0])
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--disk", type=int, default=10)
    ap.add_argument("--corruptions", type=int, default=30)
    ap.add_argument("--fuzz", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_posts(work / "posts", 600, 0)
        os.environ.setdefault("ZHSEARCH_INDEX_DIR", str(work / "unused"))
        print(f"kills: {kills(work, args.kills, rng)} of {args.kills} held", flush=True)
        held = disk_full(work, args.disk, rng)
        print(f"disk full: {'no tmpfs (not root)' if held is None else f'{held} of {args.disk} held'}", flush=True)
        print(f"corruptions ({args.corruptions}): {corruptions(work, args.corruptions, rng)}", flush=True)
        print(f"fuzz ({args.fuzz}): {fuzz(work, args.fuzz, rng)}", flush=True)


if __name__ == "__main__":
    main()
