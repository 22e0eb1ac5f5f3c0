//! pnpm workspaces: the member patterns of `pnpm-workspace.yaml`, which pnpm reads instead of
//! `package.json`'s `workspaces`. Only the `packages:` key is read; no YAML library is needed
//! for a list of strings.

/// The workspace a `pnpm-workspace.yaml` describes: its `packages:` patterns as members,
/// those starting with `!` as excluded.
pub(crate) fn workspace(text: &str) -> lockstep_pins::Workspace {
    let mut ws = lockstep_pins::Workspace::default();
    for pattern in pnpm_packages(text) {
        match pattern.strip_prefix('!') {
            Some(excluded) => ws.exclude.push(excluded.to_owned()),
            None => ws.members.push(pattern),
        }
    }
    ws
}

/// The `packages:` list of a `pnpm-workspace.yaml`: a block list (`- "packages/*"`) or a flow
/// list (`[a, b]`), quotes removed. Only that key is read.
fn pnpm_packages(text: &str) -> Vec<String> {
    let unquote = |s: &str| {
        let s = s.trim();
        let s = s.split(" #").next().unwrap_or(s).trim();
        s.trim_matches(|c| c == '"' || c == '\'').to_owned()
    };
    let mut out = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("packages:") else {
            continue;
        };
        let rest = rest.trim();
        if let Some(flow) = rest.strip_prefix('[') {
            let flow = flow.split(']').next().unwrap_or("");
            out.extend(flow.split(',').map(unquote).filter(|s| !s.is_empty()));
            break;
        }
        while let Some(next) = lines.peek() {
            let t = next.trim();
            if t.is_empty() || t.starts_with('#') {
                lines.next();
                continue;
            }
            if !next.starts_with([' ', '\t', '-']) {
                break;
            }
            if let Some(item) = t.strip_prefix('-') {
                let item = unquote(item);
                if !item.is_empty() {
                    out.push(item);
                }
            }
            lines.next();
        }
        break;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pnpm_workspace_packages_are_read_in_block_and_flow_form() {
        let block = "# comment\npackages:\n  # the libraries\n  - \"packages/*\"\n  - 'apps/*' # apps\n  - \"!**/test/**\"\ncatalog:\n  react: ^18\n";
        assert_eq!(
            pnpm_packages(block),
            ["packages/*", "apps/*", "!**/test/**"]
        );
        assert_eq!(pnpm_packages("packages: [a, \"b/*\"]\n"), ["a", "b/*"]);
        assert!(pnpm_packages("catalog:\n  - x\n").is_empty());
        let ws = workspace(block);
        assert_eq!(ws.members, ["packages/*", "apps/*"]);
        assert_eq!(ws.exclude, ["**/test/**"]);
    }
}
