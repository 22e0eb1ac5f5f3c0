//! The plan as a Mermaid graph.

use std::collections::HashMap;
use std::fmt::Write;

use crate::Plan;

impl Plan {
    /// A Mermaid `graph TD`: one subgraph per wave, one node per step (`name from → to`),
    /// an arrow from each in-plan upstream to its dependent.
    pub fn mermaid(&self) -> String {
        let mut ids: HashMap<&str, usize> = HashMap::new();
        for (i, s) in self.steps().enumerate() {
            ids.insert(&s.package, i);
        }
        let mut out = String::from("graph TD\n");
        for (w, steps) in self.waves.iter().enumerate() {
            let _ = writeln!(out, "  subgraph wave{}[\"wave {}\"]", w + 1, w + 1);
            for s in steps {
                let _ = writeln!(
                    out,
                    "    p{}[\"{} {} → {}\"]",
                    ids[s.package.as_str()],
                    escape(&s.package),
                    s.from,
                    s.to
                );
            }
            out.push_str("  end\n");
        }
        for s in self.steps() {
            for u in &s.upstreams {
                if let Some(&from) = ids.get(u.package.as_str()) {
                    let _ = writeln!(out, "  p{from} --> p{}", ids[s.package.as_str()]);
                }
            }
        }
        out
    }
}

/// Mermaid labels are quoted: write quotes as an entity.
fn escape(text: &str) -> String {
    text.replace('"', "#quot;")
}
