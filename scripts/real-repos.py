#!/usr/bin/env python3
"""Tries the release cascade on real public Cargo repositories, checked against cargo.

    scripts/real-repos.py LOCKSTEP_BIN WORKDIR CLONE_URL_OR_DIR:START_CRATE [...]

For each repository: clones it into WORKDIR, writes a one-repository cascade.toml, plans
`--from START --bump minor` and compares the packages the plan decides about (released,
edited only, not released) with the closure `cargo metadata` gives (START and its transitive
workspace dependents over normal and build dependencies). Planning is timed against
`cargo metadata --no-deps --offline` in the same run. Then it runs the release for real and
checks, with cargo and git as the judges: `cargo metadata --offline` still resolves, every
released member's version went up once, every internal requirement admits its dependency's
new version, the new tags follow the tags the repository already had, one tag names one
version, and `lockstep tag-check` passes on every new tag. Packages that share START's tag
and version join the release (the plan notes them): the closure starts from them too.

Nothing here is committed into the project: the repositories are cloned into WORKDIR.
Prints one JSON line per repository and exits 1 if any check failed.
"""

import json
import os
import re
import subprocess
import sys
import time


def run(cmd, cwd=None, check=True, env=None):
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    if check and out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return out


GIT_ID = dict(os.environ, GIT_AUTHOR_NAME="real-repos", GIT_AUTHOR_EMAIL="real@example.com",
              GIT_COMMITTER_NAME="real-repos", GIT_COMMITTER_EMAIL="real@example.com")


def clone(source, root):
    """A clone with a work tree. A mirror may lack its largest blobs: those files are dropped
    in one commit on top, so the tree checks out (and is clean)."""
    run(["git", "clone", "-q", "--no-checkout", source, root])
    run(["git", "read-tree", "HEAD"], cwd=root)
    listing = run(["git", "ls-tree", "-r", "HEAD"], cwd=root).stdout.splitlines()
    entries = [(line.split()[2], line.split("\t", 1)[1]) for line in listing if " blob " in line]
    check = subprocess.run(["git", "cat-file", "--batch-check"], cwd=root, text=True,
                           input="".join(f"{oid}\n" for oid, _ in entries), capture_output=True)
    missing = [path for (oid, path), line in zip(entries, check.stdout.splitlines())
               if line.endswith(" missing")]
    if missing:
        for i in range(0, len(missing), 200):
            run(["git", "update-index", "--force-remove", "--"] + missing[i:i + 200], cwd=root)
        run(["git", "commit", "-q", "-m", f"test: drop {len(missing)} file(s) the mirror lacks"],
            cwd=root, env=GIT_ID)
    run(["git", "checkout", "-q", "-f", "HEAD"], cwd=root)


def metadata(root, no_deps=False):
    cmd = ["cargo", "metadata", "--format-version", "1", "--offline",
           "--manifest-path", os.path.join(root, "Cargo.toml")]
    if no_deps:
        cmd.append("--no-deps")
    return json.loads(run(cmd).stdout)


def closure(meta, start):
    """START and every workspace member that depends on it, transitively, by normal or
    build dependencies (dev-dependencies do not make a release)."""
    members = {p["id"]: p for p in meta["packages"] if p["id"] in meta["workspace_members"]}
    by_name = {p["name"]: p for p in members.values()}
    dependents = {name: set() for name in by_name}
    for p in members.values():
        for d in p["dependencies"]:
            if d["name"] in by_name and d.get("kind") in (None, "build"):
                # A path or registry dependency on a member, same name.
                dependents[d["name"]].add(p["name"])
    seen, todo = {start}, [start]
    while todo:
        for n in dependents[todo.pop()]:
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return seen, by_name


def timed(cmd, cwd=None, runs=5):
    best = None
    for _ in range(runs):
        t = time.perf_counter()
        run(cmd, cwd=cwd)
        took = time.perf_counter() - t
        best = took if best is None else min(best, took)
    return best


def admits(req, version):
    """A Cargo requirement admits version (caret by default); enough for `x.y.z`, `^`, `=`,
    `~`, `>=`, and comma lists."""
    v = tuple(int(x) for x in re.match(r"(\d+)\.(\d+)\.(\d+)", version).groups())
    for part in req.split(","):
        part = part.strip()
        m = re.match(r"(\^|=|~|>=|<=|<|>)?\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?", part)
        if not m:
            continue
        op = m.group(1) or "^"
        parts = [int(x) if x is not None else None for x in m.groups()[1:]]
        b = tuple(x or 0 for x in parts)
        if op == "=":
            ok = all(p is None or p == v[i] for i, p in enumerate(parts))
        elif op == "^":
            if b[0] > 0:
                ok = v >= b and v[0] == b[0]
            elif parts[1] is not None and b[1] > 0:
                ok = v >= b and v[0] == 0 and v[1] == b[1]
            else:
                ok = v >= b and v[:2] == b[:2] if parts[2] is not None else v[0] == 0
        elif op == "~":
            ok = v >= b and v[0] == b[0] and (parts[1] is None or v[1] == b[1])
        elif op == ">=":
            ok = v >= b
        elif op == ">":
            ok = v > b
        elif op == "<":
            ok = v < b
        else:
            ok = v <= b
        if not ok:
            return False
    return True


def try_repo(lockstep, workdir, source, start):
    name = os.path.basename(source.rstrip("/")).replace(".git", "") or "repo"
    if name == "repo":
        name = os.path.basename(os.path.dirname(source.rstrip("/"))).split("+")[-1]
    root = os.path.join(workdir, name)
    if not os.path.isdir(root):
        clone(source, root)
    run(["git", "fetch", "-q", "--tags", source], cwd=root, check=False)
    run(["git", "reset", "-q", "--hard"], cwd=root)
    run(["cargo", "metadata", "--format-version", "1", "--manifest-path",
         os.path.join(root, "Cargo.toml")])  # downloads what the offline runs need
    config = os.path.join(workdir, f"{name}.toml")
    with open(config, "w") as f:
        f.write(f'[[repo]]\nname = "{name}"\npath = "{name}"\n')
    before_tags = set(run(["git", "tag"], cwd=root).stdout.split())
    head_before = run(["git", "rev-parse", "HEAD"], cwd=root).stdout.strip()

    meta = metadata(root)
    plan_cmd = [lockstep, "release-cascade", "--config", config, "--from", start,
                "--bump", "minor", "--dry-run", "--json"]
    plan = json.loads(run(plan_cmd).stdout)
    # Packages that share START's tag and version join it (the plan's notes say so): the
    # closure starts from all of them.
    joined = {m.group(1) for n in plan.get("notes", [])
              for m in [re.match(r"(\S+) is released with .* keeps them at one version", n)] if m}
    truth, members = set(), {}
    for root_pkg in {start} | joined:
        part, members = closure(meta, root_pkg)
        truth |= part
    steps = [s for wave in plan["waves"] for s in wave]
    released = {s["package"] for s in steps if s.get("release", True)}
    edited = {s["package"] for s in steps if not s.get("release", True)}
    not_released = {x["package"] for x in plan.get("not_released", [])}
    decided = released | edited | not_released
    t_plan = timed(plan_cmd)
    t_meta = timed(["cargo", "metadata", "--format-version", "1", "--no-deps", "--offline",
                    "--manifest-path", os.path.join(root, "Cargo.toml")])
    # The repository as it stands, in its own tag convention (informative: a repository may
    # be between a version bump and its tag).
    status = run([lockstep, "release-cascade", "--config", config, "--status", "--json"])
    mismatched = [p["name"] for p in json.loads(status.stdout)["packages"]
                  if p["latest_tag"] is not None and not p["tag_matches"]]
    result = {
        "repo": name, "members": len(members), "start": start, "joined": sorted(joined),
        "status_tag_mismatches": mismatched,
        "closure": len(truth), "decided": len(decided), "released": len(released),
        "edited_only": len(edited), "not_released": len(not_released),
        "plan_s": round(t_plan, 3), "metadata_no_deps_s": round(t_meta, 3),
        "ratio_vs_metadata": round(t_meta / t_plan, 2), "problems": [],
    }
    problems = result["problems"]
    # Outside the normal/build closure, the plan may only edit (never release) a member whose
    # dev-dependency requirement on a released package no longer admits its new version.
    new_version = {s["package"]: s["to"] for s in steps if s.get("release", True)}
    dev_edited = set()
    for e in edited - truth:
        deps = members[e]["dependencies"] if e in members else []
        if any(d["kind"] == "dev" and d["name"] in new_version and d.get("req")
               and not admits(d["req"], new_version[d["name"]]) for d in deps):
            dev_edited.add(e)
    result["dev_edited"] = len(dev_edited)
    if decided - dev_edited != truth:
        problems.append(f"plan decides {sorted((decided - dev_edited) ^ truth)} differently from cargo metadata")

    # The real run, on the clone.
    out = run([lockstep, "release-cascade", "--config", config, "--from", start, "--bump",
               "minor", "--yes", "--jobs", "1"], check=False)
    if out.returncode != 0:
        problems.append(f"the release failed ({out.returncode}): {out.stderr[-1500:]}")
        print(json.dumps(result))
        return False
    after = metadata(root)  # raises when the workspace no longer resolves
    new_members = {p["name"]: p for p in after["packages"] if p["id"] in after["workspace_members"]}
    for s in steps:
        if not s.get("release", True):
            continue
        got = new_members[s["package"]]["version"]
        if got != s["to"]:
            problems.append(f"{s['package']} is {got}, the plan says {s['to']}")
    for p in new_members.values():
        for d in p["dependencies"]:
            dep = new_members.get(d["name"])
            if dep and d.get("req") and d.get("kind") in (None, "build") and not admits(d["req"], dep["version"]):
                problems.append(f"{p['name']} requires {d['name']} {d['req']}, which does not admit {dep['version']}")
    new_tags = set(run(["git", "tag", "--points-at", "HEAD"], cwd=root).stdout.split()) - before_tags
    expected = {s["tag"] for s in steps if s.get("release", True)}
    if new_tags != expected:
        problems.append(f"tags {sorted(new_tags)} differ from the plan's {sorted(expected)}")
    # One tag names one version.
    by_tag = {}
    for s in steps:
        if s.get("release", True):
            by_tag.setdefault(s["tag"], set()).add(s["to"])
    for t, versions in by_tag.items():
        if len(versions) > 1:
            problems.append(f"tag {t} names versions {sorted(versions)}")
    # lockstep's own tag-check (the pre-push hook) reads every new tag back against the
    # manifests at the tagged commit.
    if new_tags:
        check = run([lockstep, "tag-check", "--repo", root] + sorted(new_tags), check=False)
        if check.returncode != 0:
            problems.append(f"tag-check failed: {check.stdout[-800:]}")
    shapes = {re.sub(r"\d+\.\d+\.\d+.*$", "", t) for t in before_tags}
    for t in new_tags:
        if re.sub(r"\d+\.\d+\.\d+.*$", "", t) not in shapes:
            problems.append(f"tag {t} does not follow any existing tag's shape")
    commits = run(["git", "rev-list", "--count", f"{head_before}..HEAD"], cwd=root)
    result["release_commits"] = int(commits.stdout.strip())
    if result["release_commits"] != 1:
        problems.append(f"{result['release_commits']} release commits, expected 1")
    print(json.dumps(result))
    return not problems


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    lockstep, workdir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.makedirs(workdir, exist_ok=True)
    ok = True
    for arg in sys.argv[3:]:
        source, start = arg.rsplit(":", 1)
        ok = try_repo(lockstep, workdir, source, start) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
